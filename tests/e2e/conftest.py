"""Starts the real engine, action server and hub on loopback once for the end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.launcher import Ports, Stack

ROOT = Path(__file__).resolve().parents[2]


def city_file(directory: Path, *, desk_open: bool | None) -> Path:
    """The example city with fixed desk hours, so no test depends on the hour it runs at.

    desk_open=False: the desk never opens (the guide's own answers to a request for a person);
    None: the city gives no hours, so staff are taken to be always in (live handoff).
    """
    data = yaml.safe_load((ROOT / "config" / "city.yml").read_text(encoding="utf-8"))
    if desk_open is None:
        data["helpdesk"].pop("open", None)
    else:
        data["helpdesk"]["open"] = {"weekdays": "00:00-23:59"} if desk_open else {}
    path = directory / "city.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@contextlib.contextmanager
def running_stack(directory: Path, city: Path, **env: str) -> Iterator[Stack]:
    """Start the real stack with this city file (CITY_FILE) and settings for its processes; stop it afterwards."""
    if not any((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/; run `make model` (make test does it)")
    settings = {"CITY_FILE": str(city), **env}
    before = {name: os.environ.get(name) for name in settings}
    running = Stack(data_dir=directory, ports=Ports.free())
    try:
        # The children take their environment when they start (restarts reuse it); the tests that run meanwhile
        # in this process must not see these settings, so they are undone at once.
        os.environ.update(settings)
        try:
            running.start()
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("stack")
    with running_stack(directory, city_file(directory, desk_open=False)) as running:
        yield running


def post_json(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST JSON and return the status and the decoded answer, also for error statuses."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@dataclass
class Resident:
    """A resident chatting through the hub's web channel, as the widget will."""

    hub_url: str
    session: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def _send(self, body: dict[str, Any]) -> list[str]:
        if self.session:
            body["session"] = self.session
        status, answer = post_json(f"{self.hub_url}/channels/web/messages", body)
        assert status == 200, answer
        self.session = answer["session"]
        self.messages = answer["messages"]
        assert self.messages, "the bot said nothing"
        return [message["text"] for message in self.messages]

    def say(self, text: str) -> list[str]:
        """Type a message."""
        return self._send({"text": text})

    def press(self, title: str) -> list[str]:
        """Tap a quick reply offered with the last messages."""
        offered = {reply["title"]: reply["payload"] for reply in self.messages[-1]["quick_replies"]}
        assert title in offered, f"{title!r} not offered; offered: {list(offered)}"
        return self._send({"payload": offered[title]})

    @property
    def buttons(self) -> list[str]:
        return [reply["title"] for reply in self.messages[-1]["quick_replies"]]


@pytest.fixture
def resident(stack: Stack) -> Resident:
    return Resident(stack.hub_url)
