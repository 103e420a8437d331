"""The web chat channel: sessions, input checks, quick replies, redaction and an engine that is down."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.city import load_city
from bot.hub.keys import CORE, STORE
from bot.hub.wording import ENGINE_DOWN_NOTICE, ENGINE_SLOW_NOTICE, REDACTION_NOTICE, STALE_BUTTON_NOTICE
from bot.privacy import MARKER
from channels.web import MAX_TEXT_CHARS, MESSAGES_PATH
from tests.hub.fake_engine import FakeEngine
from tests.hub.fixtures import MakeHub

# Explicit, so the tests run whatever asyncio_mode pytest-asyncio is configured with.
pytestmark = pytest.mark.asyncio

Hub = TestClient[Any, Any]
YES_NO = [{"title": "はい", "payload": "/affirm"}, {"title": "いいえ", "payload": "/deny"}]


async def post(hub: Hub, body: Any) -> tuple[int, dict[str, Any]]:
    """Post to the web channel (JSON, or raw bytes as given) and return the status and the answer."""
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    response = await hub.post(MESSAGES_PATH, data=data, headers={"Content-Type": "application/json"})
    return response.status, await response.json()


def conversation_rows(data_dir: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(data_dir / "hub.db") as conn:
        return conn.execute("select id, identity_hash from conversations").fetchall()


def stored_bytes(data_dir: Path) -> bytes:
    """Everything the hub wrote to disk: the database, its write-ahead log and shared memory file."""
    return b"".join(path.read_bytes() for path in sorted(data_dir.iterdir()))


async def test_a_first_message_starts_a_conversation(hub: Hub, fake_engine: FakeEngine, tmp_path: Path) -> None:
    status, answer = await post(hub, {"text": "  マイナンバーカードを作りたいです  "})
    assert status == 200
    token = answer["session"]
    assert answer["messages"] == [{"text": "echo: マイナンバーカードを作りたいです", "quick_replies": []}]
    assert answer["pending"] is False
    [sent] = fake_engine.received
    assert sent["sender"].startswith("web:") and sent["sender"] != token
    assert sent["metadata"] == {"channel": "web", "redacted": False}
    assert conversation_rows(tmp_path / "var") == [(sent["sender"], hashlib.sha256(token.encode()).hexdigest())]


async def test_the_session_keeps_the_conversation(hub: Hub, fake_engine: FakeEngine) -> None:
    _, first = await post(hub, {"text": "こんにちは"})
    status, second = await post(hub, {"text": "転入届のあとです", "session": first["session"]})
    _, other = await post(hub, {"text": "こんにちは"})
    assert status == 200 and second["session"] == first["session"]
    senders = [body["sender"] for body in fake_engine.received]
    assert senders[0] == senders[1] != senders[2]
    assert other["session"] != first["session"]


async def test_each_turn_marks_the_conversation_as_active(hub: Hub, tmp_path: Path) -> None:
    _, first = await post(hub, {"text": "こんにちは"})
    await post(hub, {"text": "続きをお願いします", "session": first["session"]})
    with sqlite3.connect(tmp_path / "var" / "hub.db") as conn:
        [(created, last_activity)] = conn.execute("select created_at, last_activity_at from conversations").fetchall()
    # Two HTTP round trips lie between the two stamps.
    assert last_activity > created


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "こんにちは", "conversation_id": "web:mine"}, 400),
        ({"text": "こんにちは", "sender": "web:mine"}, 400),
        ({"text": "こんにちは", "session": "web:mine"}, 404),
    ],
)
async def test_a_client_cannot_choose_the_conversation_id(
    hub: Hub, fake_engine: FakeEngine, tmp_path: Path, body: dict[str, str], status: int
) -> None:
    got, answer = await post(hub, body)
    assert got == status and answer["error"]
    assert fake_engine.received == []
    assert conversation_rows(tmp_path / "var") == []


async def test_the_engines_conversation_id_is_not_a_session(hub: Hub, fake_engine: FakeEngine) -> None:
    await post(hub, {"text": "こんにちは"})
    conversation_id = fake_engine.received[0]["sender"]
    status, answer = await post(hub, {"text": "こんにちは", "session": conversation_id})
    assert status == 404
    assert "session" in answer["error"]


async def test_an_unknown_session_is_404(hub: Hub, fake_engine: FakeEngine) -> None:
    status, answer = await post(hub, {"text": "こんにちは", "session": "x" * 43})
    assert status == 404
    assert answer == {"error": "this session is unknown: leave session out to start a new conversation"}
    assert fake_engine.received == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"text": ""}, "empty"),
        ({"text": " \u3000\n"}, "empty"),
        ({"text": "あ" * (MAX_TEXT_CHARS + 1)}, "2,000"),
        ({"text": 42}, "text must be a string"),
        ({"text": ["こんにちは"]}, "text must be a string"),
        ({"text": "こんにちは", "session": 7}, "session must be a string"),
        ({"payload": True}, "payload must be a string"),
        ({}, "exactly one"),
        ({"text": "はい", "payload": "/affirm"}, "exactly one"),
        (b"{not json", "JSON object"),
        (b'["text", "hello"]', "JSON object"),
        (b"\xff\xfe", "JSON object"),
    ],
)
async def test_bad_messages_are_400_with_a_clear_error(
    hub: Hub, fake_engine: FakeEngine, body: Any, words: str
) -> None:
    status, answer = await post(hub, body)
    assert status == 400
    assert words in answer["error"]
    assert fake_engine.received == []


async def test_text_of_exactly_the_limit_is_accepted(hub: Hub, fake_engine: FakeEngine) -> None:
    status, _ = await post(hub, {"text": "あ" * MAX_TEXT_CHARS})
    assert status == 200
    assert len(fake_engine.received[0]["message"]) == MAX_TEXT_CHARS


async def test_a_huge_body_is_refused_with_json(hub: Hub, fake_engine: FakeEngine) -> None:
    status, answer = await post(hub, {"text": "あ" * 100_000})
    assert status == 413 and answer["error"]
    assert fake_engine.received == []


def titles(answer: dict[str, Any]) -> list[str]:
    return [reply["title"] for reply in answer["messages"][-1]["quick_replies"]]


def key_of(answer: dict[str, Any], title: str) -> str:
    """The payload the web client sends back for the button with this title."""
    [key] = [r["payload"] for r in answer["messages"][-1]["quick_replies"] if r["title"] == title]
    return str(key)


async def fetch(hub: Hub, session: str) -> tuple[int, dict[str, Any]]:
    response = await hub.get(MESSAGES_PATH, headers={"Authorization": f"Bearer {session}"})
    return response.status, await response.json()


async def test_a_tapped_button_sends_its_payload_to_the_engine(hub: Hub, fake_engine: FakeEngine) -> None:
    fake_engine.buttons = YES_NO
    _, first = await post(hub, {"text": "カードを受け取りに行けますか"})
    assert titles(first) == ["はい", "いいえ"]
    # The engine's payloads never leave the hub: the client sees keys tied to this turn.
    assert "/affirm" not in json.dumps(first)
    fake_engine.buttons = []
    status, _ = await post(hub, {"payload": key_of(first, "はい"), "session": first["session"]})
    assert status == 200
    assert fake_engine.received[-1]["message"] == "/affirm"
    assert fake_engine.received[-1]["metadata"] == {"channel": "web", "redacted": False}


async def test_quick_replies_ride_once_on_the_last_message(hub: Hub, fake_engine: FakeEngine) -> None:
    fake_engine.answer = [
        {"recipient_id": "x", "text": "引っ越しの手続きですね。", "buttons": YES_NO},
        {"recipient_id": "x", "text": "転出届は出しましたか？", "buttons": YES_NO},
    ]
    _, answer = await post(hub, {"text": "ひっこし"})
    assert [m["quick_replies"] for m in answer["messages"][:-1]] == [[]]
    assert titles(answer) == ["はい", "いいえ"]


@pytest.mark.parametrize("payload", ['/choose_procedure{"procedure": "renewal"}', "/affirm", "q1.9", "q1.x", ""])
async def test_a_payload_never_offered_is_a_400(hub: Hub, fake_engine: FakeEngine, payload: str) -> None:
    fake_engine.buttons = YES_NO
    _, first = await post(hub, {"text": "こんにちは"})
    status, refused = await post(hub, {"payload": payload, "session": first["session"]})
    assert status == 400 and "not offered" in refused["error"]
    assert len(fake_engine.received) == 1


async def test_a_double_tap_is_applied_once_and_answered_kindly(hub: Hub, fake_engine: FakeEngine) -> None:
    fake_engine.buttons = YES_NO
    _, first = await post(hub, {"text": "こんにちは"})
    tap = {"payload": key_of(first, "はい"), "session": first["session"]}
    fake_engine.hold_replies()
    first_tap = asyncio.ensure_future(post(hub, dict(tap)))
    second_tap = asyncio.ensure_future(post(hub, dict(tap)))
    await asyncio.sleep(0.2)
    fake_engine.release()
    (status_1, answer_1), (status_2, answer_2) = await asyncio.gather(first_tap, second_tap)
    assert (status_1, status_2) == (200, 200)
    assert [body["message"] for body in fake_engine.received] == ["こんにちは", "/affirm"]
    [stale] = [a for a in (answer_1, answer_2) if a["messages"][0]["text"] == STALE_BUTTON_NOTICE]
    # The kind answer offers the buttons of the newest turn again, which do work.
    fresh_key = key_of(stale, "はい")
    assert fresh_key != tap["payload"]
    status, _ = await post(hub, {"payload": fresh_key, "session": first["session"]})
    assert status == 200 and len(fake_engine.received) == 3


async def test_a_button_from_an_older_message_is_not_applied(hub: Hub, fake_engine: FakeEngine) -> None:
    fake_engine.buttons = YES_NO
    _, first = await post(hub, {"text": "こんにちは"})
    await post(hub, {"text": "つぎへ", "session": first["session"]})
    status, answer = await post(hub, {"payload": key_of(first, "いいえ"), "session": first["session"]})
    assert status == 200
    assert answer["messages"][0]["text"] == STALE_BUTTON_NOTICE
    assert titles(answer) == ["はい", "いいえ"]
    assert len(fake_engine.received) == 2


async def test_turns_of_one_conversation_run_one_at_a_time(hub: Hub, fake_engine: FakeEngine) -> None:
    _, first = await post(hub, {"text": "こんにちは"})
    fake_engine.hold_replies()
    burst = [asyncio.ensure_future(post(hub, {"text": f"{n}つめ", "session": first["session"]})) for n in range(5)]
    other = asyncio.ensure_future(post(hub, {"text": "べつの人です"}))
    await asyncio.sleep(0.3)
    # Only one turn of the conversation reached the engine; the other conversation did not wait for it.
    assert sum(1 for body in fake_engine.received if body["sender"] == fake_engine.received[0]["sender"]) == 2
    assert any(body["message"] == "べつの人です" for body in fake_engine.received)
    fake_engine.release()
    answers = await asyncio.gather(*burst, other)
    assert all(status == 200 for status, _ in answers)
    assert len(fake_engine.received) == 7


@pytest.mark.parametrize("typed", ["/affirm", '/choose_procedure{"procedure": "renewal"}'])
async def test_typed_text_cannot_pass_as_a_payload(hub: Hub, fake_engine: FakeEngine, typed: str) -> None:
    fake_engine.buttons = YES_NO
    _, first = await post(hub, {"text": "こんにちは"})
    status, _ = await post(hub, {"text": typed, "session": first["session"]})
    assert status == 200
    assert fake_engine.received[-1]["message"] == "／" + typed[1:]


async def test_a_payload_cannot_start_a_conversation(hub: Hub, fake_engine: FakeEngine, tmp_path: Path) -> None:
    status, answer = await post(hub, {"payload": "/affirm"})
    assert status == 400 and answer["error"]
    assert fake_engine.received == []
    assert conversation_rows(tmp_path / "var") == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("マイナンバーは 1234 5678 9012 です。", "1234 5678 9012"),
        ("個人番号は１２３４５６７８９０１２です", "１２３４５６７８９０１２"),
        ("署名用のパスワードは ABCD1234EF です", "ABCD1234EF"),
    ],
)
async def test_personal_numbers_are_removed_before_the_engine_sees_them(
    hub: Hub, fake_engine: FakeEngine, tmp_path: Path, text: str, secret: str
) -> None:
    status, answer = await post(hub, {"text": text})
    assert status == 200
    [sent] = fake_engine.received
    assert MARKER in sent["message"] and secret not in sent["message"]
    assert sent["metadata"] == {"channel": "web", "redacted": True}
    # The engine words the notice itself (it knows the step to ask again); the hub adds none of its own.
    assert REDACTION_NOTICE not in [m["text"] for m in answer["messages"]]
    assert secret not in answer["messages"][0]["text"]
    on_disk = stored_bytes(tmp_path / "var")
    assert secret.encode() not in on_disk
    assert secret.replace(" ", "").encode() not in on_disk


async def test_half_an_emoji_reaches_the_engine_as_a_replacement_character(
    hub: Hub, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    status, answer = await post(hub, b'{"text": "\\ud83d \\u3053\\u3093\\u306b\\u3061\\u306f"}')
    assert status == 200, answer
    assert fake_engine.received[0]["message"] == "\ufffd こんにちは"


async def test_a_pin_is_removed_before_the_engine_sees_it(hub: Hub, fake_engine: FakeEngine) -> None:
    await post(hub, {"text": "暗証番号は 4821 だと思います"})
    assert fake_engine.received[0]["message"] == f"暗証番号は {MARKER} だと思います"


async def test_a_pin_sent_alone_after_the_bot_asked_about_one_is_removed(hub: Hub, fake_engine: FakeEngine) -> None:
    fake_engine.answer = [{"recipient_id": "x", "text": "暗証番号は、4けたの数字です。"}]
    _, first = await post(hub, {"text": "ログインできない"})
    fake_engine.answer = None
    await post(hub, {"text": "4821", "session": first["session"]})
    assert fake_engine.received[-1]["message"] == MARKER
    # Once the talk has moved on, a lone four-digit number is a number again.
    await post(hub, {"text": "2025", "session": first["session"]})
    assert fake_engine.received[-1]["message"] == "2025"


async def test_the_transcript_is_kept_redacted_and_the_log_holds_no_resident_text(
    hub: Hub, fake_engine: FakeEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, answer = await post(hub, {"text": "転入届を出したあとの住所変更について教えてください"})
    await post(hub, {"text": "番号は 2345 6789 0123 です", "session": answer["session"]})
    conversation_id = fake_engine.received[0]["sender"]
    assert conversation_id in caplog.text
    for words in ("転入届", "住所変更", "2345 6789 0123", "番号は"):
        assert words not in caplog.text
    with sqlite3.connect(tmp_path / "var" / "hub.db") as conn:
        transcript = conn.execute("select sender, text from messages order by id").fetchall()
    assert transcript[0] == ("resident", "転入届を出したあとの住所変更について教えてください")
    assert ("resident", f"番号は {MARKER} です") in transcript
    assert ("bot", f"echo: 番号は {MARKER} です") in transcript
    assert b"2345 6789 0123" not in stored_bytes(tmp_path / "var")


async def test_an_empty_engine_answer_gets_the_apology_and_keeps_the_buttons(hub: Hub, fake_engine: FakeEngine) -> None:
    fake_engine.buttons = YES_NO
    _, first = await post(hub, {"text": "こんにちは"})
    fake_engine.answer = []  # what Rasa's REST channel answers when the action server is down
    status, answer = await post(hub, {"payload": key_of(first, "はい"), "session": first["session"]})
    assert status == 503
    texts = [m["text"] for m in answer["messages"]]
    assert texts[0] == ENGINE_DOWN_NOTICE
    assert load_city().helpdesk.phone in texts[-1] and load_city().helpdesk.hours in texts[-1]
    # The buttons on offer before still work once the engine answers again.
    assert titles(answer) == ["はい", "いいえ"]
    fake_engine.answer = None
    status, _ = await post(hub, {"payload": key_of(answer, "いいえ"), "session": first["session"]})
    assert status == 200 and fake_engine.received[-1]["message"] == "/deny"


async def test_a_slow_engine_gets_an_apology_at_once_and_the_answer_later(
    make_hub: MakeHub, fake_engine: FakeEngine
) -> None:
    hub = await make_hub(timeout=0.2)
    fake_engine.hold_replies()
    status, answer = await post(hub, {"text": "こんにちは"})
    assert status == 202 and answer["pending"] is True
    assert answer["messages"][0]["text"] == ENGINE_SLOW_NOTICE
    assert load_city().helpdesk.phone in answer["messages"][-1]["text"]
    status, nothing_yet = await fetch(hub, answer["session"])
    assert status == 200 and nothing_yet["messages"] == [] and nothing_yet["pending"] is True

    fake_engine.release()
    await hub.app[CORE].wait_for_late_answers()
    status, later = await fetch(hub, answer["session"])
    assert status == 200 and [m["text"] for m in later["messages"]] == ["echo: こんにちは"]
    assert later["pending"] is False
    # Fetched once, delivered once.
    _, again = await fetch(hub, answer["session"])
    assert again["messages"] == []


async def test_a_message_sent_while_the_answer_is_late_waits_its_turn(
    make_hub: MakeHub, fake_engine: FakeEngine
) -> None:
    hub = await make_hub(timeout=0.2)
    fake_engine.hold_replies()
    _, answer = await post(hub, {"text": "ひとつめ"})
    second = asyncio.ensure_future(post(hub, {"text": "ふたつめ", "session": answer["session"]}))
    await asyncio.sleep(0.3)
    assert [body["message"] for body in fake_engine.received] == ["ひとつめ"]
    fake_engine.release()
    status, both = await second
    assert status == 200
    assert [m["text"] for m in both["messages"]] == ["echo: ひとつめ", "echo: ふたつめ"]


async def test_fetch_needs_a_known_session(hub: Hub) -> None:
    response = await hub.get(MESSAGES_PATH)
    assert response.status == 401
    status, answer = await fetch(hub, "x" * 43)
    assert status == 404 and "unknown" in answer["error"]


async def test_a_stopped_engine_gets_the_apology_after_the_redaction_notice(hub: Hub, fake_engine: FakeEngine) -> None:
    await fake_engine.stop()
    status, answer = await post(hub, {"text": "暗証番号は 4821 です"})
    assert status == 503 and answer["session"]
    assert [m["text"] for m in answer["messages"]][:2] == [REDACTION_NOTICE, ENGINE_DOWN_NOTICE]


@pytest.mark.parametrize("failure", [500, 400])
async def test_an_engine_failure_gets_the_apology(hub: Hub, fake_engine: FakeEngine, failure: int) -> None:
    fake_engine.fail_with = failure
    status, answer = await post(hub, {"text": "こんにちは"})
    assert status == 503
    assert answer["messages"][0]["text"] == ENGINE_DOWN_NOTICE


async def test_a_person_held_conversation_gets_the_hubs_own_redaction_notice(hub: Hub, fake_engine: FakeEngine) -> None:
    _, first = await post(hub, {"text": "人と話したい"})
    await hub.app[STORE](lambda s: s.set_mode(fake_engine.received[0]["sender"], "person"))
    _, answer = await post(hub, {"text": "暗証番号は 4821 です", "session": first["session"]})
    assert [m["text"] for m in answer["messages"]] == [REDACTION_NOTICE]


async def test_a_person_held_conversation_does_not_reach_the_bot(hub: Hub, fake_engine: FakeEngine) -> None:
    _, first = await post(hub, {"text": "人と話したい"})
    conversation_id = fake_engine.received[0]["sender"]
    await hub.app[STORE](lambda s: s.set_mode(conversation_id, "person"))
    status, answer = await post(hub, {"text": "よろしくお願いします", "session": first["session"]})
    assert status == 200 and answer["messages"] == []
    assert len(fake_engine.received) == 1
    transcript = await hub.app[STORE](lambda s: s.transcript(conversation_id))
    assert transcript[-1] == ("resident", "よろしくお願いします")
