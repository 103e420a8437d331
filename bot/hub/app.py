"""The hub's application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.city import City, load_city
from bot.hub.engine import EngineClient
from bot.hub.keys import CITY, ENGINE, SETTINGS, STORE
from bot.hub.routes import setup_routes
from bot.hub.settings import HubSettings
from bot.hub.store import ConversationStore

# Enough for a 2,000-character message even with every character escaped in JSON.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(settings: HubSettings, city: City | None = None) -> web.Application:
    """Build the hub: routes now, the store and the engine client once the app starts.

    The city configuration is read (and validated) here unless given, so a broken
    config/city.yml stops the hub at start-up rather than in a resident's conversation.
    """
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SETTINGS] = settings
    app[CITY] = city or load_city()
    app.cleanup_ctx.extend([open_store, open_engine_client])
    setup_routes(app)
    return app


async def open_store(app: web.Application) -> AsyncIterator[None]:
    """Open the hub's database for the app's lifetime."""
    store = ConversationStore.open(app[SETTINGS].database_path)
    app[STORE] = store
    try:
        yield
    finally:
        store.close()


async def open_engine_client(app: web.Application) -> AsyncIterator[None]:
    """Hold one HTTP client session to the engine for the app's lifetime."""
    settings = app[SETTINGS]
    async with aiohttp.ClientSession() as session:
        app[ENGINE] = EngineClient(session, settings.engine_url, settings.engine_token, settings.engine_timeout)
        yield
