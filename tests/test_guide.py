"""The guide's decisions, turn by turn, on the real procedure catalog and city configuration."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import replace

import pytest

from bot.city import JAPAN, load_city
from bot.glossary import load_glossary
from bot.guide import (
    DEVICE_REPLIES,
    MAX_STEP_FAILURES,
    MENU_REPLIES,
    RESUME_REPLIES,
    YES_NO_REPLIES,
    Guide,
    GuideState,
    Turn,
)
from bot.guide import MENU_GROUPS as guide_groups_table
from bot.plain_japanese import check_turn
from bot.procedures import load_catalog
from bot.wording import load_wording

WORDING = load_wording()
PROCEDURES = sorted(load_catalog())  # every procedure file, several of them found by one intent
# A weekday morning, when the example city's desk is open.
OPEN_HOURS = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=JAPAN)
SATURDAY_NIGHT = datetime.datetime(2026, 11, 28, 22, 30, tzinfo=JAPAN)


@pytest.fixture(scope="module")
def guide() -> Guide:
    return Guide(load_catalog(), load_city(), load_glossary(), WORDING, clock=lambda: OPEN_HOURS)


def texts(turn: Turn) -> list[str]:
    """The turn's messages as the resident reads them."""
    return [reply.text or WORDING[reply.response or ""].format(**reply.params) for reply in turn.replies]


def guide_groups() -> dict[str, tuple[str, tuple]]:
    return dict(guide_groups_table)


def progress(text: str) -> tuple[int, int]:
    match = re.search(r"手順 (\d+)つめ（全部で(\d+)）", text)
    assert match, text
    return int(match.group(1)), int(match.group(2))


def start(guide: Guide, procedure: str, device: str = "iphone") -> Turn:
    """Open a procedure as its button does: its intent, with the procedure named when the intent finds several."""
    turn = guide.respond(GuideState(), guide.catalog[procedure].intent, {"procedure_id": procedure})
    if turn.state.awaiting == "device":
        turn = guide.respond(turn.state, "inform_device", {"device": device})
    return turn


def go_on(guide: Guide, turn: Turn) -> Turn:
    """The resident's answer that carries on: できました, or at a step with choices the one that leads on."""
    state = turn.state
    steps = guide.catalog[state.procedure or ""].steps_for(state.device)
    onward = next((c for c in steps[state.step].choices if c.then == "next"), None)
    if onward is not None:
        return guide.respond(state, "nlu_fallback", text=onward.label)
    return guide.respond(state, "affirm")


@pytest.fixture(scope="module")
def all_online(guide: Guide) -> Guide:
    """The guide for a city that takes every application online."""
    city = replace(guide.city, online_services=dict.fromkeys(guide.city.online_services, True))
    return Guide(guide.catalog, city, guide.glossary, guide.wording, clock=guide.clock)


@pytest.mark.parametrize("intent", PROCEDURES)
def test_happy_path_reaches_the_summary(all_online: Guide, intent: str) -> None:
    guide = all_online
    procedure = guide.catalog[intent]
    turn = start(guide, intent)
    total = len(procedure.steps_for("iphone"))
    assert progress(texts(turn)[-1]) == (1, total)
    for number in range(2, total + 1):
        turn = go_on(guide, turn)
        assert progress(texts(turn)[-1])[1] == total
        assert progress(texts(turn)[-1])[0] >= number
        assert turn.quick_replies
        if progress(texts(turn)[-1])[0] == total:
            break
    turn = go_on(guide, turn)
    ending = procedure.ending_for("iphone")
    assert ending.summary in texts(turn)
    assert ending.next in texts(turn)
    assert turn.state.procedure is None


@pytest.mark.parametrize("intent", PROCEDURES)
def test_no_problem_path_gives_fixes_then_a_person(all_online: Guide, intent: str) -> None:
    guide = all_online
    turn = start(guide, intent)
    steps = guide.catalog[intent].steps_for("iphone")
    at = next(i for i, step in enumerate(steps) if not any(c.intent == "deny" for c in step.choices))
    turn = replace(turn, state=replace(turn.state, step=at))
    step = steps[at]
    turn = guide.respond(turn.state, "deny")
    said = "\n".join(texts(turn))
    assert all(problem.fix in said for problem in step.problems if problem.applies_to("iphone"))
    assert turn.state.step == at
    for _ in range(MAX_STEP_FAILURES - 1):
        turn = guide.respond(turn.state, "deny")
    assert turn.state.handoff_reason == "step_failed"
    assert guide.city.helpdesk.phone in "\n".join(texts(turn))


