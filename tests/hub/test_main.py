"""`python -m bot.hub` refuses bad settings and serves without writing what residents type to its logs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.hub.store import ConversationStore

ROOT = Path(__file__).resolve().parents[2]


def hub_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "ENGINE_", "DATA_DIR"))}
    return {**env, "PYTHONPATH": str(ROOT), **values}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(url: str, body: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_unknown_channel_stops_the_hub_with_the_choices() -> None:
    env = hub_env(ENGINE_TOKEN="t", HUB_CHANNELS="web,telegram")
    done = subprocess.run(
        [sys.executable, "-m", "bot.hub"], env=env, capture_output=True, text=True, timeout=30, cwd=ROOT
    )
    assert done.returncode == 2
    assert "no channel 'telegram': choose from" in done.stderr


def test_purge_removes_idle_conversations_and_says_how_many(tmp_path: Path) -> None:
    long_ago = datetime.now(timezone.utc) - timedelta(days=40)
    store = ConversationStore.open(tmp_path / "var" / "hub.db", clock=lambda: long_ago)
    store.start_conversation("web", "old")
    store.close()
    env = hub_env(ENGINE_TOKEN="t", DATA_DIR=str(tmp_path / "var"), RETENTION_DAYS="30")
    done = subprocess.run(
        [sys.executable, "-m", "bot.hub", "purge"], env=env, capture_output=True, text=True, timeout=30, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert "purged 1 conversations idle for more than 30 days" in done.stdout


def test_a_missing_token_stops_the_hub_with_the_fix() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.hub"], env=hub_env(), capture_output=True, text=True, timeout=30, cwd=ROOT
    )
    assert done.returncode == 2
    assert "ENGINE_TOKEN is not set" in done.stderr


@pytest.fixture
def running_hub(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port, engine_port = free_port(), free_port()
    env = hub_env(
        ENGINE_TOKEN="t",
        HUB_PORT=str(port),
        ENGINE_URL=f"http://127.0.0.1:{engine_port}",
        DATA_DIR=str(tmp_path / "var"),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.hub"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        while first_line and not first_line.startswith("hub: "):  # start-up warnings come first
            first_line = process.stdout.readline()
        assert first_line.startswith(f"hub: http://127.0.0.1:{port}/"), first_line
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_listening(url: str, process: subprocess.Popen[str]) -> None:
    """Poll /health until the hub answers at all (503 included)."""
    for _ in range(400):
        assert process.poll() is None, "the hub exited"
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1).close()
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
            continue
        return
    pytest.fail("the hub did not start listening")


def test_the_hub_serves_and_logs_no_resident_text(running_hub: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = running_hub
    wait_until_listening(url, process)
    status, health = request(f"{url}/health")
    assert (status, health) == (503, {"status": "down"})
    status, answer = request(f"{url}/channels/web/messages", {"text": "転入届の番号は 3141 5926 5358 です"})
    assert status == 503 and answer["session"]
    process.terminate()
    output, _ = process.communicate(timeout=30)
    assert "turn: conversation=web:" in output
    for words in ("転入届", "3141 5926 5358", "314159265358"):
        assert words not in output
