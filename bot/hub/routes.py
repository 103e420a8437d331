"""Every URL the hub serves: its health checks and the routes of each channel that is on."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from bot.hub import views
from channels import Channel


def setup_routes(app: web.Application, channels: Iterable[Channel]) -> None:
    """Add the health checks and the routes of each channel to the app."""
    app.router.add_get("/health", views.health)
    app.router.add_get("/health/details", views.health_details)
    for channel in channels:
        channel.add_routes(app)
