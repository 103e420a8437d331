"""The console's application factory: settings, templates, canned replies, its store, middlewares and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path

import jinja2
from aiohttp import web

from bot.console.canned import load_canned_replies
from bot.console.helpdesk import HelpdeskLike
from bot.console.keys import (
    CANNED_REPLIES,
    CLOCK,
    HELPDESK,
    SETTINGS,
    STOPPING,
    STORE,
    TEMPLATES,
    Clock,
    HelpdeskLink,
)
from bot.console.routes import setup_routes
from bot.console.security import security_headers, sessions_and_csrf
from bot.console.settings import ConsoleSettings
from bot.console.store import ConsoleStoreThread

TEMPLATE_DIR = Path(__file__).with_name("templates")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def create_console(
    settings: ConsoleSettings,
    helpdesk: Callable[[], HelpdeskLike | None],
    clock: Callable[[], datetime] = _now,
) -> web.Application:
    """Build the console; the hub mounts it with `app.add_subapp("/console/", …)`."""
    app = web.Application(middlewares=[security_headers, sessions_and_csrf])
    app[SETTINGS] = settings
    app[HELPDESK] = HelpdeskLink(helpdesk)
    app[CLOCK] = Clock(clock)
    # autoescape=True for every template: residents' text is always shown as text, never as HTML.
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True, undefined=jinja2.StrictUndefined
    )
    app[CANNED_REPLIES] = load_canned_replies(settings.canned_replies_path)
    app[STOPPING] = asyncio.Event()
    app.cleanup_ctx.append(open_store)
    app.on_shutdown.append(end_long_polls)
    setup_routes(app)
    return app


async def end_long_polls(app: web.Application) -> None:
    """Answer every waiting long-poll now, so that stopping the hub does not wait out their 25 seconds."""
    app[STOPPING].set()


async def open_store(app: web.Application) -> AsyncIterator[None]:
    """Open the console's database for the app's lifetime, on its own thread."""
    store = await ConsoleStoreThread.open(app[SETTINGS].database_path, app[CLOCK].now)
    app[STORE] = store
    idle = app[SETTINGS].idle_timeout
    await store(lambda s: s.purge_sessions(idle))
    try:
        yield
    finally:
        await store.close()
