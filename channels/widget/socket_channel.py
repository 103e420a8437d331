"""A channel whose pages talk to the hub over the widget's WebSocket: the widget, and the voice kiosk.

It owns the open pages, the push path to them (`deliver`) and the readings (ふりがな) its messages carry.
Each concrete channel names itself, says its opening and adds its own pages beside the socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from bot.hub.core import ConversationCore
from bot.hub.furigana import Furigana, Segment
from bot.hub.keys import CORE
from bot.hub.messages import BotMessage
from bot.hub.store import Conversation
from channels import DeliveryFailed

from .sockets import OpenPages

logger = logging.getLogger(__name__)


class SocketChannel:
    """The WebSocket side shared by the widget and the kiosk; subclasses set `name` and `opening`."""

    name: str
    # The first messages of a new conversation, shown (and, on the kiosk, spoken) one at a time.
    opening: tuple[str, ...]

    def __init__(self) -> None:
        self._furigana: asyncio.Future[Furigana] | None = None
        self.pages = OpenPages(self.ruby)
        self._app: web.Application | None = None

    def allowed_origins(self) -> frozenset[str]:
        """Origins of other sites whose pages may open the socket; pages the hub serves itself always may."""
        return frozenset()

    def add_socket(self, app: web.Application, path: str) -> None:
        """Register the WebSocket at this path, and load the readings when the hub starts."""
        from .views import SocketViews

        self._app = app
        app.router.add_get(path, SocketViews(self).socket)
        app.cleanup_ctx.append(self._lifetime)
        # Open sockets would hold up the hub's shutdown: close them first; the pages reconnect to the next hub.
        app.on_shutdown.append(self._close_pages)

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        """Push what waits for this conversation to its open pages; with none open it waits for the next visit."""
        del messages  # the outbox is read again under the page lock, so nothing is sent twice
        if not await self.pages.flush(self.core, conversation):
            # Trying again cannot help until the resident opens the page again, and the page's hello sends it then.
            raise DeliveryFailed(
                f"no {self.name} page is open for this conversation; sent when it comes back", retry=False
            )

    @property
    def core(self) -> ConversationCore:
        """The hub's conversation core."""
        assert self._app is not None, "add_routes first"
        return self._app[CORE]

    def ruby(self, text: str) -> list[Segment]:
        """The text as (base, reading) segments; bare text until the dictionary has loaded."""
        if self._furigana is None or not self._furigana.done() or self._furigana.exception() is not None:
            return [(text, "")] if text else []
        return self._furigana.result().segments(text)

    async def ready(self) -> None:
        """Wait until the readings' dictionary has loaded or failed (then messages go without readings)."""
        if self._furigana is not None:
            await asyncio.wait([self._furigana])

    async def _close_pages(self, app: web.Application) -> None:
        await self.pages.close_all()

    async def _lifetime(self, app: web.Application) -> AsyncIterator[None]:
        # Loading Sudachi's dictionary takes a moment: on a worker thread, so the hub answers meanwhile.
        self._furigana = asyncio.get_running_loop().run_in_executor(None, Furigana.load)
        self._furigana.add_done_callback(self._log_failed_load)
        try:
            yield
        finally:
            await self.pages.close_all()

    def _log_failed_load(self, loading: asyncio.Future[Furigana]) -> None:
        if not loading.cancelled() and loading.exception() is not None:
            logger.error("%s: ふりがな are off, Sudachi's dictionary did not load: %s", self.name, loading.exception())
