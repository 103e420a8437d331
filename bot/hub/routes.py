"""Every URL the hub serves: its health check and the routes of each enabled channel."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from bot.hub import views
from channels import load_channels

ENABLED_CHANNELS = ("web",)


def setup_routes(app: web.Application, channel_names: Iterable[str] = ENABLED_CHANNELS) -> None:
    """Add the health check and the routes of each named channel to the app."""
    app.router.add_get("/health", views.health)
    for channel in load_channels(channel_names):
        channel.add_routes(app)
