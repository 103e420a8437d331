"""The web chat channel: sessions, input checks, quick replies, redaction and an engine that is down."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.city import load_city
from bot.privacy import MARKER
from channels.web import ENGINE_DOWN_NOTICE, MAX_TEXT_CHARS, MESSAGES_PATH, REDACTION_NOTICE
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
        return conn.execute("select id, token_hash from conversations").fetchall()


def stored_bytes(data_dir: Path) -> bytes:
    """Everything the hub wrote to disk: the database, its write-ahead log and shared memory file."""
    return b"".join(path.read_bytes() for path in sorted(data_dir.iterdir()))


async def test_a_first_message_starts_a_conversation(hub: Hub, fake_engine: FakeEngine, tmp_path: Path) -> None:
    status, answer = await post(hub, {"text": "  マイナンバーカードを作りたいです  "})
    assert status == 200
    token = answer["session"]
    assert answer["messages"] == [{"text": "echo: マイナンバーカードを作りたいです", "quick_replies": []}]
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


async def test_each_turn_marks_the_conversation_as_seen(hub: Hub, tmp_path: Path) -> None:
    _, first = await post(hub, {"text": "こんにちは"})
    await post(hub, {"text": "続きをお願いします", "session": first["session"]})
    with sqlite3.connect(tmp_path / "var" / "hub.db") as conn:
        [(created, last_seen)] = conn.execute("select created_at, last_seen_at from conversations").fetchall()
    # Two HTTP round trips lie between the two stamps.
    assert last_seen > created


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


async def test_only_payloads_offered_in_the_last_turn_are_accepted(hub: Hub, fake_engine: FakeEngine) -> None:
    fake_engine.buttons = YES_NO
    _, first = await post(hub, {"text": "カードを受け取りに行けますか"})
    assert first["messages"][0]["quick_replies"] == YES_NO
    session = first["session"]

    status, refused = await post(hub, {"payload": '/choose_procedure{"procedure": "renewal"}', "session": session})
    assert status == 400 and "not offered" in refused["error"]

    fake_engine.buttons = []
    status, _ = await post(hub, {"payload": "/affirm", "session": session})
    assert status == 200
    assert fake_engine.received[-1]["message"] == "/affirm"
    assert fake_engine.received[-1]["metadata"] == {"channel": "web", "redacted": False}

    # The turn just answered offered nothing, so the old buttons no longer count.
    status, _ = await post(hub, {"payload": "/deny", "session": session})
    assert status == 400
    assert len(fake_engine.received) == 2


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
    assert answer["messages"][0] == {"text": REDACTION_NOTICE, "quick_replies": []}
    assert secret not in answer["messages"][1]["text"]
    on_disk = stored_bytes(tmp_path / "var")
    assert secret.encode() not in on_disk
    assert secret.replace(" ", "").encode() not in on_disk


async def test_a_pin_is_removed_before_the_engine_sees_it(hub: Hub, fake_engine: FakeEngine) -> None:
    await post(hub, {"text": "暗証番号は 4821 だと思います"})
    assert fake_engine.received[0]["message"] == f"暗証番号は {MARKER} だと思います"


async def test_the_hub_stores_and_logs_no_resident_text(
    hub: Hub, fake_engine: FakeEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, answer = await post(hub, {"text": "転入届を出したあとの住所変更について教えてください"})
    await post(hub, {"text": "番号は 2345 6789 0123 です", "session": answer["session"]})
    conversation_id = fake_engine.received[0]["sender"]
    assert conversation_id in caplog.text
    for words in ("転入届", "住所変更", "2345 6789 0123", "番号は"):
        assert words not in caplog.text
        assert words.encode() not in stored_bytes(tmp_path / "var")


async def test_a_slow_engine_gets_a_plain_503(make_hub: MakeHub, fake_engine: FakeEngine) -> None:
    hub = await make_hub(timeout=0.2)
    fake_engine.hold_replies()
    status, answer = await post(hub, {"text": "こんにちは"})
    assert status == 503
    assert answer["messages"][0] == {"text": ENGINE_DOWN_NOTICE, "quick_replies": []}
    assert load_city().helpdesk.phone in answer["messages"][1]["text"]

    # The session handed out with the apology is good for the next try.
    fake_engine.release()
    status, again = await post(hub, {"text": "こんにちは", "session": answer["session"]})
    assert status == 200 and again["session"] == answer["session"]


async def test_a_stopped_engine_gets_a_plain_503_after_the_redaction_notice(hub: Hub, fake_engine: FakeEngine) -> None:
    await fake_engine.stop()
    status, answer = await post(hub, {"text": "暗証番号は 4821 です"})
    assert status == 503 and answer["session"]
    assert [m["text"] for m in answer["messages"]][:2] == [REDACTION_NOTICE, ENGINE_DOWN_NOTICE]


async def test_an_engine_failure_gets_a_plain_503(hub: Hub, fake_engine: FakeEngine) -> None:
    fake_engine.fail_with = 500
    status, answer = await post(hub, {"text": "こんにちは"})
    assert status == 503
    assert answer["messages"][0]["text"] == ENGINE_DOWN_NOTICE


async def test_an_engine_answering_nonsense_gets_a_plain_502(hub: Hub, fake_engine: FakeEngine) -> None:
    fake_engine.fail_with = 400
    status, answer = await post(hub, {"text": "こんにちは"})
    assert status == 502
    assert answer["messages"][0]["text"] == ENGINE_DOWN_NOTICE
