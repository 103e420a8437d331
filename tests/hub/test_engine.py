"""The engine client speaks Rasa's REST webhook and /status, and turns failures into named errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
import pytest_asyncio

from bot.hub.engine import EngineClient, EngineMisbehaved, EngineStatus, EngineUnavailable
from bot.hub.messages import BotMessage, QuickReply
from tests.hub.fake_engine import MODEL_ID, TOKEN, FakeEngine

# Explicit, so the tests run whatever asyncio_mode pytest-asyncio is configured with.
pytestmark = pytest.mark.asyncio

MakeClient = Callable[..., Awaitable[EngineClient]]


@pytest_asyncio.fixture
async def make_client(fake_engine: FakeEngine) -> AsyncIterator[MakeClient]:
    async with aiohttp.ClientSession() as session:

        async def make(*, timeout: float = 5.0, token: str = TOKEN) -> EngineClient:
            return EngineClient(session, fake_engine.url, token, timeout)

        yield make


async def test_send_posts_rasas_webhook_body(fake_engine: FakeEngine, make_client: MakeClient) -> None:
    client = await make_client()
    await client.send("web:abc", "転入届の手続きを教えてください", {"channel": "web", "redacted": False})
    assert fake_engine.received == [
        {
            "sender": "web:abc",
            "message": "転入届の手続きを教えてください",
            "metadata": {"channel": "web", "redacted": False},
        }
    ]


async def test_send_turns_buttons_into_quick_replies_and_keeps_custom_payloads(
    fake_engine: FakeEngine, make_client: MakeClient
) -> None:
    fake_engine.buttons = [
        {"title": "できました", "payload": "/affirm"},
        {"title": "まだです", "payload": "/deny"},
    ]
    fake_engine.extra_items = [
        {"recipient_id": "web:abc", "custom": {"map": "city-hall"}},
        {"recipient_id": "web:abc", "image": "https://example.org/map.png"},
        {"recipient_id": "web:abc", "custom": "not an object"},
        {"recipient_id": "web:abc", "buttons": [{"title": "最初から", "payload": "/restart"}]},
        {
            "recipient_id": "web:abc",
            "text": "窓口は2階です。",
            "buttons": [{"title": "地図", "url": "https://x"}],
        },
    ]
    client = await make_client()
    messages = await client.send("web:abc", "はい", {})
    assert messages == [
        BotMessage("echo: はい", [QuickReply("できました", "/affirm"), QuickReply("まだです", "/deny")]),
        BotMessage("", [], {"map": "city-hall"}),
        BotMessage("", [QuickReply("最初から", "/restart")]),
        BotMessage("窓口は2階です。", []),
    ]


async def test_the_action_servers_health_is_checked(fake_engine: FakeEngine) -> None:
    async with aiohttp.ClientSession() as session:
        client = EngineClient(session, fake_engine.url, TOKEN, 5.0, actions_url=fake_engine.url)
        assert await client.actions_up() is True
        fake_engine.actions_up = False
        assert await client.actions_up() is False
        await fake_engine.stop()
        assert await client.actions_up() is False


async def test_status_reports_the_loaded_model(make_client: MakeClient) -> None:
    client = await make_client()
    assert await client.status() == EngineStatus(
        up=True, model_id=MODEL_ID, model_file="20261126-153000-mynaguide.tar.gz"
    )


async def test_status_without_a_model_is_down(fake_engine: FakeEngine, make_client: MakeClient) -> None:
    fake_engine.model_loaded = False
    status = await (await make_client()).status()
    assert status.up is False
    assert status.problem is not None and "model" in status.problem


async def test_a_refused_token_is_named(make_client: MakeClient) -> None:
    client = await make_client(token="wrong")
    with pytest.raises(EngineMisbehaved, match="ENGINE_TOKEN") as error:
        await client.status()
    assert "wrong" not in str(error.value)


async def test_a_slow_engine_is_unavailable(fake_engine: FakeEngine, make_client: MakeClient) -> None:
    fake_engine.hold_replies()
    client = await make_client(timeout=0.2)
    with pytest.raises(EngineUnavailable, match="within"):
        await client.send("web:abc", "こんにちは", {})


async def test_a_stopped_engine_is_unavailable(fake_engine: FakeEngine, make_client: MakeClient) -> None:
    client = await make_client()
    await fake_engine.stop()
    with pytest.raises(EngineUnavailable):
        await client.send("web:abc", "こんにちは", {})
    with pytest.raises(EngineUnavailable):
        await client.status()


@pytest.mark.parametrize(
    ("status", "error"), [(500, EngineUnavailable), (503, EngineUnavailable), (400, EngineMisbehaved)]
)
async def test_error_statuses_are_named(
    fake_engine: FakeEngine, make_client: MakeClient, status: int, error: type[Exception]
) -> None:
    fake_engine.fail_with = status
    with pytest.raises(error):
        await (await make_client()).send("web:abc", "こんにちは", {})
