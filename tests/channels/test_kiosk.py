"""The kiosk channel over HTTP: its page, its socket, the speech endpoint, the summary card, the listening hook."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient, AiohttpServer

from bot.city import load_city
from bot.hub.app import create_app
from bot.hub.keys import CHANNELS, OUTBOX, STORE
from bot.hub.messages import BotMessage
from bot.hub.speech.speaker import MAX_SPEECH_CHARS
from bot.plain_japanese import check_message
from bot.procedures import load_catalog
from channels import ChannelSettingsError
from channels.kiosk import KioskChannel, create, wording
from tests.hub.fake_engine import FakeEngine
from tests.hub.fake_google_tts import FAKE_MP3, FakeGoogleTTS

Hub = TestClient[Any, Any]
StartHub = Callable[..., Awaitable[Hub]]
OFFLINE = {"SPEECH_GOOGLE": "off"}


@pytest_asyncio.fixture
async def start_hub(aiohttp_client: AiohttpClient, fake_engine: FakeEngine, tmp_path: Path) -> StartHub:
    """A hub serving only the kiosk, with the environment given, its readings loaded."""

    async def start(env: dict[str, str] | None = None) -> Hub:
        settings = dataclasses.replace(fake_engine.hub_settings(tmp_path / "var"), channels=("kiosk",))
        client = await aiohttp_client(create_app(settings, env=env if env is not None else OFFLINE))
        await kiosk(client).ready()
        return client

    return start


@pytest_asyncio.fixture
async def hub(start_hub: StartHub) -> Hub:
    return await start_hub()


def kiosk(hub: Hub) -> KioskChannel:
    return next(channel for channel in hub.app[CHANNELS].on if isinstance(channel, KioskChannel))


async def next_frame(socket: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        received: dict[str, Any] = await asyncio.wait_for(socket.receive_json(), 5)
        if received["type"] == kind:
            return received


async def start_conversation(hub: Hub, text: str) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    origin = str(hub.make_url("")).rstrip("/")
    socket = await hub.ws_connect("/channels/kiosk/socket", headers={"Origin": origin})
    await socket.send_json({"type": "hello", "session": None})
    welcome = await next_frame(socket, "welcome")
    assert [m["text"] for m in welcome["opening"]] == list(wording.OPENING)
    await socket.send_json({"type": "text", "text": text})
    session = (await next_frame(socket, "session"))["session"]
    await next_frame(socket, "messages")
    return socket, session


async def test_the_page_loads_only_the_hubs_own_files_and_carries_the_idle_times(start_hub: StartHub) -> None:
    hub = await start_hub({**OFFLINE, "KIOSK_IDLE_SECONDS": "90"})
    page = await hub.get("/kiosk/")
    assert page.status == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    text = await page.text()
    words = re.search(r'data-words="([^"]+)"', text)
    assert words is not None and json.loads(html.unescape(words.group(1))) == wording.PAGE
    assert 'data-idle-seconds="90"' in text and 'data-answer-seconds="20"' in text and 'data-listen="off"' in text
    files = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert len(files) == 4 and all(name.startswith("/channels/kiosk/") for name in files), files
    for name in files:
        served = await hub.get(name)
        assert served.status == 200, name
    assert (await hub.get("/kiosk", allow_redirects=False)).headers["Location"] == "/kiosk/"


async def test_conversations_are_the_kiosks_own_and_staff_replies_reach_the_page(hub: Hub, tmp_path: Path) -> None:
    socket, _ = await start_conversation(hub, "暗証番号を忘れました")
    with sqlite3.connect(tmp_path / "var" / "hub.db") as db:
        [(conversation_id, channel)] = db.execute("select id, channel from conversations").fetchall()
    assert channel == "kiosk"
    await hub.app[STORE](lambda s: s.enqueue(conversation_id, [BotMessage("窓口の山田です。")], sender="staff"))
    hub.app[OUTBOX].notify("kiosk")
    pushed = await next_frame(socket, "messages")
    assert [(m["from"], m["text"]) for m in pushed["messages"]] == [("staff", "窓口の山田です。")]
    await socket.close()


async def test_speech_is_audio_with_cache_headers_and_comes_from_the_cache_the_second_time(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    text = "iPhoneで、6:30に読み取ってください。"
    first = await hub.get("/channels/kiosk/speech", params={"text": text})
    assert first.status == 200 and first.content_type == "audio/wav"
    assert first.headers["Cache-Control"] == "public, max-age=86400" and first.headers["X-Voice"] == "openjtalk"
    audio = await first.read()
    assert audio[:4] == b"RIFF" and len(audio) > 10_000
    cached = kiosk(hub).speaker.cache.get("アイフォーンで、6時30分に読み取ってください。", "openjtalk", "normal")
    assert cached is not None and cached.audio.data == audio
    etag = first.headers["ETag"]
    again = await hub.get("/channels/kiosk/speech", params={"text": text}, headers={"If-None-Match": etag})
    assert again.status == 304
    slow = await hub.get("/channels/kiosk/speech", params={"text": text, "speed": "slow"})
    assert slow.status == 200 and slow.headers["ETag"] != etag
    # The message's text stays out of the hub's access log; the request itself is logged.
    assert caplog.text.count("GET /channels/kiosk/speech?…") == 3
    assert "iPhone" not in caplog.text and "%E8%AA%AD" not in caplog.text.upper()


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "empty"),
        ({"text": "   "}, "empty"),
        ({"text": "https://myna.go.jp/"}, "empty"),
        ({"text": "あ" * (MAX_SPEECH_CHARS + 1)}, "too_long"),
        ({"text": "こんにちは", "speed": "fast"}, "bad_speed"),
    ],
)
async def test_speech_refuses_what_cannot_be_said_with_a_clear_error(
    hub: Hub, params: dict[str, str], code: str
) -> None:
    answer = await hub.get("/channels/kiosk/speech", params=params)
    assert answer.status == 400
    assert (await answer.json())["error"] == code
    assert kiosk(hub).speaker.cache.count() == 0


async def test_with_google_reachable_the_kiosk_speaks_with_googles_voice(start_hub: StartHub) -> None:
    google = FakeGoogleTTS().start()
    try:
        hub = await start_hub({"SPEECH_GOOGLE_URL": google.url})
        answer = await hub.get("/channels/kiosk/speech", params={"text": "窓口へ行ってください。"})
        assert answer.content_type == "audio/mpeg" and await answer.read() == FAKE_MP3
    finally:
        google.stop()


async def test_the_card_shows_the_procedure_and_the_citys_desk_and_nothing_the_resident_said(
    hub: Hub, fake_engine: FakeEngine
) -> None:
    _, session = await start_conversation(hub, "こんにちは")
    none_yet = await hub.get("/channels/kiosk/card", params={"session": session})
    assert none_yet.status == 404 and (await none_yet.json())["error"] == "no_procedure"
    fake_engine.answer = [
        {"recipient_id": "x", "text": "ご案内します。"},
        {"recipient_id": "x", "custom": {"event": "procedure_opened", "procedure": "card_apply"}},
    ]
    socket, other = await start_conversation(hub, "山田太郎です。カードを作りたい")
    card = await (await hub.get("/channels/kiosk/card", params={"session": other})).json()
    procedure, desk = load_catalog()["card_apply"], load_city().helpdesk
    assert card == {
        "title": procedure.title,
        "bring": list(procedure.prepare),
        "desk": desk.name,
        "place": desk.place,
        "hours": desk.hours,
        "phone": desk.phone,
    }
    assert "山田" not in str(card)
    assert (await hub.get("/channels/kiosk/card", params={"session": "nobody"})).status == 404
    await socket.close()


@pytest_asyncio.fixture
async def speech_to_text(aiohttp_server: AiohttpServer) -> AsyncIterator[dict[str, Any]]:
    """An operator's speech-to-text service on loopback: it answers what `state["answer"]` says."""
    state: dict[str, Any] = {"heard": [], "answer": {"text": "暗証番号をわすれた"}, "status": 200}

    async def recognise(request: web.Request) -> web.Response:
        state["heard"].append((request.content_type, await request.read()))
        return web.json_response(state["answer"], status=state["status"])

    app = web.Application()
    app.router.add_post("/recognise", recognise)
    server = await aiohttp_server(app)
    state["url"] = str(server.make_url("/recognise"))
    yield state


