"""Typed keys for what the console keeps on its application and on each request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import jinja2
from aiohttp import web

from bot.console.helpdesk import HelpdeskLike
from bot.console.settings import ConsoleSettings
from bot.console.store import ConsoleStoreThread, Session


@dataclass(frozen=True)
class HelpdeskLink:
    """How the console reaches the hub's handoff service, which the hub starts after the console is built."""

    get: Callable[[], HelpdeskLike | None]


@dataclass(frozen=True)
class Clock:
    """The console's idea of now (a fixed clock in tests)."""

    now: Callable[[], datetime]


SETTINGS = web.AppKey("console_settings", ConsoleSettings)
STORE = web.AppKey("console_store", ConsoleStoreThread)
HELPDESK = web.AppKey("console_helpdesk", HelpdeskLink)
CLOCK = web.AppKey("console_clock", Clock)
TEMPLATES = web.AppKey("console_templates", jinja2.Environment)
CANNED_REPLIES = web.AppKey("console_canned_replies", tuple)
STOPPING = web.AppKey("console_stopping", asyncio.Event)
SESSION = web.RequestKey("console_session", Session)
