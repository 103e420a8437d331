"""A stand-in for LINE's Messaging API on loopback: reply, push, loading animation and rich menu endpoints.

It checks requests as LINE does (access token, at most 5 messages, text length in UTF-16 units, quick-reply
limits, one use per reply token, retry keys), records every request and what reached each chat, and can be told
to fail: 500 then 200, 429 with Retry-After, or accept a push and still answer an error (so the retry gets 409).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpClient, AiohttpServer
from yarl import URL

from bot.hub.app import create_app
from bot.hub.keys import CHANNELS, CORE, SETTINGS
from channels.line import WEBHOOK_PATH
from channels.line.channel import LineChannel
from tests.channels.fake_line_events import CHANNEL_SECRET, sign, webhook_body
from tests.hub.fake_engine import FakeEngine

ACCESS_TOKEN = "fake-line-access-token"
_UUID = re.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Delivered:
    """Messages that reached a chat, and how (reply or push)."""

    chat_id: str
    how: str
    messages: list[dict[str, Any]]


@dataclass
class Failure:
    """A programmed answer: the status, a Retry-After, and whether the request still went through first."""

    status: int
    retry_after: int | None = None
    accepted: bool = False


@dataclass
class FakeLineApi:
    """LINE's API as a test sees it."""

    requests: list[Recorded] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    rich_menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    rich_menu_images: dict[str, bytes] = field(default_factory=dict)
    default_rich_menu: str | None = None
    _failures: dict[str, deque[Failure]] = field(default_factory=lambda: defaultdict(deque))
    _tokens: dict[str, str] = field(default_factory=dict)
    _used_tokens: set[str] = field(default_factory=set)
    _accepted_keys: set[str] = field(default_factory=set)
    _server: TestServer | None = None

    @property
    def url(self) -> URL:
        """The base URL, as LINE_API_BASE_URL gives it."""
        assert self._server is not None, "start the fake LINE API first"
        return URL(str(self._server.make_url(""))).with_path("")

    async def start(self, aiohttp_server: AiohttpServer) -> None:
        """Serve on a free loopback port."""
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/v2/bot/message/reply", self._reply)
        app.router.add_post("/v2/bot/message/push", self._push)
        app.router.add_post("/v2/bot/chat/loading/start", self._loading)
        app.router.add_post("/v2/bot/richmenu", self._create_rich_menu)
        app.router.add_post("/v2/bot/richmenu/{id}/content", self._rich_menu_image)
        app.router.add_post("/v2/bot/user/all/richmenu/{id}", self._set_default_rich_menu)
        self._server = await aiohttp_server(app, host="127.0.0.1")

    async def stop(self) -> None:
        """Stop answering, as when LINE cannot be reached."""
        assert self._server is not None
        await self._server.close()

    def reply_token(self, chat_id: str) -> str:
        """A fresh reply token for an event from this chat, as LINE puts in a webhook."""
        token = uuid.uuid4().hex
        self._tokens[token] = chat_id
        return token

    def fail(self, path: str, *failures: Failure) -> None:
        """Answer the next requests to this path with these failures, in order, then normally."""
        self._failures[path].extend(failures)

    def calls(self, path: str) -> list[Recorded]:
        """The requests made to one endpoint, in order."""
        return [r for r in self.requests if r.path == path]

    def texts_to(self, chat_id: str) -> list[str]:
        """Every text that reached the chat, in order."""
        return [m["text"] for d in self.delivered if d.chat_id == chat_id for m in d.messages if m["type"] == "text"]

    def messages_to(self, chat_id: str) -> list[dict[str, Any]]:
        """Every message object that reached the chat, in order."""
        return [m for d in self.delivered if d.chat_id == chat_id for m in d.messages]

    # Endpoints

    async def _reply(self, request: web.Request) -> web.Response:
        body, refused = await self._receive(request)
        if refused is not None:
            return refused
        token = body.get("replyToken")
        chat_id = self._tokens.get(token) if isinstance(token, str) else None
        if chat_id is None or token in self._used_tokens:
            return _line_error(400, "Invalid reply token")
        problem = _check_messages(body.get("messages"))
        if problem:
            return _line_error(400, "The request body has 1 error(s)", problem)
        failure = self._next_failure(request.path)
        if failure is None or failure.accepted:
            self._used_tokens.add(token)
            self.delivered.append(Delivered(chat_id, "reply", body["messages"]))
        if failure is not None:
            return _failure(failure)
        return web.json_response({"sentMessages": _sent(body["messages"])})

    async def _push(self, request: web.Request) -> web.Response:
        body, refused = await self._receive(request)
        if refused is not None:
            return refused
        key = request.headers.get("X-Line-Retry-Key")
        if key is not None and not _UUID.fullmatch(key):
            return _line_error(400, "The retry key must be a UUID")
        if key in self._accepted_keys:
            response = _line_error(409, "The retry key is already accepted")
            response.headers["x-line-accepted-request-id"] = str(uuid.uuid4())
            return response
        to = body.get("to")
        problem = _check_messages(body.get("messages"))
        if not isinstance(to, str) or not to:
            problem = "to: must be a user, group or room id"
        if problem:
            return _line_error(400, "The request body has 1 error(s)", problem)
        failure = self._next_failure(request.path)
        if failure is None or failure.accepted:
            if key is not None:
                self._accepted_keys.add(key)
            self.delivered.append(Delivered(to, "push", body["messages"]))
        if failure is not None:
            return _failure(failure)
        return web.json_response({"sentMessages": _sent(body["messages"])})

    async def _loading(self, request: web.Request) -> web.Response:
        body, refused = await self._receive(request)
        if refused is not None:
            return refused
        seconds = body.get("loadingSeconds", 20)
        if not isinstance(body.get("chatId"), str) or seconds not in range(5, 61, 5):
            return _line_error(400, "The request body has 1 error(s)", "loadingSeconds: 5 to 60, a multiple of 5")
        return web.json_response({}, status=202)

    async def _create_rich_menu(self, request: web.Request) -> web.Response:
        body, refused = await self._receive(request)
        if refused is not None:
            return refused
        size = body.get("size", {})
        areas = body.get("areas", [])
        if size.get("width") != 2500 or size.get("height") not in (843, 1686) or not 1 <= len(areas) <= 20:
            return _line_error(400, "The request body has 1 error(s)", "size or areas")
        if not isinstance(body.get("chatBarText"), str) or len(body["chatBarText"]) > 14:
            return _line_error(400, "The request body has 1 error(s)", "chatBarText: at most 14 characters")
        menu_id = f"richmenu-{uuid.uuid4().hex}"
        self.rich_menus[menu_id] = body
        return web.json_response({"richMenuId": menu_id})

    async def _rich_menu_image(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return _line_error(401, "Authentication failed")
        image = await request.read()
        self.requests.append(Recorded(request.method, request.path, dict(request.headers), len(image)))
        menu_id = request.match_info["id"]
        if menu_id not in self.rich_menus:
            return _line_error(404, "Not found")
        if request.content_type != "image/png" or not image.startswith(b"\x89PNG\r\n\x1a\n") or len(image) > 1 << 20:
            return _line_error(400, "The image must be a PNG or JPEG of at most 1 MB")
        self.rich_menu_images[menu_id] = image
        return web.json_response({})

    async def _set_default_rich_menu(self, request: web.Request) -> web.Response:
        _, refused = await self._receive(request, json_body=False)
        if refused is not None:
            return refused
        menu_id = request.match_info["id"]
        if menu_id not in self.rich_menu_images:
            return _line_error(400, "The rich menu has no image")
        self.default_rich_menu = menu_id
        return web.json_response({})

    async def _receive(self, request: web.Request, json_body: bool = True) -> tuple[Any, web.Response | None]:
        raw = await request.read()
        try:
            body = await request.json() if json_body and raw else None
        except ValueError:
            return None, _line_error(400, "The request body is not JSON")
        self.requests.append(Recorded(request.method, request.path, dict(request.headers), body))
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return body, _line_error(401, "Authentication failed. Confirm that the access token is valid.")
        if json_body and not isinstance(body, dict):
            return body, _line_error(400, "The request body must be a JSON object")
        return body, None

    def _next_failure(self, path: str) -> Failure | None:
        queue = self._failures.get(path)
        return queue.popleft() if queue else None


def _check_messages(messages: Any) -> str | None:
    """What LINE would refuse in a messages array, or None."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return "messages: between 1 and 5 message objects"
    for index, message in enumerate(messages):
        if message.get("type") != "text":
            continue
        text = message.get("text")
        if not isinstance(text, str) or not text or len(text.encode("utf-16-le")) // 2 > 5000:
            return f"messages[{index}].text: 1 to 5000 characters"
        if "\ufffd" in text or any("\ud800" <= c <= "\udfff" for c in text):
            return f"messages[{index}].text: broken characters"
        items = message.get("quickReply", {}).get("items", [])
        if len(items) > 13:
            return f"messages[{index}].quickReply.items: at most 13"
        for item in items:
            action = item.get("action", {})
            if not 1 <= len(action.get("label", "")) <= 20:
                return f"messages[{index}].quickReply.items.action.label: 1 to 20 characters"
            if action.get("type") == "postback" and not 0 < len(action.get("data", "")) <= 300:
                return f"messages[{index}].quickReply.items.action.data: 1 to 300 characters"
    return None


def _sent(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"id": str(uuid.uuid4().int)[:18], "quoteToken": uuid.uuid4().hex} for _ in messages]


def _failure(failure: Failure) -> web.Response:
    response = _line_error(failure.status, "programmed failure")
    if failure.retry_after is not None:
        response.headers["Retry-After"] = str(failure.retry_after)
    return response


def _line_error(status: int, message: str, detail: str | None = None) -> web.Response:
    body: dict[str, Any] = {"message": message}
    if detail:
        body["details"] = [{"message": detail, "property": detail.split(":")[0]}]
    return web.json_response(body, status=status)


# Fixtures: the fake LINE API, and a hub serving the LINE channel in front of it and the fake engine.


def line_env(api: FakeLineApi) -> dict[str, str]:
    """The LINE channel's settings pointing at the fake."""
    return {
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_BASE_URL": str(api.url),
    }


@pytest_asyncio.fixture(name="line_api")
async def line_api_fixture(aiohttp_server: AiohttpServer) -> FakeLineApi:
    api = FakeLineApi()
    await api.start(aiohttp_server)
    return api


@dataclass
class LineHub:
    """A running hub with the LINE channel, and what the tests do with it."""

    client: TestClient[Any, Any]
    api: FakeLineApi

    @property
    def channel(self) -> LineChannel:
        """The hub's LINE channel."""
        [channel] = [c for c in self.client.app[CHANNELS].on if isinstance(c, LineChannel)]
        return channel

    async def post(self, *events: dict[str, Any], signature: str | None = None, body: bytes | None = None) -> int:
        """Send a webhook request as LINE does; return the status."""
        data = body if body is not None else webhook_body(*events)
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "LineBotWebhook/2.0"}
        headers["X-Line-Signature"] = sign(data) if signature is None else signature
        response = await self.client.post(WEBHOOK_PATH, data=data, headers=headers)
        await response.read()
        return response.status

    async def settled(self) -> None:
        """Wait until every kept event is handled, late answers are in, and the outbox delivered what it could."""
        await self.channel.events.worker.idle()
        await self.client.app[CORE].wait_for_late_answers()
        await eventually(lambda: self.undelivered() == 0, what="the outbox to empty")

    def undelivered(self) -> int:
        """Messages for residents still waiting in the outbox."""
        with sqlite3.connect(self.data_dir / "hub.db") as conn:
            row = conn.execute("select count(*) from messages where sender != 'resident' and delivered_at is null")
            return int(row.fetchone()[0])

    @property
    def data_dir(self) -> Path:
        """Where the hub keeps its database."""
        return self.client.app[SETTINGS].data_dir


async def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait for a condition the hub reaches on its own (no assertion on how long it took)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


MakeLineHub = Callable[..., Awaitable[LineHub]]


@pytest_asyncio.fixture(name="make_line_hub")
async def make_line_hub_fixture(
    aiohttp_client: AiohttpClient, fake_engine: FakeEngine, line_api: FakeLineApi, tmp_path: Path
) -> AsyncIterator[MakeLineHub]:
    """Start a hub serving LINE in front of the fake engine and the fake LINE API."""

    async def start(timeout: float = 5.0) -> LineHub:
        settings = replace(fake_engine.hub_settings(tmp_path / "var", timeout=timeout), channels=("line",))
        client = await aiohttp_client(create_app(settings, env=line_env(line_api)))
        return LineHub(client, line_api)

    yield start
    # A test that failed with the engine held must not keep the hub's shutdown waiting for its answer.
    fake_engine.release()


@pytest_asyncio.fixture(name="line_hub")
async def line_hub_fixture(make_line_hub: MakeLineHub) -> LineHub:
    return await make_line_hub()
