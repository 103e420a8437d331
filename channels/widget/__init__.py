"""The web chat widget: a script tag for any city page, talking to the hub over a WebSocket that can push.

`create(env)` reads WIDGET_ALLOWED_ORIGINS. The routes: the WebSocket (`/channels/widget/socket`), the script,
style sheet and client code (`/channels/widget/static/…`, plain files, no build step) and a demo city page
(`/demo/`). Messages reach pages only through the outbox: `deliver` (called by the outbox worker) and a page's
own turn both send what is undelivered, so a page that was closed gets everything when it comes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from aiohttp import web

from bot.hub.core import ConversationCore
from bot.hub.furigana import Furigana, Segment
from bot.hub.keys import CORE
from bot.hub.messages import BotMessage
from bot.hub.store import Conversation
from channels import DeliveryFailed

from .settings import WidgetSettings
from .sockets import OpenPages
from .views import CHANNEL, WidgetViews

logger = logging.getLogger(__name__)

NAME = CHANNEL
STATIC_DIR = Path(__file__).parent / "static"


class WidgetChannel:
    """The widget's routes and its push path to open pages."""

    name = NAME

    def __init__(self, settings: WidgetSettings) -> None:
        self.settings = settings
        self._furigana: asyncio.Future[Furigana] | None = None
        self.pages = OpenPages(self.ruby)
        self._app: web.Application | None = None

    def add_routes(self, app: web.Application) -> None:
        """Register the WebSocket, the static files and the demo page, and load the readings at start-up."""
        self._app = app
        views = WidgetViews(self)
        app.router.add_get("/channels/widget/socket", views.socket)
        app.router.add_static("/channels/widget/static", STATIC_DIR)
        app.router.add_get("/demo/", views.demo)
        app.router.add_get("/demo", views.to_demo)
        app.cleanup_ctx.append(self._lifetime)
        # Open sockets would hold up the hub's shutdown: close them first; the pages reconnect to the next hub.
        app.on_shutdown.append(self._close_pages)

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        """Push what waits for this conversation to its open pages; with none open it waits for the next visit."""
        del messages  # the outbox is read again under the page lock, so nothing is sent twice
        if not await self.pages.flush(self.core, conversation):
            # Trying again cannot help until the resident opens the page again, and the page's hello sends it then.
            raise DeliveryFailed("no widget page is open for this conversation; sent when it comes back", retry=False)

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
        self._furigana.add_done_callback(_log_failed_load)
        try:
            yield
        finally:
            await self.pages.close_all()


def create(env: Mapping[str, str]) -> WidgetChannel:
    """The widget needs no secrets: it is on whenever it is listed; WIDGET_ALLOWED_ORIGINS is checked here."""
    return WidgetChannel(WidgetSettings.from_env(env))


def _log_failed_load(loading: asyncio.Future[Furigana]) -> None:
    if not loading.cancelled() and loading.exception() is not None:
        logger.error("widget: ふりがな are off, Sudachi's dictionary did not load: %s", loading.exception())
