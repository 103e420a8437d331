"""The voice kiosk: a page for a tablet or PC at city hall, for residents who do not type.

A channel of its own (conversations are "kiosk"), talking to the hub over the widget's WebSocket protocol.
It adds: the page (`/kiosk/`), the speech of each message (`/channels/kiosk/speech`, cached), the summary
card of the resident's procedure (`/channels/kiosk/card`) and, when an operator plugs one in, a
speech-to-text service for browsers without speech recognition (`/channels/kiosk/listen`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

from aiohttp import web

from bot.hub.keys import SETTINGS
from bot.hub.speech.speaker import Speaker
from bot.procedures import CatalogError, Procedure, load_catalog
from channels.widget import STATIC_DIR as WIDGET_STATIC_DIR
from channels.widget.socket_channel import SocketChannel

from . import wording
from .settings import KioskSettings
from .views import KioskViews, keep_speech_text_out_of_logs

logger = logging.getLogger(__name__)

NAME = "kiosk"
STATIC_DIR = Path(__file__).parent / "static"
# The widget's connection and log code, shared rather than copied.
SHARED_SCRIPTS = ("chat-client.js", "chat-log.js")


class KioskChannel(SocketChannel):
    """The kiosk's routes, its voices and its push path to open kiosk pages."""

    name = NAME
    opening = wording.OPENING

    def __init__(self, settings: KioskSettings) -> None:
        super().__init__()
        self.settings = settings
        self._speaker: Speaker | None = None
        self._catalog: dict[str, Procedure] | None = None

    def add_routes(self, app: web.Application) -> None:
        """Register the socket, the page, its files, speech, the card and the listening hook."""
        self.add_socket(app, "/channels/kiosk/socket")
        keep_speech_text_out_of_logs()
        views = KioskViews(self)
        app.router.add_get("/kiosk/", views.page)
        app.router.add_get("/kiosk", views.to_page)
        app.router.add_static("/channels/kiosk/static", STATIC_DIR)
        for name in SHARED_SCRIPTS:
            app.router.add_get(f"/channels/kiosk/shared/{name}", _file(WIDGET_STATIC_DIR / name))
        app.router.add_get("/channels/kiosk/speech", views.speech)
        app.router.add_get("/channels/kiosk/card", views.card)
        app.router.add_post("/channels/kiosk/listen", views.listen)
        app.cleanup_ctx.append(self._voices)

    @property
    def speaker(self) -> Speaker:
        """The voices and their cache, open while the hub runs."""
        assert self._speaker is not None, "the hub has not started"
        return self._speaker

    def procedures(self) -> dict[str, Procedure]:
        """The procedure catalog read at start-up (the card needs titles and what to prepare); {} if it failed."""
        return self._catalog or {}

    async def _voices(self, app: web.Application) -> AsyncIterator[None]:
        # The opening and every fixed answer are spoken ahead of time by `make presynthesise`, not here:
        # at start-up the two cores belong to the engine.
        self._speaker = await asyncio.to_thread(self.settings.speech.speaker, app[SETTINGS].data_dir)
        try:
            self._catalog = await asyncio.to_thread(load_catalog)
        except CatalogError:
            # `make check` names the fault; the kiosk still talks, only without summary cards.
            logger.exception("kiosk: the procedures could not be read; summary cards are off")
        try:
            yield
        finally:
            self._speaker.close()


def create(env: Mapping[str, str]) -> KioskChannel:
    """The kiosk needs no secrets: it is on whenever it is listed; its settings are checked here."""
    return KioskChannel(KioskSettings.from_env(env))


def _file(path: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path)

    return serve
