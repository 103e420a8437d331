"""The hub's own HTTP answers; each channel's views live in its module under channels/."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.hub.engine import EngineError, EngineStatus
from bot.hub.keys import ENGINE

logger = logging.getLogger(__name__)


async def health(request: web.Request) -> web.Response:
    """Report that the hub runs and whether the engine can answer: 200 when it can, 503 when not."""
    try:
        status = await request.app[ENGINE].status()
    except EngineError as error:
        status = EngineStatus(up=False, problem=str(error))
    if not status.up:
        logger.warning("engine down: %s", status.problem)
    engine = {"up": status.up, "model": status.model_file, "model_id": status.model_id}
    if status.problem:
        engine["problem"] = status.problem
    return web.json_response({"hub": "ok", "engine": engine}, status=200 if status.up else 503)
