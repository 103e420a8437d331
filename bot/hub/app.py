"""The hub's application factory: settings, channels, store, engine client, core and outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta, timezone

import aiohttp
from aiohttp import web

from bot.city import City, load_city
from bot.console.app import create_console
from bot.console.settings import ConsoleSettings
from bot.hub.core import ConversationCore
from bot.hub.engine import EngineClient
from bot.hub.handoff import Helpdesk
from bot.hub.keys import CHANNELS, CITY, CLOCK, CORE, ENGINE, HELPDESK, LOOP_WATCH, OUTBOX, SETTINGS, STORE
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


def utc_now() -> datetime:
    """The hub's clock: aware UTC."""
    return datetime.now(timezone.utc)


def create_app(
    settings: HubSettings,
    city: City | None = None,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> web.Application:
    """Build the hub. Channels read their settings from `env` here, so bad ones stop the hub at start-up.

    `clock` is the time the store stamps and the helpdesk's hours are read against (tests fix it).
    """
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[CITY] = city or load_city()
    app[CHANNELS] = load_channels(settings.channels, os.environ if env is None else env)
    app[LOOP_WATCH] = LoopWatch()
    app.cleanup_ctx.extend([open_store, open_engine_client, run_core, purge_daily])
    setup_routes(app, app[CHANNELS].on)
    mount_console(app, settings, os.environ if env is None else env, clock)
    return app


def mount_console(
    app: web.Application, settings: HubSettings, env: Mapping[str, str], clock: Callable[[], datetime]
) -> None:
    """The helpdesk console at /console/ (bot/console), reaching the handoff service once the hub has started it."""
    console_settings = ConsoleSettings.from_env(env, settings.data_dir)

    async def to_console(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/console/")

    # Before the sub-application, whose prefix would otherwise take "/console" and answer 404.
    app.router.add_get("/console", to_console)
    # The helpdesk is made in run_core, after this: the console looks it up per request (503 until then).
    app.add_subapp("/console/", create_console(console_settings, lambda: app.get(HELPDESK), clock))


async def open_store(app: web.Application) -> AsyncIterator[None]:
    """Open the hub's database for the app's lifetime, on its own thread."""
    store = await StoreThread.open(app[SETTINGS].database_path, clock=app[CLOCK])
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
    wait_limit = timedelta(seconds=app[SETTINGS].handoff_wait_limit)
    helpdesk = Helpdesk(app[STORE], app[CITY], wait_limit=wait_limit, clock=app[CLOCK])
    app[HELPDESK] = helpdesk
    app[CORE] = ConversationCore(
        app[STORE],
        app[ENGINE],
        app[CITY],
        reply_timeout=app[SETTINGS].engine_timeout,
        on_outgoing=outbox.notify,
        helpdesk=helpdesk,
    )
    outbox.start()
    app[LOOP_WATCH].start()
    try:
        async with helpdesk.keeping_watch(sorted(pushers)):
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
