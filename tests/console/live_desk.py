"""The real hub (fake engine, real SQLite, its console) served on loopback from a thread, for a synchronous browser."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
import urllib.request
from collections.abc import Coroutine
from concurrent.futures import Future
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.hub.app import create_app
from tests.console.conftest import MONDAY_MORNING
from tests.hub.fake_engine import FakeEngine

T = TypeVar("T")
MESSAGES = "/channels/web/messages"


class LiveDesk:
    """A hub on a free loopback port with CONSOLE_INSECURE_COOKIES=1 (plain HTTP), and the fake engine."""

    def __init__(self, data_dir: Path, accounts_file: Path) -> None:
        self.engine = FakeEngine()
        self.url = ""
        self._data_dir = data_dir
        self._accounts_file = accounts_file
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-desk", daemon=True)
        self._runner: web.AppRunner | None = None
        self._engine_server: TestServer | None = None

    def start(self) -> None:
        """Start the loop thread, the fake engine and the hub; return when both listen."""
        self._data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(self._accounts_file, self._data_dir / "console.db")
        self._thread.start()
        self.call(self._start())

    def stop(self) -> None:
        """Stop the hub and the engine, then the loop."""
        self.call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the hub's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(work, self._loop)
        return future.result(timeout)

    def hand_over_next(self, signal: dict[str, Any]) -> None:
        """The engine's next answer is the guide handing the resident to a person."""

        async def set_answer() -> None:
            self.engine.answer = [
                {"recipient_id": "x", "text": "うまくいかないようですね。"},
                {"recipient_id": "x", "custom": signal},
            ]

        self.call(set_answer())

    def resident_says(self, text: str, session: str | None = None) -> dict[str, Any]:
        """A resident writes on the web channel over real HTTP; returns the hub's answer."""
        body: dict[str, Any] = {"text": text, **({"session": session} if session else {})}
        request = urllib.request.Request(
            self.url + MESSAGES, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.load(response))

    def resident_reads(self, session: str) -> list[str]:
        """What reached the resident's web chat since they last asked."""
        request = urllib.request.Request(self.url + MESSAGES, headers={"Authorization": f"Bearer {session}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return [m["text"] for m in json.load(response)["messages"]]

    async def _start(self) -> None:
        async def serve(app: web.Application, host: str) -> TestServer:
            self._engine_server = TestServer(app, host=host)
            await self._engine_server.start_server()
            return self._engine_server

        await self.engine.start(serve)  # type: ignore[arg-type]
        settings = self.engine.hub_settings(self._data_dir)
        started = time.monotonic()

        def clock() -> datetime:
            # Monday morning in Japan, running on: the desk is open whenever the test runs.
            return MONDAY_MORNING + timedelta(seconds=time.monotonic() - started)

        app = create_app(settings, env={"CONSOLE_INSECURE_COOKIES": "1"}, clock=clock)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._engine_server is not None:
            await self._engine_server.close()
