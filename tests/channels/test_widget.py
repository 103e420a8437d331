"""The widget's WebSocket: origins, the hello, turns, refusals, history after a reload, and pushes to open pages."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.hub.app import create_app
from bot.hub.core import Session
from bot.hub.keys import CHANNELS, CORE, OUTBOX, STORE
from bot.hub.messages import BotMessage
from bot.hub.wording import ENGINE_SLOW_NOTICE
from bot.plain_japanese import check_message, check_turn
from bot.privacy import MARKER
from channels import ChannelSettingsError
from channels.widget import WidgetChannel, create
from channels.widget.protocol import MAX_TEXT_CHARS
from channels.widget.wording import EMPTY, FAILED, NOT_READY, OLD_BUTTON, OPENING, SESSION_OVER, too_long
from tests.hub.fake_engine import FakeEngine

pytestmark = pytest.mark.asyncio

Hub = TestClient[Any, Any]
Socket = aiohttp.ClientWebSocketResponse
SOCKET_PATH = "/channels/widget/socket"
YES_NO = [{"title": "はい", "payload": "/affirm"}, {"title": "いいえ", "payload": "/deny"}]
CITY_PAGE = "https://www.city.example.lg.jp"
StartHub = Callable[..., Awaitable[Hub]]


@pytest_asyncio.fixture
async def start_hub(aiohttp_client: AiohttpClient, fake_engine: FakeEngine, tmp_path: Path) -> StartHub:
    """A hub serving the widget, with the environment given (WIDGET_ALLOWED_ORIGINS) and readings loaded."""

    async def start(env: dict[str, str] | None = None, timeout: float = 5.0) -> Hub:
        settings = fake_engine.hub_settings(tmp_path / "var", timeout=timeout)
        client = await aiohttp_client(create_app(settings, env=env or {}))
        await widget_channel(client).ready()
        return client

    return start


@pytest_asyncio.fixture
async def hub(start_hub: StartHub) -> Hub:
    return await start_hub()


def widget_channel(hub: Hub) -> WidgetChannel:
    return next(channel for channel in hub.app[CHANNELS].on if isinstance(channel, WidgetChannel))


def own_origin(hub: Hub) -> str:
    return str(hub.make_url("")).rstrip("/")


async def connect(hub: Hub, origin: str | None = None) -> Socket:
    headers = {"Origin": origin if origin is not None else own_origin(hub)}
    return await hub.ws_connect(SOCKET_PATH, headers=headers)


async def frame(socket: Socket, kind: str | None = None) -> dict[str, Any]:
    """The next frame (of this type, skipping others such as typing), within a few seconds."""
    while True:
        received: dict[str, Any] = await asyncio.wait_for(socket.receive_json(), 5)
        if kind is None or received["type"] == kind:
            return received


async def hello(hub: Hub, session: str | None = None) -> tuple[Socket, dict[str, Any]]:
    socket = await connect(hub)
    await socket.send_json({"type": "hello", "session": session})
    return socket, await frame(socket, "welcome")


async def start_conversation(hub: Hub, text: str = "こんにちは") -> tuple[Socket, str]:
    socket, _ = await hello(hub)
    await socket.send_json({"type": "text", "text": text})
    session = (await frame(socket, "session"))["session"]
    await frame(socket, "messages")
    return socket, session


def texts(messages_frame: dict[str, Any]) -> list[str]:
    return [m["text"] for m in messages_frame["messages"]]


async def test_a_page_of_the_hub_itself_may_connect_and_is_welcomed_with_the_opening(hub: Hub) -> None:
    socket, welcome = await hello(hub)
    assert welcome["session"] is None and welcome["history"] == []
    assert [m["text"] for m in welcome["opening"]] == list(OPENING)
    assert welcome["max_chars"] == MAX_TEXT_CHARS
    reading = dict(tuple(segment) for segment in welcome["opening"][1]["ruby"])
    assert reading["暗証番号"] == "あんしょうばんごう"
    await socket.close()


@pytest.mark.parametrize("origin", ["https://evil.example.com", "http://127.0.0.1:1", "null", ""])
async def test_pages_of_other_sites_are_refused(hub: Hub, fake_engine: FakeEngine, origin: str) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(hub, origin)
    assert refused.value.status == 403
    assert fake_engine.received == []


async def test_listed_city_pages_may_connect_and_others_still_may_not(start_hub: StartHub) -> None:
    hub = await start_hub({"WIDGET_ALLOWED_ORIGINS": f"{CITY_PAGE}, https://city.example.lg.jp:8443"})
    for origin in (CITY_PAGE, "https://WWW.city.example.lg.jp:443", "https://city.example.lg.jp:8443", own_origin(hub)):
        socket = await connect(hub, origin)
        await socket.close()
    for origin in (
        "http://www.city.example.lg.jp",
        "https://city.example.lg.jp",
        "https://www.city.example.lg.jp.evil.com",
    ):
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await connect(hub, origin)


@pytest.mark.parametrize(
    "value", ["www.city.example.lg.jp", "https://city.example.lg.jp/chat/", "ftp://city.example", "*"]
)
async def test_a_wrong_allowed_origin_stops_the_hub_naming_the_variable(value: str) -> None:
    with pytest.raises(ChannelSettingsError, match="WIDGET_ALLOWED_ORIGINS"):
        create({"WIDGET_ALLOWED_ORIGINS": value})


async def test_a_message_gets_a_session_typing_and_the_answer_with_readings(
    hub: Hub, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    fake_engine.buttons = YES_NO
    socket, _ = await hello(hub)
    await socket.send_json({"type": "text", "text": "  住所が変わりました  "})
    assert await frame(socket) == {"type": "typing", "on": True}
    session = (await frame(socket))["session"]
    answer = await frame(socket)
    assert await frame(socket) == {"type": "typing", "on": False}
    [message] = answer["messages"]
    assert message["text"] == "echo: 住所が変わりました" and message["from"] == "bot"
    assert ["住所", "じゅうしょ"] in message["ruby"]
    assert [(r["title"], r["key"]) for r in message["quick_replies"]] == [("はい", "q1.0"), ("いいえ", "q1.1")]
    [sent] = fake_engine.received
    assert sent["message"] == "住所が変わりました" and sent["metadata"]["channel"] == "widget"
    with sqlite3.connect(tmp_path / "var" / "hub.db") as db:
        [(conversation_id, stored)] = db.execute("select id, identity_hash from conversations").fetchall()
    # The page holds a token; the store holds only its hash, and the engine sees neither.
    assert stored == hashlib.sha256(session.encode()).hexdigest()
    assert (
        conversation_id.startswith("widget:") and session not in conversation_id and sent["sender"] == conversation_id
    )
    await socket.send_json({"type": "reply", "key": "q1.1"})
    assert texts(await frame(socket, "messages")) == ["echo: /deny"]
    await socket.close()


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ({"type": "text", "text": ""}, "empty"),
        ({"type": "text", "text": " \n\u3000 "}, "empty"),
        ({"type": "text", "text": "あ" * (MAX_TEXT_CHARS + 1)}, "too_long"),
        ({"type": "text", "text": 42}, "bad_frame"),
        ({"type": "text"}, "bad_frame"),
        ({"type": "reply", "key": ""}, "bad_frame"),
        ({"type": "shout", "text": "こんにちは"}, "bad_frame"),
        ({"type": "hello", "session": None}, "bad_frame"),
        ("not json", "bad_frame"),
        ([1, 2], "bad_frame"),
    ],
)
async def test_bad_frames_are_refused_in_japanese_and_the_page_goes_on(
    hub: Hub, fake_engine: FakeEngine, sent: Any, code: str
) -> None:
    socket, _ = await hello(hub)
    if isinstance(sent, str):
        await socket.send_str(sent)
    else:
        await socket.send_json(sent)
    refused = await frame(socket, "error")
    assert refused["code"] == code and refused["message"].endswith("。")
    assert fake_engine.received == []
    await socket.send_json({"type": "text", "text": "こんにちは"})
    assert texts(await frame(socket, "messages")) == ["echo: こんにちは"]
    await socket.close()


async def test_nothing_is_taken_before_the_hello(hub: Hub, fake_engine: FakeEngine) -> None:
    socket = await connect(hub)
    await socket.send_json({"type": "text", "text": "こんにちは"})
    assert (await frame(socket, "error"))["code"] == "not_ready"
    assert fake_engine.received == []
    await socket.close()


async def test_a_quick_reply_cannot_start_a_conversation(hub: Hub, fake_engine: FakeEngine) -> None:
    socket, _ = await hello(hub)
    await socket.send_json({"type": "reply", "key": "q0.0"})
    assert (await frame(socket, "error"))["code"] == "old_button"
    assert fake_engine.received == []
    await socket.close()


async def test_a_reload_shows_both_sides_redacted_and_goes_on_in_the_same_conversation(
    hub: Hub, fake_engine: FakeEngine
) -> None:
    fake_engine.buttons = YES_NO
    socket, session = await start_conversation(hub, "マイナンバーは 1234 5678 9012 です。")
    await socket.close()
    again, welcome = await hello(hub, session)
    assert welcome["session"] == session
    history = [(m["from"], m["text"]) for m in welcome["history"]]
    assert history == [
        ("resident", f"マイナンバーは {MARKER} です。"),
        ("bot", f"echo: マイナンバーは {MARKER} です。"),
    ]
    assert "1234" not in str(welcome)
    assert [r["key"] for r in welcome["history"][-1]["quick_replies"]] == ["q1.0", "q1.1"]
    await again.send_json({"type": "reply", "key": "q1.0"})
    assert texts(await frame(again, "messages")) == ["echo: /affirm"]
    assert len({body["sender"] for body in fake_engine.received}) == 1
    await again.close()


async def test_a_session_the_hub_does_not_know_starts_afresh(hub: Hub) -> None:
    socket = await connect(hub)
    await socket.send_json({"type": "hello", "session": "made-up-token"})
    assert (await frame(socket))["code"] == "session_over"
    welcome = await frame(socket)
    assert welcome["type"] == "welcome" and welcome["session"] is None and welcome["history"] == []
    await socket.close()


async def test_a_late_answer_is_pushed_after_the_apology(start_hub: StartHub, fake_engine: FakeEngine) -> None:
    hub = await start_hub(timeout=0.3)
    socket, _ = await hello(hub)
    fake_engine.hold_replies()
    await socket.send_json({"type": "text", "text": "マイナ保険証"})
    assert texts(await frame(socket, "messages"))[0] == ENGINE_SLOW_NOTICE
    assert await frame(socket, "typing") == {"type": "typing", "on": True}
    fake_engine.release()
    assert texts(await frame(socket, "messages")) == ["echo: マイナ保険証"]
    await socket.close()


async def staff_reply(hub: Hub, conversation_id: str, text: str) -> None:
    """A message from staff, written to the outbox as the handoff console will, and the outbox woken."""
    await hub.app[STORE](lambda s: s.enqueue(conversation_id, [BotMessage(text)], sender="staff"))
    hub.app[OUTBOX].notify("widget")


async def test_a_message_for_a_closed_page_waits_and_comes_once_when_it_is_back(
    hub: Hub, fake_engine: FakeEngine
) -> None:
    socket, session = await start_conversation(hub)
    await socket.close()
    await staff_reply(hub, fake_engine.received[0]["sender"], "職員の田中です。")
    await hub.app[OUTBOX].deliver_due()
    assert await hub.app[STORE](lambda s: s.count_undelivered()) == 1
    again = await connect(hub)
    await again.send_json({"type": "hello", "session": session})
    welcome = await frame(again, "welcome")
    assert "職員の田中です。" not in [m["text"] for m in welcome["history"]]
    assert texts(await frame(again, "messages")) == ["職員の田中です。"]
    assert await hub.app[STORE](lambda s: s.count_undelivered()) == 0
    await hub.app[OUTBOX].deliver_due()
    await again.send_json({"type": "text", "text": "はい"})
    assert texts(await frame(again, "messages")) == ["echo: はい"]
    await again.close()


async def test_every_open_page_of_the_conversation_gets_a_push(hub: Hub, fake_engine: FakeEngine) -> None:
    first, session = await start_conversation(hub)
    second, _ = await hello(hub, session)
    await staff_reply(hub, fake_engine.received[0]["sender"], "お待たせしました。")
    for page in (first, second):
        pushed = await frame(page, "messages")
        assert texts(pushed) == ["お待たせしました。"]
        assert [m["from"] for m in pushed["messages"]] == ["staff"]  # labelled as a person, not the assistant
    await first.close()
    await second.close()


async def test_history_keeps_the_newest_messages_in_order(hub: Hub) -> None:
    socket, session = await start_conversation(hub, "一つめ")
    for text in ("二つめ", "三つめ"):
        await socket.send_json({"type": "text", "text": text})
        await frame(socket, "messages")
    await socket.close()
    core = hub.app[CORE]
    conversation = await core.find("widget", Session(session))
    newest = await core.history(conversation, limit=3)
    assert [(e.sender, e.text) for e in newest] == [
        ("bot", "echo: 二つめ"),
        ("resident", "三つめ"),
        ("bot", "echo: 三つめ"),
    ]


async def test_the_demo_page_embeds_the_widget_with_one_script_tag(hub: Hub) -> None:
    response = await hub.get("/demo/")
    page = await response.text()
    assert response.status == 200 and '<html lang="ja">' in page
    assert page.count("<script") == 1 and 'src="/channels/widget/static/widget.js"' in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for name in ("widget.js", "chat-client.js", "chat-log.js", "widget.css"):
        assert (await hub.get(f"/channels/widget/static/{name}")).status == 200


def widget_script_sentences() -> list[str]:
    """Every sentence for residents in widget.js: quoted Japanese text ending with 。."""
    script = (Path(__file__).parents[2] / "channels" / "widget" / "static" / "widget.js").read_text(encoding="utf-8")
    return re.findall(r'"([^"\n]*[ぁ-んァ-ン一-龯][^"\n]*。)"', script)


async def test_everything_the_widget_says_is_plain_japanese() -> None:
    from_script = widget_script_sentences()
    assert "文字を入れてから、送ってください。" in from_script and len(from_script) >= 6
    said = [*OPENING, EMPTY, FAILED, NOT_READY, SESSION_OVER, OLD_BUTTON, too_long(MAX_TEXT_CHARS), *from_script]
    breaches = {text: check_message(text) for text in said if check_message(text)}
    assert breaches == {}
    assert check_turn(list(OPENING)) == []


async def test_without_the_dictionary_messages_still_flow_without_readings(
    start_hub: StartHub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing() -> None:
        raise FileNotFoundError("system.dic")

    monkeypatch.setattr("channels.widget.socket_channel.Furigana.load", missing)
    hub = await start_hub()
    socket, welcome = await hello(hub)
    assert welcome["opening"][1]["ruby"] == [[OPENING[1], ""]]
    await socket.send_json({"type": "text", "text": "暗証番号"})
    assert texts(await frame(socket, "messages")) == ["echo: 暗証番号"]
    assert "ふりがな are off" in caplog.text
    await socket.close()
