"""Several engine processes on one conversation: PostgreSQL and Redis for several hosts, SQLite on one machine.

The scale-out profile (endpoints.scale-out.yml) runs for real: Debian's PostgreSQL (initdb into a temp directory,
its own loopback port, run as the postgres user when the tests run as root) and redis-server on loopback, two
engine processes against them. One conversation's turns alternate between the engines, one engine is killed
half-way, and the conversation must say exactly what the same conversation says on one engine alone, with every
message in the tracker once and in order. Two messages of one conversation sent to both engines at once must
run one after the other (Redis's lock). On one machine (make run: SQLite, a lock per engine) the hub keeps each
conversation on one engine and moves it when that engine is killed.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from bot.hub.engine_ring import EngineRing
from bot.launcher import ROOT, Ports, Stack
from tests.e2e.conftest import Resident
from tests.e2e.test_conversations import begin, progress

CONVERSATION = [
    "マイナポータルにログインしたいです",
    "iPhoneです",
    "できました",
    "わからないです",
    "もう一度お願いします",
    "できました",
    "前に戻って",
    "できました",
]
KILLED_AFTER_TURN = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL is not installed: run `make install` (requirements/debian.txt lists postgresql)")
    return found[-1].parent


@pytest.fixture(scope="class")
def postgres() -> Iterator[int]:
    """A PostgreSQL server of its own on a loopback port, with a `trackers` database; yields the port."""
    bindir, port = postgres_bin(), free_port()
    home = Path(tempfile.mkdtemp(prefix="mynaguide-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(home, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data = home / "data"

    def run(*command: str) -> None:
        subprocess.run([*run_as, *command], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "mynaguide", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {home} -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "mynaguide", "trackers")
        yield port
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="class")
def redis() -> Iterator[int]:
    """A redis-server of its own on a loopback port, keeping nothing on disk; yields the port."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed: run `make install` (requirements/debian.txt lists it)")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("redis-server did not answer PING")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="class")
def scaled_out(postgres: int, redis: int) -> Iterator[Stack]:
    """Two engines on PostgreSQL and Redis (endpoints.scale-out.yml), one action server, the hub."""
    settings = {
        "TRACKER_DB_HOST": "127.0.0.1",
        "TRACKER_DB_PORT": str(postgres),
        "TRACKER_DB_NAME": "trackers",
        "TRACKER_DB_USER": "mynaguide",
        "TRACKER_DB_PASSWORD": "",
        "LOCK_STORE_HOST": "127.0.0.1",
        "LOCK_STORE_PORT": str(redis),
        "LOCK_STORE_DB": "1",
        "LOCK_STORE_PASSWORD": "",
    }
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as data_dir:
        for name, value in settings.items():
            patch.setenv(name, value)
        stack = Stack(data_dir=Path(data_dir), ports=Ports.free(engines=2), endpoints="endpoints.scale-out.yml")
        try:
            stack.start(wait_seconds=400)
            yield stack
        finally:
            stack.stop()


def say(stack: Stack, engine: str, sender: str, text: str) -> list[str]:
    """Send one message straight to an engine's hub channel; the texts it answers."""
    status, answer = post_json_list(f"{stack.engine_urls[engine]}/webhooks/hub/webhook", sender, text)
    assert status == 200, answer
    texts = [message.get("text", "") for message in answer]
    assert texts, f"{engine} said nothing to {text!r}"
    return texts


