"""A stand-in for the engine (its hub webhook and /status) and the action server's /health, on loopback.

Only for the hub's own tests: the end-to-end tests run the real Rasa server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer
from yarl import URL

from bot.hub.settings import HubSettings

TOKEN = "fake-engine-token"
MODEL_FILE = "models/20261126-153000-mynaguide.tar.gz"
MODEL_ID = "6f1c2d0e8b7a4f3c9e5d1a2b3c4d5e6f"


class FakeEngine:
    """Echoes each message as the engine's hub channel answers it, with the buttons it is told to offer."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.buttons: list[dict[str, str]] = []
        self.extra_items: list[dict[str, Any]] = []
        # When set, the webhook answers exactly this list (Rasa answers [] when a custom action fails).
        self.answer: list[dict[str, Any]] | None = None
        self.model_loaded = True
        self.actions_up = True
        self.fail_with: int | None = None
        self._released = asyncio.Event()
        self._released.set()
        self._server: TestServer | None = None

    @property
    def url(self) -> URL:
        """The engine's base URL, as ENGINE_URL would give it."""
        assert self._server is not None, "start the fake engine first"
        return URL(str(self._server.make_url(""))).with_path("")

    async def start(self, aiohttp_server: AiohttpServer) -> None:
        """Serve on a free loopback port."""
        app = web.Application()
        app.router.add_post("/webhooks/hub/webhook", self._webhook)
        app.router.add_get("/status", self._status)
        app.router.add_get("/health", self._actions_health)
        self._server = await aiohttp_server(app, host="127.0.0.1")

    async def stop(self) -> None:
        """Stop listening, as when the engine process is down."""
        assert self._server is not None
        await self._server.close()

    def hold_replies(self) -> None:
        """Make the webhook wait (like a slow model) until release() is called."""
        self._released.clear()

    def release(self) -> None:
        """Let held webhook requests answer."""
        self._released.set()

    def hub_settings(self, data_dir: Path, *, timeout: float = 5.0, token: str = TOKEN) -> HubSettings:
        """Settings for a hub that talks to this fake engine and keeps its database in data_dir."""
        return HubSettings(
            engine_token=token, engine_url=self.url, actions_url=self.url, data_dir=data_dir, engine_timeout=timeout
        )

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        await self._released.wait()
        if self.fail_with is not None:
            return web.json_response({"error": "failure"}, status=self.fail_with)
        if self.answer is not None:
            return web.json_response(self.answer)
        # Rasa's CollectingOutputChannel drops keys whose value is None; buttons sit on the text message.
        item: dict[str, Any] = {"recipient_id": body["sender"], "text": f"echo: {body['message']}"}
        if self.buttons:
            item["buttons"] = self.buttons
        return web.json_response([item, *self.extra_items])

    async def _actions_health(self, request: web.Request) -> web.Response:
        if not self.actions_up:
            return web.json_response({"status": "down"}, status=503)
        return web.json_response({"status": "ok"})

    async def _status(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            return _rasa_error(401, "NotAuthenticated", "User is not authenticated.")
        if not self.model_loaded:
            return _rasa_error(
                409,
                "Conflict",
                "No agent loaded. To continue processing, a model of a trained agent needs to be loaded.",
            )
        return web.json_response({"model_file": MODEL_FILE, "model_id": MODEL_ID, "num_active_training_jobs": 0})


def _rasa_error(status: int, reason: str, message: str) -> web.Response:
    """An error answer shaped like rasa.server.ErrorResponse."""
    body: dict[str, Any] = {
        "version": "3.6.21",
        "status": "failure",
        "message": message,
        "reason": reason,
        "details": {},
        "help": None,
        "code": status,
    }
    return web.json_response(body, status=status)