async def test_the_listening_hook_forwards_the_recording_and_returns_the_text(
    start_hub: StartHub, speech_to_text: dict[str, Any]
) -> None:
    hub = await start_hub({**OFFLINE, "KIOSK_SPEECH_TO_TEXT_URL": speech_to_text["url"]})
    assert 'data-listen="on"' in await (await hub.get("/kiosk/")).text()
    recording = b"\x1aE\xdf\xa3" + b"\x00" * 500
    heard = await hub.post("/channels/kiosk/listen", data=recording, headers={"Content-Type": "audio/webm"})
    assert await heard.json() == {"text": "暗証番号をわすれた"}
    assert speech_to_text["heard"] == [("audio/webm", recording)]
    speech_to_text["status"] = 500
    failed = await hub.post("/channels/kiosk/listen", data=recording, headers={"Content-Type": "audio/webm"})
    assert failed.status == 502 and (await failed.json())["error"] == "not_heard"
    elsewhere = {"Content-Type": "audio/webm", "Origin": "https://evil.example.com"}
    refused = await hub.post("/channels/kiosk/listen", data=recording, headers=elsewhere)
    assert refused.status == 403 and len(speech_to_text["heard"]) == 2


async def test_without_a_service_the_listening_hook_says_how_to_plug_one_in(hub: Hub) -> None:
    answer = await hub.post("/channels/kiosk/listen", data=b"audio")
    assert answer.status == 404 and "KIOSK_SPEECH_TO_TEXT_URL" in (await answer.json())["message"]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KIOSK_IDLE_SECONDS": "soon"}, "KIOSK_IDLE_SECONDS"),
        ({"KIOSK_IDLE_SECONDS": "5"}, "KIOSK_IDLE_SECONDS"),
        ({"KIOSK_ANSWER_SECONDS": "-1"}, "KIOSK_ANSWER_SECONDS"),
        ({"KIOSK_SPEECH_TO_TEXT_URL": "stt.local"}, "KIOSK_SPEECH_TO_TEXT_URL"),
        ({"SPEECH_GOOGLE": "yes"}, "SPEECH_GOOGLE"),
    ],
)
def test_bad_settings_stop_the_hub_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ChannelSettingsError, match=named):
        create(env)


def test_defaults_ask_after_two_minutes() -> None:
    settings = create({}).settings
    assert (settings.idle_seconds, settings.answer_seconds, settings.speech_to_text_url) == (120, 20, None)


@pytest.mark.parametrize(
    "text", [*wording.OPENING, *wording.PAGE.values(), wording.SPEECH_EMPTY, wording.SPEECH_NO_VOICE]
)
def test_what_the_kiosk_says_is_plain_japanese(text: str) -> None:
    assert check_message(text) == []