def test_dont_understand_gives_a_second_wording(guide: Guide) -> None:
    turn = start(guide, "portal_login", device="android")
    step = guide.catalog["portal_login"].steps_for("android")[0]
    again = guide.respond(turn.state, "dont_understand")
    assert step.plainer("android") in texts(again)
    assert step.plainer("android") != step.instruction("android")


def test_repeat_says_the_step_unchanged(guide: Guide) -> None:
    turn = start(guide, "bank_account")
    turn = guide.respond(turn.state, "affirm")
    again = guide.respond(turn.state, "repeat")
    assert texts(again)[-1] == texts(turn)[-1]
    assert again.state.step == turn.state.step


def test_go_back_returns_to_the_previous_step(guide: Guide) -> None:
    turn = start(guide, "moving")
    first = texts(turn)[-1]
    turn = guide.respond(turn.state, "affirm")
    turn = guide.respond(turn.state, "go_back")
    assert texts(turn)[-1] == first
    assert turn.state.step == 0
    turn = guide.respond(turn.state, "go_back")
    assert "最初の手順" in texts(turn)[0]


def test_device_branch_changes_the_steps(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "portal_login")
    assert turn.state.awaiting == "device"
    assert turn.quick_replies == DEVICE_REPLIES
    iphone = guide.respond(turn.state, "inform_device", {"device": "iphone"})
    pc = guide.respond(turn.state, "inform_device", {"device": "pc"})
    assert texts(iphone)[-1] != texts(pc)[-1]


def test_lost_card_gives_the_suspension_number_first(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "card_lost")
    assert "0120-95-0178" in texts(turn)[0]


def test_topic_switch_asks_before_leaving(guide: Guide) -> None:
    turn = start(guide, "bank_account")
    turn = guide.respond(turn.state, "affirm")
    asked = guide.respond(turn.state, "moving", text="引っ越しの手続きもしたい")
    assert asked.state.awaiting == "switch"
    assert asked.quick_replies == YES_NO_REPLIES
    kept = guide.respond(asked.state, "deny")
    assert kept.state.procedure == "bank_account" and kept.state.step == 1
    switched = guide.respond(asked.state, "affirm")
    assert switched.state.procedure == "moving" and switched.state.step == 0


def test_lost_card_interrupts_with_the_number_before_the_question(guide: Guide) -> None:
    turn = start(guide, "bank_account")
    asked = guide.respond(turn.state, "card_lost")
    assert "0120-95-0178" in texts(asked)[0]
    assert asked.state.awaiting == "switch"


def test_returning_resident_is_offered_to_continue(guide: Guide) -> None:
    turn = start(guide, "moving")
    turn = guide.respond(turn.state, "affirm")
    back = replace(turn.state, returning=True)
    offer = guide.respond(back, "greet")
    assert offer.quick_replies == RESUME_REPLIES
    assert "2つめの手順" in texts(offer)[0]
    resumed = guide.respond(offer.state, "resume")
    assert progress(texts(resumed)[-1])[0] == 2
    assert not resumed.state.returning


def test_two_fallbacks_in_a_row_offer_a_person(guide: Guide) -> None:
    first = guide.respond(GuideState(), "nlu_fallback")
    assert first.state.handoff_reason is None
    second = guide.respond(first.state, "nlu_fallback")
    assert second.state.handoff_reason == "not_understood"
    assert guide.city.helpdesk.phone in "\n".join(texts(second))


def test_a_recognised_message_resets_the_fallback_count(guide: Guide) -> None:
    first = guide.respond(GuideState(), "nlu_fallback")
    greeted = guide.respond(first.state, "greet")
    again = guide.respond(greeted.state, "nlu_fallback")
    assert again.state.handoff_reason is None


def test_asking_for_a_person_works_inside_a_question(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "portal_login")
    person = guide.respond(turn.state, "human_handoff")
    assert person.state.handoff_reason == "asked"
    assert person.state.procedure == "portal_login"


