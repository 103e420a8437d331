"""The hub starts with its store and engine client, and its health check reports the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.hub.keys import STORE
from tests.hub.fake_engine import MODEL_ID, TOKEN, FakeEngine
from tests.hub.fixtures import MakeHub

# Explicit, so the tests run whatever asyncio_mode pytest-asyncio is configured with.
pytestmark = pytest.mark.asyncio


async def test_health_is_ok_when_the_engine_is_up(hub: TestClient[Any, Any]) -> None:
    response = await hub.get("/health")
    assert response.status == 200
    assert await response.json() == {
        "hub": "ok",
        "engine": {"up": True, "model": "20261126-153000-mynaguide.tar.gz", "model_id": MODEL_ID},
    }


async def test_health_is_503_when_the_engine_is_stopped(hub: TestClient[Any, Any], fake_engine: FakeEngine) -> None:
    await fake_engine.stop()
    response = await hub.get("/health")
    assert response.status == 503
    health = await response.json()
    assert health["hub"] == "ok"
    assert health["engine"]["up"] is False and health["engine"]["model"] is None


async def test_health_is_503_without_a_model(hub: TestClient[Any, Any], fake_engine: FakeEngine) -> None:
    fake_engine.model_loaded = False
    response = await hub.get("/health")
    assert response.status == 503
    assert "model" in (await response.json())["engine"]["problem"]


async def test_health_names_a_wrong_token_without_showing_it(make_hub: MakeHub) -> None:
    hub = await make_hub(token="not-the-engine-token")
    response = await hub.get("/health")
    assert response.status == 503
    text = await response.text()
    assert "ENGINE_TOKEN" in text
    assert "not-the-engine-token" not in text and TOKEN not in text


async def test_the_store_lives_in_the_data_dir(hub: TestClient[Any, Any], tmp_path: Path) -> None:
    assert (tmp_path / "var" / "hub.db").is_file()
    store = hub.app[STORE]
    conversation, token = store.start_conversation("web")
    assert store.conversation_for_token("web", token) == conversation
