"""The hub's input channel: Rasa's REST request and answer shape, the real channel name, no resident text in logs.

The channel runs in a real Sanic server on loopback, as Rasa registers it; the callback it hands each message
to stands in for Rasa's agent (the end-to-end tests run the real one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from rasa.core.channels import channel as rasa_channels
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.engine.hub_channel import HubInput, channel_name, parse_message

Agent = Callable[[UserMessage], Awaitable[None]]
TEXT = "マイナポータルにログインできません"


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"channel": "web"}, "web"),
        ({"channel": "line"}, "line"),
        ({"channel": "kiosk", "redacted": True}, "kiosk"),
        ({"channel": "web_widget2"}, "web_widget2"),
        ({"channel": "Web"}, "hub"),
        ({"channel": "web chat"}, "hub"),
        ({"channel": "ウェブ"}, "hub"),
        ({"channel": "a" * 21}, "hub"),
        ({"channel": "2web"}, "hub"),
        ({"channel": ""}, "hub"),
        ({"channel": 7}, "hub"),
        ({"channel": "web\n"}, "hub"),
        ({}, "hub"),
        (None, "hub"),
    ],
)
def test_channel_name_is_a_short_lowercase_word_or_hub(metadata: dict[str, Any] | None, expected: str) -> None:
    assert channel_name(metadata, "hub") == expected


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        {"message": TEXT},
        {"sender": "", "message": TEXT},
        {"sender": 12, "message": TEXT},
        {"sender": "x" * 201, "message": TEXT},
        {"sender": "web:1"},
        {"sender": "web:1", "message": None},
        {"sender": "web:1", "message": TEXT, "metadata": ["web"]},
    ],
)
def test_unusable_bodies_are_refused(body: Any) -> None:
    with pytest.raises(ValueError):
        parse_message(body)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class ChannelServer:
    """The channel served as Rasa serves it (under /webhooks/), in a Sanic server on loopback in a thread.

    Sanic 21.12 rewrites its own methods when a server first starts, so one server serves the whole module;
    each test sets the agent the channel hands messages to.
    """

    def __init__(self) -> None:
        self.agent: Agent | None = None
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        app = Sanic("hub_channel_test", configure_logging=False)
        app.ctx.agent = self
        rasa_channels.register([HubInput.from_credentials(None)], app, route="/webhooks/")
        self.app = app

    async def handle_message(self, message: UserMessage) -> None:
        assert self.agent is not None
        await self.agent(message)

    def start(self) -> None:
        async def serve() -> Any:
            server = await self.app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True)
            assert server is not None
            await server.startup()
            return server

        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(serve())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(30), "the channel's server did not start"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def exchange(self, agent: Agent, body: Any) -> tuple[int, Any]:
        """Post one body to the webhook while `agent` plays Rasa's agent."""
        self.agent = agent
        return post(f"http://127.0.0.1:{self.port}/webhooks/hub/webhook", body)


@pytest.fixture(scope="module")
def channel() -> Iterator[ChannelServer]:
    server = ChannelServer()
    server.start()
    yield server
    server.stop()


def test_answers_with_the_bot_messages_and_records_the_real_channel(channel: ChannelServer) -> None:
    received: list[UserMessage] = []

    async def agent(message: UserMessage) -> None:
        received.append(message)
        buttons = [{"title": "できました", "payload": "/affirm"}]
        await message.output_channel.send_text_with_buttons(message.sender_id, "手順1: アプリを開きます", buttons)
        await message.output_channel.send_custom_json(message.sender_id, {"handoff": {"reason": "stuck"}})

    metadata = {"channel": "web", "redacted": False}
    status, answer = channel.exchange(agent, {"sender": "web:abc", "message": TEXT, "metadata": metadata})
    assert status == 200
    assert answer == [
        {
            "recipient_id": "web:abc",
            "text": "手順1: アプリを開きます",
            "buttons": [{"title": "できました", "payload": "/affirm"}],
        },
        {"recipient_id": "web:abc", "custom": {"handoff": {"reason": "stuck"}}},
    ]
    [message] = received
    assert (message.text, message.sender_id, message.input_channel) == (TEXT, "web:abc", "web")
    assert message.metadata == metadata


def test_a_message_without_a_channel_name_counts_as_the_hub(channel: ChannelServer) -> None:
    received: list[UserMessage] = []

    async def agent(message: UserMessage) -> None:
        received.append(message)

    status, answer = channel.exchange(
        agent, {"sender": "web:abc", "message": TEXT, "metadata": {"channel": "Web Chat"}}
    )
    assert (status, answer) == (200, [])
    assert received[0].input_channel == "hub"


@pytest.mark.parametrize("body", [b"{not json", {"sender": "web:abc"}, {"message": TEXT}])
def test_a_malformed_body_gets_400_and_reaches_no_agent(channel: ChannelServer, body: Any) -> None:
    received: list[UserMessage] = []

    async def agent(message: UserMessage) -> None:
        received.append(message)

    status, answer = channel.exchange(agent, body)
    assert status == 400 and "error" in answer
    assert received == []


def test_a_failure_is_a_500_logged_without_the_resident_text(
    channel: ChannelServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def agent(message: UserMessage) -> None:
        # As a database error quotes the row it could not write.
        raise RuntimeError(f"could not save event {{'text': '{message.text}'}}")

    with caplog.at_level(logging.DEBUG):
        status, answer = channel.exchange(agent, {"sender": "web:abc", "message": TEXT, "metadata": {"channel": "web"}})
    assert status == 500 and "error" in answer
    failures = [record for record in caplog.records if record.name == "bot.engine.hub_channel"]
    assert failures, "the failure was not logged"
    assert "RuntimeError" in failures[0].getMessage() and "web:abc" in failures[0].getMessage()
    for record in caplog.records:
        assert TEXT not in record.getMessage(), record.name
        assert record.exc_info is None or TEXT not in str(record.exc_info[1]), record.name
