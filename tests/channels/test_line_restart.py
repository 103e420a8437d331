"""A hub killed after acknowledging LINE's webhook, in the middle of the turn, handles the event when it
starts again: the resident gets the one answer (the hub as a real process, killed with SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.channels.fake_line_api import FakeLineApi, eventually, line_api_fixture, line_env
from tests.channels.fake_line_events import sign, text_event
from tests.channels.fake_line_events import webhook_body as body_of
from tests.hub.fake_engine import TOKEN, FakeEngine

__all__ = ["line_api_fixture"]

ROOT = Path(__file__).resolve().parents[2]
USER = "U1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_hub(env: dict[str, str], url: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.hub", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(f"{url}/health/details") as response:
                    if (await response.json())["hub"] == "ok":
                        return process
            except (aiohttp.ClientError, ValueError):
                pass
            await asyncio.sleep(0.05)
    process.kill()
    pytest.fail("the hub did not start")


def pending_events(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "hub.db") as conn:
        return int(conn.execute("select count(*) from inbox where handled_at is null").fetchone()[0])


async def test_an_acknowledged_event_survives_a_killed_hub(
    fake_engine: FakeEngine, line_api: FakeLineApi, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "ENGINE_", "LINE_", "DATA_DIR"))}
    env.update(line_env(line_api))
    env.update(
        PYTHONPATH=str(ROOT), ENGINE_TOKEN=TOKEN, HUB_PORT=str(port), HUB_CHANNELS="line", ENGINE_TIMEOUT="30",
        ENGINE_URL=str(fake_engine.url), ACTIONS_URL=str(fake_engine.url), DATA_DIR=str(tmp_path / "var"),
    )  # fmt: skip
    fake_engine.hold_replies()
    hub = await start_hub(env, url)
    try:
        body = body_of(text_event(line_api, USER, "マイナンバーカードの更新"))
        async with aiohttp.ClientSession() as session:
            headers = {"X-Line-Signature": sign(body), "Content-Type": "application/json"}
            async with session.post(f"{url}/channels/line/webhook", data=body, headers=headers) as response:
                assert response.status == 200
        await eventually(lambda: len(fake_engine.received) == 1, "the turn to reach the engine")
        hub.kill()  # mid-turn, no clean shutdown: only what is on disk counts
        await hub.wait()
        assert pending_events(tmp_path / "var") == 1
        assert line_api.delivered == []
        fake_engine.release()
        hub = await start_hub(env, url)
        await eventually(lambda: line_api.texts_to(USER) != [], "the answer after the restart")
        await eventually(lambda: pending_events(tmp_path / "var") == 0, "the event to be marked handled")
        assert line_api.texts_to(USER) == ["echo: マイナンバーカードの更新"]
    finally:
        if hub.returncode is None:
            hub.terminate()
            await hub.wait()
