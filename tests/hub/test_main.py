"""`python -m bot.hub` refuses bad settings and serves without writing what residents type to its logs."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.hub.store import ConversationStore
from bot.hub.tickets import HandoffRequest
from tests.hub.fake_engine import TOKEN, FakeEngine

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


async def start_hub_process(env: dict[str, str]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.hub", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return process


async def wait_for_details(session: aiohttp.ClientSession, url: str, ready: Callable[[dict[str, Any]], bool]) -> None:
    for _ in range(300):
        try:
            async with session.get(f"{url}/health/details") as response:
                if ready(await response.json()):
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    pytest.fail("the hub did not reach the expected state")


async def test_a_late_answer_in_the_outbox_survives_a_killed_hub(fake_engine: FakeEngine, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = hub_env(
        ENGINE_TOKEN=TOKEN, HUB_PORT=str(port), ENGINE_URL=str(fake_engine.url), ACTIONS_URL=str(fake_engine.url),
        ENGINE_TIMEOUT="0.3", DATA_DIR=str(tmp_path / "var"),
    )  # fmt: skip
    fake_engine.hold_replies()
    hub = await start_hub_process(env)
    try:
        async with aiohttp.ClientSession() as session:
            await wait_for_details(session, url, lambda details: details["hub"] == "ok")
            async with session.post(f"{url}/channels/web/messages", json={"text": "こんにちは"}) as response:
                assert response.status == 202
                token = (await response.json())["session"]
            fake_engine.release()
            await wait_for_details(session, url, lambda details: details["outbox"]["undelivered"] == 1)
            hub.kill()  # no clean shutdown: only what is on disk counts
            await hub.wait()
            hub = await start_hub_process(env)
            await wait_for_details(session, url, lambda details: details["hub"] == "ok")
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(f"{url}/channels/web/messages", headers=headers) as response:
                assert response.status == 200
                assert [m["text"] for m in (await response.json())["messages"]] == ["echo: こんにちは"]
    finally:
        if hub.returncode is None:
            hub.terminate()
            await hub.wait()


def test_backup_copies_conversations_and_tickets_and_refuses_to_overwrite(tmp_path: Path) -> None:
    data = tmp_path / "var"
    store = ConversationStore.open(data / "hub.db")
    conversation = store.start_conversation("web", "token-for-backup")
    store.record_resident_message(conversation.id, "ログインできません", pin_context=False)
    store.tickets.open_ticket(conversation.id, "web", HandoffRequest("asked"), "staff")
    store.close()
    target = tmp_path / "backups" / "hub-copy.db"
    env = hub_env(ENGINE_TOKEN="t", DATA_DIR=str(data))
    command = [sys.executable, "-m", "bot.hub", "backup", str(target)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    copy = ConversationStore.open(target)
    assert copy.transcript(conversation.id) == [("resident", "ログインできません")]
    assert [t.reason for t in copy.tickets.queue()] == ["asked"]
    copy.close()
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 2 and "exists already" in again.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "bot.hub", "backup"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert missing.returncode == 2 and "backup FILE" in missing.stderr
