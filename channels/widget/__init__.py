"""The web chat widget: a script tag for any city page, talking to the hub over a WebSocket that can push.

`create(env)` reads WIDGET_ALLOWED_ORIGINS. The routes: the WebSocket (`/channels/widget/socket`), the script,
style sheet and client code (`/channels/widget/static/…`, plain files, no build step) and a demo city page
(`/demo/`). Messages reach pages only through the outbox: `deliver` (called by the outbox worker) and a page's
own turn both send what is undelivered, so a page that was closed gets everything when it comes back.
The socket side lives in `socket_channel.py`, shared with the voice kiosk.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from . import wording
from .settings import WidgetSettings
from .socket_channel import SocketChannel
from .views import CHANNEL, DemoViews

NAME = CHANNEL
STATIC_DIR = Path(__file__).parent / "static"


class WidgetChannel(SocketChannel):
    """The widget's routes and its push path to open pages."""

    name = NAME
    opening = wording.OPENING

    def __init__(self, settings: WidgetSettings) -> None:
        super().__init__()
        self.settings = settings

    def allowed_origins(self) -> frozenset[str]:
        """The city pages listed in WIDGET_ALLOWED_ORIGINS."""
        return self.settings.allowed_origins

    def add_routes(self, app: web.Application) -> None:
        """Register the WebSocket, the static files and the demo page, and load the readings at start-up."""
        self.add_socket(app, "/channels/widget/socket")
        app.router.add_static("/channels/widget/static", STATIC_DIR)
        app.router.add_get("/demo/", DemoViews.demo)
        app.router.add_get("/demo", DemoViews.to_demo)


def create(env: Mapping[str, str]) -> WidgetChannel:
    """The widget needs no secrets: it is on whenever it is listed; WIDGET_ALLOWED_ORIGINS is checked here."""
    return WidgetChannel(WidgetSettings.from_env(env))
