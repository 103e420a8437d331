"""Typed keys for what the hub keeps on its application: its settings, its store, its engine client."""

from __future__ import annotations

from aiohttp import web

from bot.hub.engine import EngineClient
from bot.hub.settings import HubSettings
from bot.hub.store import ConversationStore

SETTINGS = web.AppKey("settings", HubSettings)
STORE = web.AppKey("store", ConversationStore)
ENGINE = web.AppKey("engine", EngineClient)