def test_jargon_is_explained_once(guide: Guide) -> None:
    turn = start(guide, "portal_login")
    said = texts(turn)
    explanations = [text for text in said if text.startswith("ことば：")]
    assert explanations, said
    term = explanations[0].split("「")[1].split("」")[0]
    later = guide.respond(guide.respond(turn.state, "repeat").state, "repeat")
    assert not any(text.startswith(f"ことば：「{term}」") for text in texts(later))


def test_outside_a_procedure_the_menu_is_offered(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "affirm")
    assert turn.quick_replies == MENU_REPLIES


def test_city_without_online_service_sends_to_the_counter(guide: Guide) -> None:
    offline = [key for key, online in guide.city.online_services.items() if not online]
    for procedure in (p for p in guide.catalog.values() if p.city_key in offline):
        turn = guide.respond(GuideState(), procedure.intent, {"procedure_id": procedure.id})
        said = texts(turn)
        assert turn.state.procedure is None and check_turn(said) == [], (procedure.id, said)
        shown = "\n".join(said)
        assert "ネットでできません" in shown and guide.city.helpdesk.name in shown
        assert guide.city.helpdesk.hours in shown, "when to go"
        assert all(item in shown for item in procedure.bring), "what to bring"


def test_an_unrecognised_device_is_asked_again(guide: Guide) -> None:
    turn = start(guide, "portal_login")
    asked = guide.respond(replace(turn.state, device=None), "inform_device")
    assert asked.state.awaiting == "device"
    assert asked.quick_replies == DEVICE_REPLIES


def test_an_unknown_phone_at_the_device_question_is_met_kindly(guide: Guide) -> None:
    asked = guide.respond(GuideState(), "portal_login")
    for name in ("らくらくホン", "arrows"):
        turn = guide.respond(asked.state, "inform_device", {"device": name}, text=f"{name}です")
        assert turn.replies[0].response == "guide_device_unknown"
        assert turn.quick_replies == DEVICE_REPLIES and turn.state.awaiting == "device"
        assert name not in "\n".join(texts(turn))


def test_a_password_read_as_a_device_repeats_the_step(guide: Guide) -> None:
    turn = start(guide, "bank_account")
    answer = guide.respond(turn.state, "inform_device", {"device": "ABC"}, text="ぱすわーどはABC12345です")
    assert texts(answer)[-1] == texts(turn)[-1] and answer.state.device == "iphone"
    assert "ABC" not in "\n".join(texts(answer))


def test_stop_after_a_handoff_offer_stops_and_resume_takes_one_tap(guide: Guide) -> None:
    turn = start(guide, "bank_account")
    offered = guide.respond(guide.respond(turn.state, "deny").state, "deny")
    assert offered.state.handoff_reason == "step_failed"
    stopped = guide.respond(offered.state, "deny", text="やめる")
    assert stopped.state.procedure is None and stopped.replies[0].response == "guide_stopped"
    resumed = guide.respond(offered.state, "resume", text="/resume")
    assert texts(resumed)[-1] == texts(turn)[-1]
    paused = guide.respond(turn.state, "goodbye", text="また今度")
    assert texts(guide.respond(paused.state, "resume", text="/resume"))[-1] == texts(turn)[-1]


def test_answers_in_own_words_at_a_step(all_online: Guide) -> None:
    guide = all_online
    allowance = start(guide, "child_allowance")
    moved_question = [step.id for step in guide.catalog["child_allowance"].steps].index("check_certificate")
    at_question = replace(allowance.state, step=moved_question)
    not_moved = guide.respond(at_question, "moving", text="ひっこしはしてないです")
    assert not_moved.state.procedure == "child_allowance" and not_moved.state.step == moved_question + 1
    pin = guide.respond(start(guide, "pin_forgot").state, "affirm")
    digits = guide.respond(pin.state, "nlu_fallback", text="すうじの4けたのほう")
    assert digits.state.step == 2
    lost = guide.respond(guide.respond(GuideState(), "card_lost").state, "affirm")
    at_home = guide.respond(lost.state, "card_lost", text="いえのなかで なくしたかも")
    steps = [step.id for step in guide.catalog["card_lost"].steps_for(None)]
    assert at_home.state.step == steps.index("report_city")
    no_line = guide.respond(guide.respond(GuideState(), "card_lost").state, "deny", text="電話がつながらない")
    said = "\n".join(texts(no_line))
    assert "0570-783-578" in said and "050-3818-1250" in said


