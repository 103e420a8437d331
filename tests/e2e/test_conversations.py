"""Whole conversations through the hub and the running engine on loopback."""

from __future__ import annotations

import hashlib
import re
import sqlite3

import pytest

from bot.city import load_city
from bot.launcher import Stack
from bot.plain_japanese import check_turn
from bot.procedures import PROCEDURE_INTENTS, load_catalog
from tests.e2e.conftest import Resident

CATALOG = load_catalog()
CITY = load_city()
OPENERS = {
    "card_apply": "マイナンバーカードを新しく作りたいです",
    "card_receive": "交付通知書のはがきが届いたので、カードを受け取りたいです",
    "card_renew": "カードの有効期限が近いので更新したいです",
    "card_lost": "マイナンバーカードをなくしました",
    "pin_forgot": "暗証番号を忘れてしまいました",
    "portal_login": "マイナポータルにログインしたいです",
    "smartphone_cert": "スマホにマイナンバーカードを入れたいです",
    "health_insurance": "マイナ保険証の登録をしたいです",
    "bank_account": "公金受取口座を登録したいです",
    "child_allowance": "児童手当の認定請求をネットでしたいです",
    "childcare": "保育園の申し込みをネットでしたいです",
    "pregnancy": "母子手帳をもらう妊娠の届けを出したいです",
    "nursing_care": "介護の申請をネットでしたいです",
    "disaster_certificate": "罹災証明書を申請したいです",
    "moving": "引っ越しの転出届をネットで出したいです",
    "convenience_store": "コンビニで住民票を取りたいです",
    "tax_filing": "確定申告をマイナンバーカードでしたいです",
    "car_ownership": "車庫証明をネットで申請したいです",
}
PROGRESS = re.compile(r"手順 (\d+)つめ（全部で(\d+)）")


def progress(texts: list[str]) -> tuple[int, int]:
    match = PROGRESS.search(texts[-1])
    assert match, texts
    return int(match.group(1)), int(match.group(2))


def begin(resident: Resident, intent: str, device: str = "iPhone") -> list[str]:
    """Open a procedure by typing, answering the device question if asked; all the bot said."""
    texts = resident.say(OPENERS[intent])
    if device in resident.buttons and "できました" not in resident.buttons:
        texts += resident.press(device)
    return texts


def go_on(resident: Resident, intent: str) -> list[str]:
    """Carry on from the step on screen: できました, or at a step with choices the one that leads on."""
    number, _ = progress([message["text"] for message in resident.messages])
    step = CATALOG[intent].steps_for("iphone")[number - 1]
    onward = next((choice for choice in step.choices if choice.then == "next"), None)
    return resident.press(onward.label if onward else "できました")


def assert_turn_shape(messages: list[dict]) -> None:
    """The turn's buttons come once, on its last message; every message keeps the plain-Japanese limits."""
    assert messages and messages[-1]["quick_replies"], messages
    assert all(not message["quick_replies"] for message in messages[:-1]), messages
    assert check_turn([message["text"] for message in messages]) == [], messages


def online_here(intent: str) -> bool:
    key = CATALOG[intent].city_key
    return key is None or CITY.online_services[key]


@pytest.mark.parametrize("intent", PROCEDURE_INTENTS)
def test_happy_path_of_every_procedure(resident: Resident, intent: str) -> None:
    procedure = CATALOG[intent]
    texts = begin(resident, intent)
    assert any(procedure.summary in text for text in texts)
    assert_turn_shape(resident.messages)
    if not online_here(intent):
        assert CITY.helpdesk.name in "\n".join(texts)
        return
    number, total = progress(texts)
    assert (number, total) == (1, len(procedure.steps_for("iphone")))
    while number < total:
        texts = go_on(resident, intent)
        assert_turn_shape(resident.messages)
        assert progress(texts)[0] > number
        number = progress(texts)[0]
    texts = go_on(resident, intent)
    assert procedure.done_summary in texts and procedure.done_next in texts
    assert_turn_shape(resident.messages)


def test_every_turn_carries_its_buttons_once_and_keeps_the_limits(resident: Resident) -> None:
    steps = (
        lambda: begin(resident, "bank_account"),
        lambda: resident.press("わからない"),
        lambda: resident.press("できません"),
        lambda: resident.say("マイナンバーって教えて大丈夫？"),
        lambda: resident.press("人と話したい"),
        lambda: resident.press("続きから"),
    )
    for step in steps:
        step()
        assert_turn_shape(resident.messages)


def test_no_path_gives_the_fix_then_asks_again(resident: Resident) -> None:
    texts = begin(resident, "portal_login", device="Android")
    step = CATALOG["portal_login"].steps_for("android")[0]
    texts = resident.say("できませんでした")
    said = "\n".join(texts)
    # The causes that happen on an Android, the most likely first; an iPhone's are not said.
    likely = [problem for problem in step.problems if problem.applies_to("android")]
    assert likely[0].fix in said
    assert all(problem.fix not in said for problem in step.problems if problem not in likely)
    assert "できました" in resident.buttons
    texts = resident.press("できません")
    assert CITY.helpdesk.phone in "\n".join(texts)


