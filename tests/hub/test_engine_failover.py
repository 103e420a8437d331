"""The engine client with several engines: each conversation to its own, the next one when it is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from pytest_aiohttp import AiohttpClient, AiohttpServer
from yarl import URL

from bot.hub.app import create_app
from bot.hub.engine import EngineClient, EngineUnavailable
from bot.hub.settings import HubSettings
from tests.hub.fake_engine import TOKEN, FakeEngine

pytestmark = pytest.mark.asyncio

CONVERSATIONS = [f"web:{number:03d}" for number in range(40)]


@pytest_asyncio.fixture
async def engines(aiohttp_server: AiohttpServer) -> AsyncIterator[list[FakeEngine]]:
    started = [FakeEngine(), FakeEngine()]
    for engine in started:
        await engine.start(aiohttp_server)
    yield started


@pytest_asyncio.fixture
async def client(engines: list[FakeEngine]) -> AsyncIterator[EngineClient]:
    async with aiohttp.ClientSession() as session:
        yield EngineClient(session, [engine.url for engine in engines], TOKEN, 5.0)


def senders(engine: FakeEngine) -> set[str]:
    return {body["sender"] for body in engine.received}


async def test_each_conversation_stays_on_one_engine(engines: list[FakeEngine], client: EngineClient) -> None:
    for _ in range(3):
        for conversation in CONVERSATIONS:
            await client.send(conversation, "できました", {"channel": "web"})
    first, second = senders(engines[0]), senders(engines[1])
    assert first and second, "both engines take a share"
    assert not first & second
    assert first | second == set(CONVERSATIONS)


async def test_a_stopped_engines_conversations_go_to_the_other_and_nothing_is_lost(
    engines: list[FakeEngine], client: EngineClient
) -> None:
    for conversation in CONVERSATIONS:
        await client.send(conversation, "マイナポータルにログインしたいです", {"channel": "web"})
    moved = senders(engines[0])
    await client.status()  # as the hub's /health does: no connection kept from it may be reused after the stop
    await engines[0].stop()
    engines[1].received.clear()
    for conversation in CONVERSATIONS:
        answer = await client.send(conversation, "できました", {"channel": "web"})
        assert answer, conversation
    assert senders(engines[1]) == set(CONVERSATIONS), "the other engine took every turn, the moved ones too"
    assert moved


async def test_status_is_up_while_one_engine_is_and_names_each(engines: list[FakeEngine], client: EngineClient) -> None:
    await engines[0].stop()
    assert (await client.status()).up
    statuses = await client.engine_statuses()
    assert [status.up for status in statuses.values()] == [False, True]
    await engines[1].stop()
    with pytest.raises(EngineUnavailable):
        await client.status()
    with pytest.raises(EngineUnavailable):
        await client.send("web:001", "できました", {"channel": "web"})


async def test_an_engine_killed_with_the_connection_in_its_queue_is_passed_over(engines: list[FakeEngine]) -> None:
    # A killed process's listening socket can still complete the handshake, then resets the connection.
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()

    dying = await asyncio.start_server(cut, "127.0.0.1", 0)
    port = dying.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            client = EngineClient(session, [URL(f"http://127.0.0.1:{port}"), engines[0].url], TOKEN, 5.0)
            for conversation in CONVERSATIONS:
                assert await client.send(conversation, "できました", {"channel": "web"}), conversation
    finally:
        dying.close()
        await dying.wait_closed()
    assert senders(engines[0]) == set(CONVERSATIONS)


async def test_health_stays_up_with_one_engine_down_and_the_details_name_each(
    engines: list[FakeEngine], aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    settings = HubSettings(
        engine_token=TOKEN,
        engine_url=engines[0].url,
        engine_urls=(engines[0].url, engines[1].url),
        actions_url=engines[1].url,
        data_dir=tmp_path,
    )
    hub = await aiohttp_client(create_app(settings, env={}))
    urls = [str(engine.url) for engine in engines]
    await engines[0].stop()
    assert (await hub.get("/health")).status == 200
    details = await (await hub.get("/health/details")).json()
    assert [(engine["url"], engine["up"]) for engine in details["engines"]] == [(urls[0], False), (urls[1], True)]
    assert "could not be reached" in details["engines"][0]["problem"]
    await engines[1].stop()
    assert (await hub.get("/health")).status == 503