def test_choosing_not_to_register_is_no_failure(guide: Guide) -> None:
    turn = start(guide, "health_insurance")
    declined = guide.respond(turn.state, "deny", text="登録しない")
    said = "\n".join(texts(declined))
    assert "資格確認書" in said and "うまくいかない" not in said and "おつかれさまでした" not in said
    assert declined.state.procedure is None


def test_the_pc_branch_of_the_smartphone_procedure_ends_with_what_to_do_instead(guide: Guide) -> None:
    turn = start(guide, "smartphone_cert", device="pc")
    ended = guide.respond(turn.state, "affirm")
    said = "\n".join(texts(ended))
    assert "おつかれさまでした" not in said and "スマホをお持ちなら" in said


def test_at_night_the_handoff_says_when_the_desk_opens_and_what_works_now(guide: Guide) -> None:
    night = Guide(guide.catalog, guide.city, guide.glossary, guide.wording, clock=lambda: SATURDAY_NIGHT)
    person = night.respond(GuideState(), "human_handoff")
    said = "\n".join(texts(person))
    assert "職員がお手伝いします" not in said
    assert "月曜日" in texts(person)[0] and "8時30分" in texts(person)[0]
    lost = night.respond(night.respond(GuideState(), "card_lost").state, "human_handoff")
    said = "\n".join(texts(lost))
    assert said.count("0120-95-0178") == 1 and "24時間365日" in said
    assert said.index("0120-95-0178") < said.index(guide.city.helpdesk.phone), "what works now comes first"


def test_leaked_number_and_mynapoint_get_their_own_answers(guide: Guide) -> None:
    leaked = guide.respond(GuideState(), "number_leaked", text="マイナンバーを教えてしまった")
    assert leaked.state.procedure is None and "変えられる" in texts(leaked)[0]
    point = guide.respond(GuideState(), "ask_mynapoint", text="マイナポイントはまだもらえますか")
    assert "終わりました" in texts(point)[0]


def press(guide: Guide, state: GuideState, payload: str) -> Turn:
    """A button pressed: its payload read as Rasa reads "/intent{...}"."""
    match = re.fullmatch(r"/(\w+)(\{.*\})?", payload)
    assert match, payload
    return guide.respond(state, match.group(1), json.loads(match.group(2) or "{}"), text=payload)


def test_the_menu_comes_in_groups(all_online: Guide) -> None:
    guide = all_online
    assert len(MENU_REPLIES) <= 7
    group = guide.respond(GuideState(), "show_menu", text='/show_menu{"menu_group":"city"}')
    assert {reply.payload for reply in group.quick_replies} >= {"/moving", "/car_ownership"}
    # Every procedure is reached from the menu: an area, then a procedure (or its family, then the procedure).
    reached = set()
    for area in MENU_REPLIES:
        for button in press(guide, GuideState(), area.payload).quick_replies:
            turn = press(guide, GuideState(), button.payload)
            if turn.state.awaiting == "pick":
                assert 2 <= len(turn.quick_replies) <= 13
                assert all(len(reply.title) <= 12 for reply in turn.quick_replies)
                turns = [press(guide, turn.state, reply.payload) for reply in turn.quick_replies[:-2]]
            else:
                turns = [turn]
            reached |= {turn.state.procedure for turn in turns}
    assert reached >= set(guide.catalog)
    old = guide.respond(GuideState(), "show_menu", text='/show_menu{"menu_group":"money"}')
    assert "/health_insurance" in {reply.payload for reply in old.quick_replies}, "an old group name still works"


