"""Typed keys for what the hub keeps on its application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.city import City
from bot.hub.core import ConversationCore
from bot.hub.engine import EngineClient
from bot.hub.handoff import Helpdesk
from bot.hub.loop_watch import LoopWatch
from bot.hub.outbox import Outbox
from bot.hub.settings import HubSettings
from bot.hub.store import StoreThread
from channels import ChannelChoice

SETTINGS = web.AppKey("settings", HubSettings)
CITY = web.AppKey("city", City)
CHANNELS = web.AppKey("channels", ChannelChoice)
STORE = web.AppKey("store", StoreThread)
ENGINE = web.AppKey("engine", EngineClient)
OUTBOX = web.AppKey("outbox", Outbox)
CORE = web.AppKey("core", ConversationCore)
LOOP_WATCH = web.AppKey("loop_watch", LoopWatch)
HELPDESK = web.AppKey("helpdesk", Helpdesk)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
