"""Fixtures shared by the hub and channel tests: a fake engine on loopback and a hub in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient, AiohttpServer

from bot.hub.app import create_app
from tests.hub.fake_engine import FakeEngine

MakeHub = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest_asyncio.fixture
async def fake_engine(aiohttp_server: AiohttpServer) -> AsyncIterator[FakeEngine]:
    engine = FakeEngine()
    await engine.start(aiohttp_server)
    yield engine
    engine.release()


@pytest_asyncio.fixture
async def make_hub(aiohttp_client: AiohttpClient, fake_engine: FakeEngine, tmp_path: Path) -> MakeHub:
    """Start a hub in front of the fake engine; keyword arguments go to FakeEngine.hub_settings."""

    async def start(**settings: Any) -> TestClient[Any, Any]:
        # An empty environment: channel settings come from the test, never from the machine running it.
        return await aiohttp_client(create_app(fake_engine.hub_settings(tmp_path / "var", **settings), env={}))

    return start


@pytest_asyncio.fixture
async def hub(make_hub: MakeHub) -> TestClient[Any, Any]:
    return await make_hub()
