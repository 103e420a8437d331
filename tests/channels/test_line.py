"""The LINE webhook against the running hub, the fake engine and a fake LINE API on loopback: signatures,
deduplication, every kind of event, and an engine that stalls."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.hub.inbox import InboxEvent
from bot.hub.wording import ENGINE_SLOW_NOTICE, STALE_BUTTON_NOTICE
from bot.privacy import MARKER
from channels.line.events import read_event
from channels.line.wording import GREETING, NOT_TEXT, ONE_TO_ONE
from tests.channels.fake_line_api import (
    FakeLineApi,
    LineHub,
    MakeLineHub,
    eventually,
    line_api_fixture,
    line_hub_fixture,
    make_line_hub_fixture,
)
from tests.channels.fake_line_events import (
    follow_event,
    group_text_event,
    media_event,
    postback_event,
    sign,
    sticker_event,
    text_event,
    unfollow_event,
    unsend_event,
    webhook_body,
)
from tests.hub.fake_engine import FakeEngine

pytestmark = pytest.mark.asyncio
__all__ = ["line_api_fixture", "line_hub_fixture", "make_line_hub_fixture"]

USER = "U4af4980629a1b2c3d4e5f6a7b8c9d0e1"
YES_NO = [{"title": "はい", "payload": "/affirm"}, {"title": "いいえ", "payload": "/deny"}]


def rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "hub.db") as conn:
        return conn.execute(sql).fetchall()


def stored_bytes(data_dir: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(data_dir.iterdir()) if path.is_file())


def _altered(body: bytes) -> bytes:
    changed = body.replace("マイナンバー".encode(), "マイナポータル".encode())
    assert changed != body
    return changed


@pytest.mark.parametrize(
    ("signature", "change_body", "status"),
    [
        ("", None, 400),  # missing
        ("   ", None, 400),  # empty
        (sign(b"{}"), None, 401),  # a signature of another body
        (sign(b"x", secret="f" * 32), None, 401),  # forged with a wrong secret
        ("not base64 at all", None, 401),
        (None, _altered, 401),  # the body changed after signing
    ],
)
async def test_a_bad_signature_is_refused_and_touches_nothing(
    line_hub: LineHub,
    fake_engine: FakeEngine,
    line_api: FakeLineApi,
    signature: str | None,
    change_body: Any,
    status: int,
) -> None:
    body = webhook_body(text_event(line_api, USER, "マイナンバーカードを作りたい"))
    sent = change_body(body) if change_body else body
    headers = {"Content-Type": "application/json"}
    headers["X-Line-Signature"] = sign(body) if signature is None else signature
    if signature == "":
        del headers["X-Line-Signature"]
    response = await line_hub.client.post("/channels/line/webhook", data=sent, headers=headers)
    assert response.status == status
    await line_hub.settled()
    assert fake_engine.received == [] and line_api.requests == []
    assert rows(line_hub.data_dir, "select count(*) from inbox") == [(0,)]
    assert rows(line_hub.data_dir, "select count(*) from conversations") == [(0,)]


@pytest.mark.parametrize("body", [b"not json", b'{"destination": "U1"}', b'{"events": {}}', b"[]"])
async def test_a_signed_body_that_is_not_a_webhook_is_400(line_hub: LineHub, body: bytes) -> None:
    assert await line_hub.post(body=body) == 400


async def test_the_verification_call_with_no_events_is_200(line_hub: LineHub, line_api: FakeLineApi) -> None:
    assert await line_hub.post() == 200
    await line_hub.settled()
    assert line_api.requests == []


async def test_text_is_answered_by_reply_with_quick_replies_on_the_last_message(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    fake_engine.buttons = YES_NO
    fake_engine.extra_items = [{"recipient_id": "x", "text": "カードはお持ちですか。"}]
    assert await line_hub.post(text_event(line_api, USER, "マイナンバーカードを作りたい")) == 200
    await line_hub.settled()
    [sent] = fake_engine.received
    assert sent["message"] == "マイナンバーカードを作りたい" and sent["metadata"]["channel"] == "line"
    assert sent["sender"].startswith("line:") and USER not in sent["sender"]
    [reply] = line_api.calls("/v2/bot/message/reply")
    assert line_api.calls("/v2/bot/message/push") == []
    first, last = reply.body["messages"]
    assert first == {"type": "text", "text": "echo: マイナンバーカードを作りたい"}
    assert last["text"] == "カードはお持ちですか。"
    assert last["quickReply"]["items"] == [
        {"type": "action", "action": {"type": "postback", "label": "はい", "data": "q1.0", "displayText": "はい"}},
        {"type": "action", "action": {"type": "postback", "label": "いいえ", "data": "q1.1", "displayText": "いいえ"}},
    ]


async def test_a_tapped_quick_reply_is_what_it_stands_for_and_only_once(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    fake_engine.buttons = YES_NO
    await line_hub.post(text_event(line_api, USER, "転入の手続きをしたい"))
    await line_hub.settled()
    await line_hub.post(postback_event(line_api, USER, "q1.0"))
    await line_hub.settled()
    await line_hub.post(postback_event(line_api, USER, "q1.0"))  # the same button again
    await line_hub.settled()
    assert [body["message"] for body in fake_engine.received] == ["転入の手続きをしたい", "/affirm"]
    assert line_api.texts_to(USER)[-1] == STALE_BUTTON_NOTICE


async def test_the_same_event_delivered_twice_is_answered_once(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    event = text_event(line_api, USER, "パスポートの申請")
    assert await line_hub.post(event) == 200
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    assert await line_hub.post(redelivered) == 200
    assert await line_hub.post(event, event) == 200
    await line_hub.settled()
    assert len(fake_engine.received) == 1
    assert line_api.texts_to(USER) == ["echo: パスポートの申請"]


@pytest.mark.parametrize("kind", ["sticker", "image", "video", "audio", "file", "location"])
async def test_a_message_without_text_gets_a_polite_answer(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi, kind: str
) -> None:
    event = sticker_event(line_api, USER) if kind == "sticker" else media_event(line_api, USER, kind)
    assert await line_hub.post(event) == 200
    await line_hub.settled()
    assert fake_engine.received == []
    texts = line_api.texts_to(USER)
    assert texts[0] == NOT_TEXT[kind] and "文字で送って" in texts[1]
    assert "市役所" not in stored_bytes(line_hub.data_dir).decode("utf-8", "replace")


async def test_follow_gets_the_greeting_and_the_privacy_note(line_hub: LineHub, line_api: FakeLineApi) -> None:
    await line_hub.post(follow_event(line_api, USER))
    await line_hub.settled()
    [reply] = line_api.calls("/v2/bot/message/reply")
    texts = [m["text"] for m in reply.body["messages"]]
    assert texts == [m.text for m in GREETING]
    assert any("暗証番号" in text and "書かないで" in text for text in texts)


async def test_unfollow_sends_nothing_and_ends_the_conversation(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    await line_hub.post(text_event(line_api, USER, "こんにちは"))
    await line_hub.settled()
    calls = len(line_api.requests)
    await line_hub.post(unfollow_event(USER))
    await line_hub.settled()
    assert len(line_api.requests) == calls
    assert rows(line_hub.data_dir, "select count(*) from conversations") == [(0,)]
    assert rows(line_hub.data_dir, "select count(*) from messages") == [(0,)]


async def test_unsend_removes_that_message_from_the_transcript(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    fake_engine.answer = [{"recipient_id": "x", "text": "わかりました。"}]  # no echo of the words taken back
    taken_back = text_event(line_api, USER, "住所は青葉区一番町です")
    kept = text_event(line_api, USER, "転出届を出したい")
    await line_hub.post(taken_back, kept)
    await line_hub.settled()
    await line_hub.post(unsend_event(USER, taken_back["message"]["id"]))
    await line_hub.settled()
    said = [text for (text,) in rows(line_hub.data_dir, "select text from messages where sender = 'resident'")]
    assert said == ["転出届を出したい"]
    assert "青葉区".encode() not in stored_bytes(line_hub.data_dir)


async def test_a_group_gets_the_one_to_one_notice_once(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    group = "Ca56f94637c4a1b2c3d4e5f6a7b8c9d0e"
    await line_hub.post(group_text_event(line_api, group, USER, "みなさんこんにちは"))
    await line_hub.settled()
    await line_hub.post(group_text_event(line_api, group, USER, "マイナポータルの使い方"))
    await line_hub.settled()
    assert fake_engine.received == []
    assert line_api.texts_to(group) == [m.text for m in ONE_TO_ONE]
    assert line_api.texts_to(USER) == []


async def test_an_unknown_event_type_is_logged_never_a_crash(
    line_hub: LineHub, line_api: FakeLineApi, caplog: pytest.LogCaptureFixture
) -> None:
    unknown = {**follow_event(line_api, USER), "type": "somethingNew"}
    odd_message = text_event(line_api, USER, "x")
    odd_message["message"] = {"id": "1", "type": "hologram"}
    with caplog.at_level(logging.INFO, logger="channels.line"):
        assert await line_hub.post(unknown, odd_message) == 200
        await line_hub.settled()
    assert line_api.requests == []
    assert "somethingNew" in caplog.text


async def test_a_personal_number_never_reaches_the_disk_or_the_engine(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    fake_engine.hold_replies()
    assert await line_hub.post(text_event(line_api, USER, "私の番号は1234 5678 9012です")) == 200
    # Kept in the inbox, not yet handled: already without the number.
    assert b"1234" not in stored_bytes(line_hub.data_dir)
    fake_engine.release()
    await line_hub.settled()
    [sent] = fake_engine.received
    # The guide words the notice itself when the hub says it removed a number.
    assert MARKER in sent["message"] and sent["metadata"]["redacted"] is True
    assert b"9012" not in stored_bytes(line_hub.data_dir)


async def test_a_stalled_engine_still_gets_the_webhook_acknowledged_and_the_answer_pushed_later(
    make_line_hub: MakeLineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    hub = await make_line_hub(timeout=3.0)
    fake_engine.hold_replies()
    # Answered while the engine has not answered at all.
    assert await hub.post(text_event(line_api, USER, "暗証番号を忘れました")) == 200
    assert rows(hub.data_dir, "select count(*) from inbox where handled_at is null") == [(1,)]
    await eventually(lambda: ENGINE_SLOW_NOTICE in line_api.texts_to(USER), "the apology")
    assert [call.body for call in line_api.calls("/v2/bot/chat/loading/start")] == [
        {"chatId": USER, "loadingSeconds": 20}
    ]
    assert line_api.delivered[0].how == "reply"
    fake_engine.release()
    await hub.settled()
    assert line_api.texts_to(USER)[-1] == "echo: 暗証番号を忘れました"
    assert line_api.delivered[-1].how == "push"


async def test_a_quick_answer_shows_no_loading_animation(line_hub: LineHub, line_api: FakeLineApi) -> None:
    await line_hub.post(text_event(line_api, USER, "こんにちは"))
    await line_hub.settled()
    assert line_api.calls("/v2/bot/chat/loading/start") == []


@pytest.mark.parametrize(("data", "engine_text"), [("menu.start", "手続きの一覧"), ("menu.person", "人と話したい")])
async def test_the_rich_menu_buttons_reach_the_assistant(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi, data: str, engine_text: str
) -> None:
    await line_hub.post(postback_event(line_api, USER, data))
    await line_hub.settled()
    assert [body["message"] for body in fake_engine.received] == [engine_text]


async def test_the_rich_menu_help_explains_without_the_engine(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    await line_hub.post(postback_event(line_api, USER, "menu.help"))
    await line_hub.settled()
    assert fake_engine.received == []
    assert "ボタン" in " ".join(line_api.texts_to(USER))


async def test_a_batch_of_events_larger_than_a_chat_message_is_taken(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    events = [text_event(line_api, f"U{n:032x}", "申請の方法を教えてください。" * 300) for n in range(10)]
    body = webhook_body(*events)
    assert len(body) > 64 * 1024
    assert await line_hub.post(body=body) == 200
    await line_hub.settled()
    assert len(fake_engine.received) == 10


async def test_an_event_handled_again_after_a_stop_is_not_answered_twice(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    raw = text_event(line_api, USER, "引っ越しの手続き")
    event = read_event(raw)
    assert event is not None
    kept = InboxEvent("line", event.event_id, USER, event.as_body())
    await line_hub.channel.events.handle(kept)
    await line_hub.settled()
    # The hub stopped after the answer was written but before the event was noted done: it comes again.
    await line_hub.channel.events.handle(kept)
    await line_hub.settled()
    assert len(fake_engine.received) == 1
    assert line_api.texts_to(USER) == ["echo: 引っ越しの手続き"]