def post_json_list(url: str, sender: str, text: str) -> tuple[int, list[dict[str, Any]]]:
    request = urllib.request.Request(
        url,
        data=json.dumps({"sender": sender, "message": text, "metadata": {"channel": "web"}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, json.loads(response.read())


def tracker_events(stack: Stack, engine: str, sender: str) -> list[dict[str, Any]]:
    url = f"{stack.engine_urls[engine]}/conversations/{sender}/tracker?token={stack.token}&include_events=ALL"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return list(json.loads(answer.read())["events"])


def assert_one_turn_at_a_time(events: list[dict[str, Any]]) -> None:
    """Each message is followed by the assistant's actions and a listen before the next message comes in."""
    kinds = [event["event"] for event in events]
    for index, kind in enumerate(kinds):
        if kind == "user":
            rest = kinds[index + 1 :]
            next_user = rest.index("user") if "user" in rest else len(rest)
            assert "action" in rest[:next_user], f"message {index} was not answered before the next one"
    names = [event.get("name") for event in events if event["event"] == "action"]
    assert names.count("action_session_start") <= 1, "the session was started twice"


class TestScaleOutProfile:
    """PostgreSQL and Redis (endpoints.scale-out.yml), two engines. Class-scoped, so the stack stops before the
    SQLite one starts, instead of reloading the engine killed here while the next stack loads."""

    def test_two_messages_of_one_conversation_at_both_engines_at_once_take_turns(self, scaled_out: Stack) -> None:
        stack = scaled_out
        stack.wait_healthy("engine-2", timeout=400)
        say(stack, "engine", "web:both-at-once", CONVERSATION[0])
        for _ in range(3):
            with ThreadPoolExecutor(max_workers=2) as pool:
                answers = list(
                    pool.map(
                        lambda engine: say(stack, engine, "web:both-at-once", "できました"), ["engine", "engine-2"]
                    )
                )
            assert all(answers)
        events = tracker_events(stack, "engine-2", "web:both-at-once")
        assert [event["text"] for event in events if event["event"] == "user"] == [CONVERSATION[0]] + ["できました"] * 6
        assert_one_turn_at_a_time(events)

    def test_turns_alternating_between_engines_with_one_killed_say_what_one_engine_says(
        self, scaled_out: Stack
    ) -> None:
        stack = scaled_out
        stack.wait_healthy("engine-2", timeout=400)
        alone = [say(stack, "engine", "web:one-engine", text) for text in CONVERSATION]
        alternating = []
        for turn, text in enumerate(CONVERSATION, start=1):
            if turn == KILLED_AFTER_TURN + 1:
                stack.kill("engine-2")
            engine = "engine-2" if turn % 2 == 0 and turn <= KILLED_AFTER_TURN else "engine"
            alternating.append(say(stack, engine, "web:alternating", text))
        assert alternating == alone
        events = tracker_events(stack, "engine", "web:alternating")
        assert [event["text"] for event in events if event["event"] == "user"] == CONVERSATION, "a turn was lost"
        assert_one_turn_at_a_time(events)
        bot_texts = [event["text"] for event in events if event["event"] == "bot" and event.get("text")]
        answered = [text for texts in alternating for text in texts if text]
        assert bot_texts == answered, "the tracker and the answers disagree"


@pytest.fixture(scope="module")
def two_engines_on_sqlite() -> Iterator[Stack]:
    """What `make run` starts on a two-core machine: two engines on one SQLite tracker file, behind the hub."""
    if not any((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/; run `make model` (make test does it)")
    with tempfile.TemporaryDirectory() as data_dir:
        stack = Stack(data_dir=Path(data_dir), ports=Ports.free(engines=2))
        try:
            stack.start(wait_seconds=400)
            yield stack
        finally:
            stack.stop()


def test_on_one_machine_a_killed_engines_conversations_go_on_at_the_other(two_engines_on_sqlite: Stack) -> None:
    stack = two_engines_on_sqlite
    residents = [Resident(stack.hub_url) for _ in range(6)]
    steps = [progress(begin(resident, "bank_account")) for resident in residents]
    with sqlite3.connect(stack.data_dir / "hub.db") as hub_db:
        conversations = [row[0] for row in hub_db.execute("select id from conversations")]
    ring = EngineRing([URL(url) for url in stack.engine_urls.values()])
    owners = {str(ring.order(conversation)[0]) for conversation in conversations}
    assert stack.engine_urls["engine"] in owners, "no conversation was on the engine the test kills; add residents"
    stack.kill("engine")
    for resident, (number, total) in zip(residents, steps, strict=True):
        assert progress(resident.press("できました")) == (number + 1, total)
    status, details = health_details(stack)
    assert status == 200 and [engine["up"] for engine in details["engines"]] == [False, True]
    stack.wait_healthy("engine", timeout=400)
    for resident, (number, total) in zip(residents, steps, strict=True):
        assert progress(resident.press("できました")) == (number + 2, total)


def health_details(stack: Stack) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{stack.hub_url}/health/details", timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
