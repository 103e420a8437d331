"""The hub's application factory: settings, channels, store, engine client, core and outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

import aiohttp
from aiohttp import web

from bot.city import City, load_city
from bot.hub.core import ConversationCore
from bot.hub.engine import EngineClient
from bot.hub.keys import CHANNELS, CITY, CORE, ENGINE, LOOP_WATCH, OUTBOX, SETTINGS, STORE
from bot.hub.loop_watch import LoopWatch
from bot.hub.outbox import Outbox
from bot.hub.routes import setup_routes
from bot.hub.settings import HubSettings
from bot.hub.store import StoreThread
from channels import PushChannel, load_channels

logger = logging.getLogger(__name__)

# Enough for a 2,000-character message even with every character escaped in JSON.
MAX_REQUEST_BYTES = 64 * 1024
# How long a slow engine answer is still awaited after the resident got the apology; it then goes to the outbox.
LATE_ANSWER_LIMIT = 120.0
PURGE_EVERY = timedelta(days=1)


def create_app(
    settings: HubSettings, city: City | None = None, env: Mapping[str, str] | None = None
) -> web.Application:
    """Build the hub. Channels read their settings from `env` here, so bad ones stop the hub at start-up."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SETTINGS] = settings
    app[CITY] = city or load_city()
    app[CHANNELS] = load_channels(settings.channels, os.environ if env is None else env)
    app[LOOP_WATCH] = LoopWatch()
    app.cleanup_ctx.extend([open_store, open_engine_client, run_core, purge_daily])
    setup_routes(app, app[CHANNELS].on)
    return app


async def open_store(app: web.Application) -> AsyncIterator[None]:
    """Open the hub's database for the app's lifetime, on its own thread."""
    store = await StoreThread.open(app[SETTINGS].database_path)
    app[STORE] = store
    try:
        yield
    finally:
        await store.close()


async def open_engine_client(app: web.Application) -> AsyncIterator[None]:
    """Hold one HTTP client session to the engine and the action server for the app's lifetime."""
    settings = app[SETTINGS]
    async with aiohttp.ClientSession() as session:
        app[ENGINE] = EngineClient(
            session, settings.engines, settings.engine_token, LATE_ANSWER_LIMIT, settings.actions_url
        )
        yield


async def run_core(app: web.Application) -> AsyncIterator[None]:
    """The conversation core and the outbox worker that delivers through the channels that push."""
    pushers = {channel.name: channel for channel in app[CHANNELS].on if isinstance(channel, PushChannel)}
    outbox = Outbox(app[STORE], pushers)
    app[OUTBOX] = outbox
    app[CORE] = ConversationCore(
        app[STORE], app[ENGINE], app[CITY], reply_timeout=app[SETTINGS].engine_timeout, on_outgoing=outbox.notify
    )
    outbox.start()
    app[LOOP_WATCH].start()
    try:
        yield
    finally:
        await app[CORE].wait_for_late_answers()
        await outbox.stop()
        await app[LOOP_WATCH].stop()


async def purge_daily(app: web.Application) -> AsyncIterator[None]:
    """Delete conversations idle past the retention period: at start-up, then once a day."""
    retention = timedelta(days=app[SETTINGS].retention_days)

    async def purge_forever() -> None:
        while True:
            removed = await app[STORE](lambda s: s.purge(retention))
            if removed:
                logger.info("purge: removed %d conversations idle for over %d days", removed, retention.days)
            await asyncio.sleep(PURGE_EVERY.total_seconds())

    task = asyncio.create_task(purge_forever(), name="purge")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