@pytest.mark.parametrize(
    ("intent", "words", "procedure"),
    [
        ("child_allowance", "保育園の申し込みはネットでできますか", "childcare"),
        ("childcare", "ほいくえんにいれたいんやけど", "childcare"),
        ("child_allowance", "2人目が生まれたので児童手当を増やしたい", "child_allowance_revision"),
        ("child_allowance", "児童扶養手当の現況届を出したい", "child_support_allowance_status"),
        ("child_allowance", "児童手当の現況届がとどいた", "child_allowance_status"),
        ("childcare", "保育園の現況届", "childcare_status"),
        ("pregnancy", "ぼしてちょうをもらいたい", "pregnancy"),
        ("nlu_fallback", "母子手帳をもらう届け", "pregnancy"),
        ("disaster_certificate", "りさいしょうめいがほしい", "disaster_certificate"),
        ("moving", "引っ越してきたので転入届を出したい", "moving"),
    ],
)
def test_a_procedure_is_found_by_how_residents_name_it(
    all_online: Guide, intent: str, words: str, procedure: str
) -> None:
    turn = all_online.respond(GuideState(), intent, text=words)
    assert turn.state.procedure == procedure, texts(turn)
    assert all_online.catalog[procedure].summary in "\n".join(texts(turn))


def test_a_family_named_without_a_procedure_asks_which_and_a_typed_label_answers(all_online: Guide) -> None:
    guide = all_online
    asked = guide.respond(GuideState(), "child_allowance", text="児童手当の手続きをしたい")
    assert asked.state.awaiting == "pick" and asked.state.procedure is None
    assert check_turn(texts(asked)) == [] and "子どもの手当" in texts(asked)[0]
    labels = [reply.title for reply in asked.quick_replies]
    assert "額の改定" in labels and "児童扶養手当" in labels and len(labels) <= 13
    typed = guide.respond(asked.state, "nlu_fallback", text="額の改定")
    assert typed.state.procedure == "child_allowance_revision" and typed.state.awaiting is None
    other = guide.respond(asked.state, "greet", text="こんにちは")
    assert other.state.awaiting is None and other.state.procedure is None


def test_a_family_with_one_procedure_opens_it_without_asking(all_online: Guide) -> None:
    turn = all_online.respond(GuideState(), "pregnancy", text="届けを出したい")
    assert turn.state.procedure == "pregnancy"


def test_who_may_apply_is_said_in_the_opening(all_online: Guide) -> None:
    for procedure in (p for p in all_online.catalog.values() if p.area is not None):
        turn = all_online.respond(GuideState(), procedure.intent, {"procedure_id": procedure.id}, text="おねがいします")
        assert f"申請する人：{procedure.for_whom}" in texts(turn), procedure.id


def test_a_timing_residents_miss_is_said_before_the_form(all_online: Guide) -> None:
    claim = [step.text for step in all_online.catalog["child_allowance"].steps]
    assert any("15日以内" in text for text in claim[:3])
    support = all_online.catalog["child_support_allowance_status"]
    assert "面談" in support.summary and "面談" in support.done_next


def test_a_removed_number_shows_the_notice_and_the_same_step(guide: Guide) -> None:
    turn = start(guide, "bank_account")
    again = guide.respond(turn.state, "pin_forgot", text="暗証番号は［消しました］です", redacted=True)
    assert again.replies[0].response == "guide_redacted"
    assert texts(again)[-1] == texts(turn)[-1] and again.state.procedure == "bank_account"


# The table-driven walk of every procedure, branch, step and kind of answer lives in its own module
# (tests/guide_every_answer.py) and runs as part of this file, which is the one `make test` lists.
from tests.guide_every_answer import (  # noqa: E402
    test_every_answer_outside_a_step_keeps_the_limits,
    test_every_opening_keeps_the_limits,
    test_every_step_meets_every_kind_of_answer,
)

__all__ = [
    "test_every_answer_outside_a_step_keeps_the_limits",
    "test_every_opening_keeps_the_limits",
    "test_every_step_meets_every_kind_of_answer",
]


def test_a_new_topic_said_with_a_negative_verb_is_still_a_new_topic(guide: Guide) -> None:
    turn = start(guide, "bank_account")
    asked = guide.respond(turn.state, "portal_login", text="マイナポータルにログインできないです")
    assert asked.state.awaiting == "switch"


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("2ファクタ認証って何ですか", "2ファクタ認証"),
        ("にふぁくたにんしょうってなに", None),
        ("ICカードリーダライタとは？", "ICカードリーダライタ"),
        ("マイナポータルを開いて何も出ない", None),
    ],
)
def test_a_question_about_a_word_of_the_step_is_answered(guide: Guide, text: str, term: str | None) -> None:
    from bot.step_answers import read_step_answer

    step = guide.catalog["smartphone_cert"].steps_for("iphone")[0]
    answer = read_step_answer(text, step, guide.glossary)
    assert (answer.term if answer else None) == term


