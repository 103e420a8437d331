"""The widget's HTTP side: the WebSocket a page talks through, and the demo city page."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from bot.hub.core import ResidentMessage, Session, TurnRefused, UnknownSession
from bot.hub.keys import CITY
from bot.hub.store import Conversation

from . import protocol, wording
from .settings import normal_origin

if TYPE_CHECKING:
    from . import WidgetChannel

logger = logging.getLogger(__name__)

# A frame holds one message of at most 2,000 characters; anything far larger is not from the widget.
MAX_FRAME_BYTES = 32 * 1024
HISTORY_LENGTH = 30
DEMO_PAGE = Path(__file__).parent / "demo.html"
# The demo page loads only its own files; the widget's socket is on the same host.
DEMO_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class WidgetViews:
    """Request handlers bound to the widget channel they serve."""

    def __init__(self, channel: WidgetChannel) -> None:
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

    async def demo(self, request: web.Request) -> web.Response:
        """A fictional city page with the widget embedded by one script tag, as a city would do it."""
        city = html.escape(request.app[CITY].name)
        page = DEMO_PAGE.read_text(encoding="utf-8").replace("{{city}}", city)
        return web.Response(text=page, content_type="text/html", headers={"Content-Security-Policy": DEMO_POLICY})

    async def to_demo(self, request: web.Request) -> web.Response:
        """/demo without the slash."""
        raise web.HTTPFound("/demo/")

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = normal_origin(request.headers.get("Origin", ""))
        if origin is None:
            # Browsers always send Origin with a WebSocket; a request without one is not from a widget page.
            return False
        if origin in self._channel.settings.allowed_origins:
            return True
        # Pages the hub serves itself (the demo, the kiosk) always may.
        scheme = origin.split(":", 1)[0]
        return origin == normal_origin(f"{scheme}://{request.host}")


class PageConversation:
    """What one open page is doing: which conversation it shows, and its turns."""

    def __init__(self, channel: WidgetChannel, socket: web.WebSocketResponse) -> None:
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
                conversation = await core.find(CHANNEL, Session(hello.session))
            except UnknownSession:
                # Purged after the retention period, or never ours: the page starts afresh and forgets the token.
                await self._send(protocol.error("session_over", wording.SESSION_OVER))
        history = []
        if conversation is not None:
            entries = await core.history(conversation, HISTORY_LENGTH)
            history = [
                protocol.message(e.text, self._channel.ruby, sender=e.sender, replies=e.quick_replies, ident=e.id)
                for e in entries
            ]
        await self._send(
            {
                "type": "welcome",
                "session": hello.session if conversation is not None else None,
                "opening": [protocol.message(text, self._channel.ruby) for text in wording.OPENING],
                "history": history,
                "max_chars": protocol.MAX_TEXT_CHARS,
            }
        )
        if conversation is not None:
            self._attach(conversation, hello.session)
            await self._channel.pages.flush(core, conversation)
            await self._send({"type": "typing", "on": core.is_busy(conversation)})

    async def _turn(self, frame: protocol.Typed | protocol.Tapped) -> None:
        core = self._channel.core
        if isinstance(frame, protocol.Typed):
            message = ResidentMessage(CHANNEL, Session(self._token), text=frame.text)
        else:
            message = ResidentMessage(CHANNEL, Session(self._token), reply_key=frame.key)
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
            logger.exception("widget: a turn failed")
            await self._send({"type": "typing", "on": False})
            raise protocol.BadFrame("failed", wording.FAILED) from None
        if self._conversation is None:
            assert turn.session_token is not None, "a new widget conversation always gets a token"
            self._attach(turn.conversation, turn.session_token)
            await self._send({"type": "session", "session": turn.session_token})
        await self._channel.pages.flush(core, turn.conversation)
        await self._send({"type": "typing", "on": core.is_busy(turn.conversation)})

    def _attach(self, conversation: Conversation, token: str | None) -> None:
        self._conversation, self._token = conversation, token
        self._channel.pages.add(conversation.id, self._socket)

    def _forget(self) -> None:
        self.closed()
        self._conversation, self._token = None, None

    async def _send(self, frame: dict[str, object]) -> None:
        await self._channel.pages.send(self._socket, frame)


CHANNEL = "widget"
