"""The hub's own HTTP answers; each channel's views live in its module under channels/."""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from aiohttp import web

from bot.hub.engine import EngineError, EngineStatus
from bot.hub.keys import CHANNELS, CORE, ENGINE, LOOP_WATCH, STORE

logger = logging.getLogger(__name__)

# Headers a reverse proxy adds: a request carrying one came from outside, whatever its socket says.
FORWARDED_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


async def _check(request: web.Request) -> tuple[EngineStatus, bool]:
    engine = request.app[ENGINE]
    try:
        status, actions_up = await asyncio.gather(engine.status(), engine.actions_up())
    except EngineError as error:
        return EngineStatus(up=False, problem=str(error)), await engine.actions_up()
    return status, actions_up


async def health(request: web.Request) -> web.Response:
    """Public: only whether the assistant can answer now (200 up, 503 down), nothing about how it is built."""
    status, actions_up = await _check(request)
    up = status.up and actions_up
    if not up:
        logger.warning("health: engine up=%s (%s), action server up=%s", status.up, status.problem, actions_up)
    return web.json_response({"status": "up" if up else "down"}, status=200 if up else 503)


async def health_details(request: web.Request) -> web.Response:
    """For operators on this machine only: each process, the model, the channels, the outbox and the event loop."""
    if not _from_this_machine(request):
        raise web.HTTPNotFound()
    status, actions_up = await _check(request)
    engines = await request.app[ENGINE].engine_statuses()
    undelivered = await request.app[STORE](lambda s: s.count_undelivered())
    engine: dict[str, object] = {"up": status.up, "model": status.model_file, "model_id": status.model_id}
    if status.problem:
        engine["problem"] = status.problem
    loop_watch = request.app[LOOP_WATCH]
    longest = loop_watch.reset() if request.query.get("reset") == "1" else loop_watch.longest_stall
    body = {
        "hub": "ok",
        "engine": engine,
        "engines": [
            {"url": url, "up": each.up, **({"problem": each.problem} if each.problem else {})}
            for url, each in engines.items()
        ],
        "actions": {"up": actions_up},
        "channels": {"on": [c.name for c in request.app[CHANNELS].on], "off": request.app[CHANNELS].off},
        "outbox": {"undelivered": undelivered},
        "turns_in_progress": request.app[CORE].turns_in_progress(),
        "event_loop": {"longest_stall_ms": round(longest * 1000, 1)},
    }
    return web.json_response(body, status=200 if status.up and actions_up else 503)


def _from_this_machine(request: web.Request) -> bool:
    if any(header in request.headers for header in FORWARDED_HEADERS) or request.remote is None:
        return False
    try:
        return ipaddress.ip_address(request.remote).is_loopback
    except ValueError:
        return False