def test_a_known_problem_wins_over_a_request_for_a_person(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "card_lost")
    no_line = guide.respond(turn.state, "human_handoff", text="電話がつながらない")
    assert "050-3818-1250" in "\n".join(texts(no_line)) and no_line.state.handoff_reason is None


def test_asking_what_a_word_means_outside_a_step_explains_it(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "portal_login", text="マイナポータルって何？")
    assert texts(turn)[0].startswith("ことば：「マイナポータル」") and turn.state.procedure is None
    asked = guide.respond(GuideState(), "portal_login")
    device = guide.respond(asked.state, "nlu_fallback", text="NFCってなんですか")
    assert texts(device)[0].startswith("ことば：「NFC」") and device.quick_replies == DEVICE_REPLIES


# --- what the guide tells the hub (custom payloads) --------------------------------------


def handoffs(turn: Turn) -> list[dict]:
    return [signal for signal in turn.signals if signal["event"] == "handoff"]


@pytest.mark.parametrize("intent", PROCEDURES)
def test_every_way_to_a_person_tells_the_hub_where_the_resident_was(all_online: Guide, intent: str) -> None:
    guide = all_online
    turn = start(guide, intent)
    turn = go_on(guide, turn)
    number, total = progress(texts(turn)[-1])
    asked = guide.respond(turn.state, "human_handoff", text="人と話したい")
    (signal,) = handoffs(asked)
    assert signal["reason"] == "asked"
    assert signal["procedure"] == intent and signal["procedure_title"] == guide.catalog[intent].title
    assert (signal["step"], signal["step_count"]) == (number, total)
    assert signal["step_title"] and len(signal["step_title"]) <= 30


def test_failures_and_misunderstandings_are_reported_with_their_step(guide: Guide) -> None:
    turn = start(guide, "portal_login")
    failed = guide.respond(turn.state, "deny")
    assert [s["event"] for s in failed.signals] == ["step_failed"]
    assert failed.signals[0]["step"] == 1
    second = guide.respond(failed.state, "deny")
    assert [s["event"] for s in second.signals] == ["step_failed", "handoff"]
    assert handoffs(second)[0]["reason"] == "step_failed"
    missed = guide.respond(turn.state, "nlu_fallback", text="ほげほげ")
    assert [s["event"] for s in missed.signals] == ["fallback"]
    again = guide.respond(missed.state, "nlu_fallback", text="ふがふが")
    assert [s["event"] for s in again.signals] == ["fallback", "handoff"]
    assert handoffs(again)[0]["reason"] == "not_understood"
    # A plain answer says nothing to the hub.
    assert guide.respond(turn.state, "affirm").signals == ()


def test_a_handoff_before_any_procedure_has_no_step(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "human_handoff", text="人と話したい")
    assert handoffs(turn) == [{"event": "handoff", "reason": "asked"}]


@pytest.mark.parametrize("words", ["むずかしすぎてわからん", "難しすぎる", "もう無理です", "さっぱりわからない"])
def test_a_resident_who_finds_it_too_hard_is_offered_a_person(guide: Guide, words: str) -> None:
    turn = start(guide, "portal_login")
    hard = guide.respond(turn.state, "nlu_fallback", text=words)
    assert handoffs(hard)[0]["reason"] == "too_hard"
    assert hard.state.procedure == "portal_login"


def test_back_from_a_person_the_guide_resumes_at_the_same_step(guide: Guide) -> None:
    turn = go_on(guide, start(guide, "portal_login"))
    before = texts(turn)[-1]
    asked = guide.respond(turn.state, "human_handoff", text="人と話したい")
    back = guide.respond(asked.state, "handoff_returned", text="/handoff_returned")
    said = texts(back)
    assert said[0] == WORDING["guide_back_from_person"]
    assert said[-1] == before
    assert back.state.awaiting is None and back.state.step == turn.state.step
    assert back.signals == ()
    fresh = guide.respond(GuideState(), "handoff_returned", text="/handoff_returned")
    assert texts(fresh)[0] == WORDING["guide_back_from_person"] and fresh.quick_replies == MENU_REPLIES


