"""The hub starts with its store, engine client, core and outbox; its health says up or down, details stay local."""

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

Hub = TestClient[Any, Any]


async def test_public_health_says_only_up(hub: Hub) -> None:
    response = await hub.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "up"}


@pytest.mark.parametrize("failure", ["engine stopped", "no model", "action server down", "wrong token"])
async def test_public_health_says_only_down(make_hub: MakeHub, fake_engine: FakeEngine, failure: str) -> None:
    hub = await make_hub(token="not-the-engine-token") if failure == "wrong token" else await make_hub()
    if failure == "engine stopped":
        fake_engine.answer = None
        await fake_engine.stop()
    fake_engine.model_loaded = failure != "no model"
    fake_engine.actions_up = failure != "action server down"
    response = await hub.get("/health")
    assert response.status == 503
    assert await response.json() == {"status": "down"}


async def test_details_cover_every_process_for_an_operator_on_this_machine(hub: Hub) -> None:
    response = await hub.get("/health/details")
    assert response.status == 200
    details = await response.json()
    assert details["engine"] == {"up": True, "model": "20261126-153000-mynaguide.tar.gz", "model_id": MODEL_ID}
    assert details["actions"] == {"up": True}
    assert details["channels"] == {"on": ["web", "widget"], "off": {}}
    assert details["outbox"] == {"undelivered": 0}
    assert details["turns_in_progress"] == 0
    assert details["event_loop"]["longest_stall_ms"] >= 0


async def test_details_name_a_down_action_server_and_a_wrong_token_without_showing_it(
    make_hub: MakeHub, fake_engine: FakeEngine
) -> None:
    hub = await make_hub(token="not-the-engine-token")
    fake_engine.actions_up = False
    response = await hub.get("/health/details")
    assert response.status == 503
    text = await response.text()
    details = await response.json()
    assert details["actions"] == {"up": False}
    assert "ENGINE_TOKEN" in details["engine"]["problem"]
    assert "not-the-engine-token" not in text and TOKEN not in text


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
async def test_details_are_hidden_from_requests_through_a_proxy(hub: Hub, header: str) -> None:
    response = await hub.get("/health/details", headers={header: "203.0.113.9"})
    assert response.status == 404
    assert "engine" not in await response.text()


async def test_the_store_lives_in_the_data_dir(hub: Hub, tmp_path: Path) -> None:
    assert (tmp_path / "var" / "hub.db").is_file()
    conversation = await hub.app[STORE](lambda s: s.start_conversation("web", "t"))
    assert (await hub.app[STORE](lambda s: s.find_conversation("web", "t"))) == conversation
