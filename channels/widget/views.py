"""The widget's HTTP side: the WebSocket a page talks through (the widget's and the kiosk's), and the demo page."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from bot.hub.core import ResidentMessage, Session, TurnRefused, UnknownSession
from bot.hub.keys import CITY
from bot.hub.store import Conversation, HistoryEntry

from . import protocol, wording
from .settings import normal_origin

if TYPE_CHECKING:
    from .socket_channel import SocketChannel

logger = logging.getLogger(__name__)

# The channel's name, as conversations and the core know it (channels/widget/__init__.py serves it as NAME).
CHANNEL = "widget"
# A frame holds one message of at most 2,000 characters; anything far larger is not from the widget.
MAX_FRAME_BYTES = 32 * 1024
HISTORY_LENGTH = 30
DEMO_PAGE = Path(__file__).parent / "demo.html"
# The demo page loads only its own files; the widget's socket is on the same host.
DEMO_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SocketViews:
    """The WebSocket handler bound to the channel it serves (the widget or the kiosk)."""

    def __init__(self, channel: SocketChannel) -> None:
        self._channel = channel

    async def socket(self, request: web.Request) -> web.StreamResponse:
        """One page's WebSocket: a hello with the kept session, then the resident's messages, one turn at a time."""
        if not self._origin_allowed(request):
            # Another site's page must not drive a resident's conversation (or start ones in their name).
            return web.json_response({"error": "this page's origin may not open the widget"}, status=403)
        socket = web.WebSocketResponse(heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES)
        await socket.prepare(request)
        page = PageConversation(self._channel, socket)
        try:
            async for frame in socket:
                if frame.type != WSMsgType.TEXT:
                    continue
                await page.take(frame.data)
        finally:
            page.closed()
        return socket

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = normal_origin(request.headers.get("Origin", ""))
        if origin is None:
            # Browsers always send Origin with a WebSocket; a request without one is not from a widget page.
            return False
        if origin in self._channel.allowed_origins():
            return True
        # Pages the hub serves itself (the demo, the kiosk) always may.
        scheme = origin.split(":", 1)[0]
        return origin == normal_origin(f"{scheme}://{request.host}")


class DemoViews:
    """The demo city page, with the widget embedded."""

    @staticmethod
    async def demo(request: web.Request) -> web.Response:
        """A fictional city page with the widget embedded by one script tag, as a city would do it."""
        city = html.escape(request.app[CITY].name)
        page = DEMO_PAGE.read_text(encoding="utf-8").replace("{{city}}", city)
        return web.Response(text=page, content_type="text/html", headers={"Content-Security-Policy": DEMO_POLICY})

    @staticmethod
    async def to_demo(request: web.Request) -> web.Response:
        """/demo without the slash."""
        raise web.HTTPFound("/demo/")


class PageConversation:
    """What one open page is doing: which conversation it shows, and its turns."""

    def __init__(self, channel: SocketChannel, socket: web.WebSocketResponse) -> None:
        self._channel = channel
        self._socket = socket
        self._greeted = False
        self._token: str | None = None
        self._conversation: Conversation | None = None

    async def take(self, raw: str) -> None:
        """Answer one frame from the page."""
        try:
            frame = protocol.parse_frame(raw)
            if isinstance(frame, protocol.Hello):
                await self._hello(frame)
            elif not self._greeted:
                raise protocol.BadFrame("not_ready", wording.NOT_READY)
            else:
                await self._turn(frame)
        except protocol.BadFrame as refused:
            await self._send(protocol.error(refused.code, refused.message))

    def closed(self) -> None:
        """The page went away: pushes for its conversation wait in the outbox until it comes back."""
        if self._conversation is not None:
            self._channel.pages.remove(self._conversation.id, self._socket)

    async def _hello(self, hello: protocol.Hello) -> None:
        if self._greeted:
            raise protocol.BadFrame("bad_frame", wording.NOT_READY)
        self._greeted = True
        await self._channel.ready()
        core = self._channel.core
        conversation = None
        if hello.session is not None:
            try:
                conversation = await core.find(self._channel.name, Session(hello.session))
            except UnknownSession:
                # Purged after the retention period, or never ours: the page starts afresh and forgets the token.
                await self._send(protocol.error("session_over", wording.SESSION_OVER))
        if conversation is None:
            await self._welcome(None, [])
            return
        returning = conversation

        async def greet() -> None:
            entries = await core.history(returning, HISTORY_LENGTH)
            await self._welcome(hello.session, entries)

        await self._channel.pages.join(core, conversation, self._socket, greet)
        self._conversation, self._token = conversation, hello.session
        await self._send({"type": "typing", "on": core.is_busy(conversation)})

    async def _welcome(self, session: str | None, history: list[HistoryEntry]) -> None:
        ruby = self._channel.ruby
        await self._send(
            {
                "type": "welcome",
                "session": session,
                "opening": [protocol.message(text, ruby) for text in self._channel.opening],
                "history": [
                    protocol.message(e.text, ruby, sender=e.sender, replies=e.quick_replies, message_id=e.id)
                    for e in history
                ],
                "max_chars": protocol.MAX_TEXT_CHARS,
            }
        )

    async def _turn(self, frame: protocol.Typed | protocol.Tapped) -> None:
        core = self._channel.core
        if isinstance(frame, protocol.Typed):
            message = ResidentMessage(self._channel.name, Session(self._token), text=frame.text)
        else:
            message = ResidentMessage(self._channel.name, Session(self._token), reply_key=frame.key)
        await self._send({"type": "typing", "on": True})
        try:
            turn = await core.handle(message)
        except UnknownSession:
            self._forget()
            await self._send({"type": "typing", "on": False})
            raise protocol.BadFrame("session_over", wording.SESSION_OVER) from None
        except TurnRefused:
            await self._send({"type": "typing", "on": False})
            raise protocol.BadFrame("old_button", wording.OLD_BUTTON) from None
        except Exception:
            logger.exception("%s: a turn failed", self._channel.name)
            await self._send({"type": "typing", "on": False})
            raise protocol.BadFrame("failed", wording.FAILED) from None
        if self._conversation is None:
            assert turn.session_token is not None, "a new conversation on a page always gets a token"
            # Added before anything else is awaited, so the outbox finds this page for the turn's answer.
            self._conversation, self._token = turn.conversation, turn.session_token
            self._channel.pages.add(turn.conversation.id, self._socket)
            await self._send({"type": "session", "session": turn.session_token})
        await self._channel.pages.flush(core, turn.conversation)
        await self._send({"type": "typing", "on": core.is_busy(turn.conversation)})

    def _forget(self) -> None:
        self.closed()
        self._conversation, self._token = None, None

    async def _send(self, frame: dict[str, object]) -> None:
        await self._channel.pages.send(self._socket, frame)