def test_asking_for_volunteers_tells_the_hub_it_may_book_a_session(guide: Guide) -> None:
    turn = guide.respond(GuideState(), "volunteer_booking", text="スマホ教室に行きたい")
    assert turn.signals == ({"event": "volunteer_booking"},)
    assert guide.city.in_person_help.place in "\n".join(texts(turn))  # the answer when the hub cannot book


@pytest.mark.parametrize("inside_a_procedure", [False, True], ids=["from the menu", "during a procedure"])
def test_another_city_service_gets_the_city_main_line(guide: Guide, inside_a_procedure: bool) -> None:
    state = start(guide, "pin_forgot").state if inside_a_procedure else GuideState()
    turn = guide.respond(state, "out_of_scope", text="粗大ごみを出したい")
    said = "\n".join(texts(turn))
    assert guide.city.general_contact.phone in said
    assert guide.city.general_contact.name in said
    assert turn.state.procedure == state.procedure  # the resident keeps their place in a procedure


@pytest.mark.parametrize("online", [True, False], ids=["offered online", "not online in this city"])
def test_opening_a_procedure_tells_the_hub_which_one(guide: Guide, all_online: Guide, online: bool) -> None:
    chosen = all_online if online else guide
    offline = [
        intent
        for intent, procedure in guide.catalog.items()
        if procedure.city_key and not guide.city.online_services.get(procedure.city_key, False)
    ]
    intent = "pin_forgot" if online else offline[0]
    turn = chosen.respond(GuideState(), chosen.catalog[intent].intent, {"procedure_id": intent})
    opened = [s for s in turn.signals if s["event"] == "procedure_opened"]
    assert opened == [
        {"event": "procedure_opened", "procedure": intent, "procedure_title": chosen.catalog[intent].title}
    ]
    if not online:
        assert turn.state.procedure is None  # nothing to go on with here: the card still names it
        return
    # Going on inside the procedure does not open it again.
    assert not [s for s in go_on(chosen, turn).signals if s["event"] == "procedure_opened"]


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("nursing_care", "他の市から引っ越してきた母の介護認定をネットで出したい"),
        ("car_ownership", "亡くなった夫の車の車庫証明はどうしたらいいですか"),
    ],
)
def test_a_name_of_the_family_the_model_named_beats_a_longer_name_of_another(
    guide: Guide, intent: str, text: str
) -> None:
    found = guide.wanted(GuideState(), intent, text)
    assert found is not None and guide.catalog[found].intent == intent, found


@pytest.mark.parametrize(("device", "other"), [("iphone", "Android"), ("android", "iPhone")])
def test_a_failed_step_lists_only_causes_that_happen_on_the_residents_device(
    all_online: Guide, device: str, other: str
) -> None:
    for procedure in ("portal_login", "smartphone_cert"):
        turn = start(all_online, procedure, device)
        failed = all_online.respond(turn.state, "deny")
        said = "\n".join(texts(failed))
        assert other not in said, (procedure, said)
        assert len(texts(failed)) >= 2  # the intro and at least one cause


@pytest.mark.parametrize("procedure", ["car_ownership", "car_environment_tax", "car_tax_address", "car_tax_report"])
def test_a_car_procedure_not_taken_online_sends_to_the_prefectures_office(guide: Guide, procedure: str) -> None:
    offline = replace(guide.city, online_services={**guide.city.online_services, procedure: False})
    prefecture_says_no = Guide(guide.catalog, offline, guide.glossary, guide.wording, clock=guide.clock)
    turn = start(prefecture_says_no, procedure)
    said = "\n".join(texts(turn))
    assert guide.catalog[procedure].not_online in said
    # The city's own desk does not take it: it is neither named nor said to be the city's.
    assert guide.city.helpdesk.phone not in said and guide.city.name not in said


def test_a_resident_who_moved_and_already_renewed_the_certificate_goes_on(all_online: Guide) -> None:
    turn = start(all_online, "child_allowance")
    steps = all_online.catalog["child_allowance"].steps_for("iphone")
    at = next(i for i, step in enumerate(steps) if step.id == "check_certificate")
    state = replace(turn.state, step=at)
    assert "発行し直した" in [choice.label for choice in steps[at].choices]
    on = all_online.respond(state, "nlu_fallback", text="引っ越したけど、もう発行し直してもらいました")
    assert on.state.procedure == "child_allowance" and on.state.step == at + 1