def test_dont_understand_then_repeat_then_back(resident: Resident) -> None:
    begin(resident, "moving")
    first = resident.messages[-1]["text"]
    second = resident.press("できました")[-1]
    plainer = resident.say("ちょっと意味がわからないです")
    assert CATALOG["moving"].steps_for("iphone")[1].plainer("iphone") in plainer
    assert resident.press("もう一度")[-1] == second
    assert resident.say("前に戻って")[-1] == first


def test_lost_card_number_comes_first(resident: Resident) -> None:
    texts = resident.say("財布ごとマイナンバーカードを落としてしまった")
    assert "0120-95-0178" in texts[0]


def test_device_branch(resident: Resident) -> None:
    resident.say(OPENERS["portal_login"])
    assert {"iPhone", "Android", "パソコン"} <= set(resident.buttons)
    iphone = resident.press("iPhone")[-1]
    other = Resident(resident.hub_url)
    other.say(OPENERS["portal_login"])
    pc = other.say("パソコンを使っています")[-1]
    assert iphone != pc
    assert progress([iphone])[0] == progress([pc])[0] == 1


def test_topic_switch_asks_first(resident: Resident) -> None:
    begin(resident, "bank_account")
    resident.press("できました")
    texts = resident.say(OPENERS["convenience_store"])
    assert "途中" in texts[-1] and "はい" in resident.buttons
    texts = resident.press("いいえ")
    assert progress(texts)[0] == 2
    resident.say(OPENERS["convenience_store"])
    texts = resident.press("はい")
    assert any(CATALOG["convenience_store"].summary in text for text in texts)


def test_kana_only_and_voice_style_input_is_understood(resident: Resident) -> None:
    texts = resident.say("あんしょうばんごうをわすれてしまいました")
    assert any(CATALOG["pin_forgot"].summary in text for text in texts)


def test_a_person_on_request(resident: Resident) -> None:
    texts = resident.say("人と話したいです")
    assert CITY.helpdesk.phone in "\n".join(texts)


def test_resident_back_days_later_is_offered_to_continue(resident: Resident, stack: Stack) -> None:
    begin(resident, "moving")
    reached = progress([resident.press("できました")[-1]])
    identity_hash = hashlib.sha256((resident.session or "").encode()).hexdigest()
    with sqlite3.connect(stack.data_dir / "hub.db") as hub_db:
        (conversation,) = hub_db.execute(
            "select id from conversations where identity_hash = ?", [identity_hash]
        ).fetchone()
    # Rasa starts a new session when the last message is older than session_expiration_time.
    # Three days pass: every event of this conversation (column and stored JSON) moves into the past.
    with sqlite3.connect(stack.data_dir / "tracker.db") as tracker_db:
        moved = tracker_db.execute(
            "update events set timestamp = timestamp - :shift,"
            " data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - :shift)"
            " where sender_id = :conversation",
            {"shift": 3 * 24 * 3600, "conversation": conversation},
        ).rowcount
    assert moved > 0

    texts = resident.say("できました")
    assert f"{reached[0]}つめの手順" in texts[-1]
    assert "続きから" in resident.buttons
    assert progress(resident.press("続きから")) == reached


def test_an_unknown_phone_is_asked_about_kindly(resident: Resident) -> None:
    resident.say(OPENERS["portal_login"])
    texts = resident.say("らくらくホンです")
    assert texts and "らくらくホン" not in "\n".join(texts)
    assert {"iPhone", "Android", "パソコン"} <= set(resident.buttons)
    assert progress(resident.press("Android"))[0] == 1


def test_answers_in_own_words_and_stop_in_one_tap(resident: Resident) -> None:
    texts = resident.say("カードなくしてもうたんやけど、どないしたらええの")
    assert "0120-95-0178" in texts[0]
    assert "0570-783-578" in "\n".join(resident.say("電話がつながらない"))
    resident.press("できました")
    texts = resident.say("いえのなかで なくしたかも")
    steps = CATALOG["card_lost"].steps_for("iphone")
    assert progress(texts)[0] == [step.id for step in steps].index("report_city") + 1
    resident.press("人と話したい")
    texts = resident.press("やめる")
    assert "やめます" in texts[0]


def test_a_typed_pin_repeats_the_step_instead_of_changing_topic(resident: Resident) -> None:
    begin(resident, "bank_account")
    step = resident.messages[-1]["text"]
    texts = resident.say("暗証番号は1234です")
    assert texts[-1] == step
    assert not any(CATALOG["pin_forgot"].summary in text for text in texts)


def test_a_lone_surrogate_gets_an_answer(resident: Resident) -> None:
    texts = resident.say("\ud83d")
    assert texts and all(texts)
    assert_turn_shape(resident.messages)


def test_asking_for_mynapoint_and_a_leaked_number(resident: Resident) -> None:
    assert "終わりました" in resident.say("マイナポイントはまだもらえますか")[0]
    assert "市区町村の窓口" in "\n".join(resident.say("マイナンバーを教えてしまった"))


def test_a_question_gets_a_short_answer_then_its_guide_in_one_tap(resident: Resident) -> None:
    answer = resident.say("更新は無料ですか")
    assert "無料" in answer[0]
    assert CATALOG["card_renew"].title in answer[-1]
    assert "案内してほしい" in resident.buttons
    opened = "\n".join(resident.press("案内してほしい"))
    assert CATALOG["card_renew"].title in opened
    assert_turn_shape(resident.messages)
