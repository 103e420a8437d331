"""A hub and the fake engine served from a thread of their own, so that a synchronous browser can use them."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.hub.app import create_app
from bot.hub.keys import CHANNELS, CORE, OUTBOX, STORE
from bot.hub.messages import BotMessage
from channels.widget import WidgetChannel
from channels.widget.settings import WidgetSettings, normal_origin
from channels.widget.socket_channel import SocketChannel
from tests.hub.fake_engine import FakeEngine

T = TypeVar("T")


class LiveHub:
    """The real hub (web and widget channels, real SQLite) in front of the fake engine, on loopback ports."""

    def __init__(
        self,
        data_dir: Path,
        *,
        engine_timeout: float,
        channels: tuple[str, ...] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.engine = FakeEngine()
        self._channels = channels
        self._env = env or {}
        self._data_dir = data_dir
        self._engine_timeout = engine_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-hub", daemon=True)
        self._runner: web.AppRunner | None = None
        self._city_runners: list[web.AppRunner] = []
        self.url = ""

    def start(self) -> None:
        """Start the loop thread, the fake engine and the hub; return when both listen."""
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

    def run(self, action: Callable[[], T]) -> T:
        """Run a plain function on the hub's loop (the fake engine's events belong to it)."""

        async def inside() -> T:
            return action()

        return self.call(inside())

    @property
    def app(self) -> web.Application:
        assert self._runner is not None
        return self._runner.app

    @property
    def widget(self) -> WidgetChannel:
        """The widget channel the hub serves."""
        return next(c for c in self.app[CHANNELS].on if isinstance(c, WidgetChannel))

    def engine_texts(self) -> list[str]:
        """What reached the engine, in order."""
        return [body["message"] for body in self.engine.received]

    def staff_reply(self, text: str, channel: str = "widget") -> None:
        """Put a message from staff in the channel's newest conversation's outbox, as the handoff console will."""

        with sqlite3.connect(self._data_dir / "hub.db") as db:
            [conversation_id] = db.execute(
                "select id from conversations where channel = ? order by created_at desc limit 1", [channel]
            ).fetchone()

        async def reply() -> None:
            await self.app[STORE](lambda s: s.enqueue(conversation_id, [BotMessage(text)], sender="staff"))
            self.app[OUTBOX].notify(channel)

        self.call(reply())

    def drop_connections(self) -> None:
        """Close every widget page's socket from the hub's side, as a restart or a network cut would."""
        self.call(self.widget.pages.close_all())

    def wait_for_late_answers(self) -> None:
        """Let a held engine answer reach the outbox."""
        self.call(self.app[CORE].wait_for_late_answers())

    def serve_city_page(self) -> str:
        """A city's own page on another origin (another loopback port) embedding the widget from the hub."""
        page = (
            '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>市のお知らせ</title></head>'
            "<body><main><h1>市のお知らせ</h1><p>マイナンバーカードの相談は、チャットでどうぞ。</p></main>"
            f'<script src="{self.url}/channels/widget/static/widget.js" defer></script></body></html>'
        )

        async def city_page(request: web.Request) -> web.Response:
            return web.Response(text=page, content_type="text/html")

        async def start() -> str:
            app = web.Application()
            app.router.add_get("/", city_page)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._city_runners.append(runner)
            return f"http://127.0.0.1:{runner.addresses[0][1]}"

        return self.call(start())

    def allow_origins(self, *origins: str) -> None:
        """Let pages of these origins open the widget, as WIDGET_ALLOWED_ORIGINS would."""
        settings = WidgetSettings(frozenset(o for o in map(normal_origin, origins) if o))
        self.run(lambda: setattr(self.widget, "settings", settings))

    async def _start(self) -> None:
        async def serve(app: web.Application, host: str = "127.0.0.1") -> TestServer:
            server = TestServer(app, host=host)
            await server.start_server()
            return server

        await self.engine.start(serve)  # type: ignore[arg-type]
        settings = self.engine.hub_settings(self._data_dir, timeout=self._engine_timeout)
        if self._channels is not None:
            settings = dataclasses.replace(settings, channels=self._channels)
        app = create_app(settings, env=self._env)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        for channel in self.app[CHANNELS].on:
            if isinstance(channel, SocketChannel):
                await channel.ready()

    async def _stop(self) -> None:
        self.engine.release()
        for runner in self._city_runners:
            await runner.cleanup()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.engine.stop()
