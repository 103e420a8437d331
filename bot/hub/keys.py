"""Typed keys for what the hub keeps on its application: its settings, the city, its store, its engine client."""

from __future__ import annotations

from aiohttp import web

from bot.city import City
from bot.hub.engine import EngineClient
from bot.hub.settings import HubSettings
from bot.hub.store import ConversationStore

SETTINGS = web.AppKey("settings", HubSettings)
CITY = web.AppKey("city", City)
STORE = web.AppKey("store", ConversationStore)
ENGINE = web.AppKey("engine", EngineClient)
