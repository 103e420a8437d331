"""How fast the hub acknowledges LINE's webhook, with the engine answering at once and with the engine stalled.

Starts the hub as its own process (`python -m bot.hub`, HUB_CHANNELS=line) on loopback, in front of the tests'
stand-ins for the engine and for LINE's API (both outside the hub, on loopback). Posts signed text events as LINE
does, one at a time and 10 at once, and times each 200. With the engine answering it also times the answer
reaching LINE. Writes bench/results/line.json. Run with the hub environment: `make bench`.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.channels.fake_line_api import FakeLineApi, line_env  # noqa: E402
from tests.channels.fake_line_events import sign, text_event, webhook_body  # noqa: E402
from tests.hub.fake_engine import TOKEN, FakeEngine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "line.json"
EVENTS_PER_RUN = 200
CONCURRENCY = (1, 10)
USERS = [f"U{n:032x}" for n in range(20)]
TEXTS = ["マイナポータルにログインできません", "できました", "暗証番号を忘れました", "わからないです"]


async def serve(app: web.Application, host: str = "127.0.0.1") -> TestServer:
    """Serve a stand-in on a free loopback port."""
    server = TestServer(app, host=host)
    await server.start_server()
    return server


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_hub(env: dict[str, str], url: str) -> asyncio.subprocess.Process:
    """Start `python -m bot.hub` and wait until it answers."""
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
    raise SystemExit("the hub did not start")


async def acknowledgements(session: aiohttp.ClientSession, url: str, api: FakeLineApi, concurrency: int) -> list[float]:
    """Milliseconds from posting each webhook request to its 200."""
    timings: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(EVENTS_PER_RUN):
        queue.put_nowait(number)

    async def worker() -> None:
        while not queue.empty():
            number = queue.get_nowait()
            user = USERS[number % len(USERS)]
            body = webhook_body(text_event(api, user, TEXTS[number % len(TEXTS)]))
            headers = {"X-Line-Signature": sign(body), "Content-Type": "application/json"}
            started = time.perf_counter()
            async with session.post(f"{url}/channels/line/webhook", data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            timings.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    """Median, 95th percentile and maximum, in milliseconds."""
    ordered = sorted(timings)
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def run(engine_stalled: bool) -> dict[str, Any]:
    """One hub, its stand-ins, and the runs at each concurrency."""
    engine, api = FakeEngine(), FakeLineApi()
    await engine.start(serve)  # type: ignore[arg-type]
    await api.start(serve)  # type: ignore[arg-type]
    if engine_stalled:
        engine.hold_replies()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "ENGINE_", "LINE_", "DATA_DIR"))}
        env.update(line_env(api))
        env.update(
            PYTHONPATH=str(ROOT), ENGINE_TOKEN=TOKEN, HUB_PORT=str(port), HUB_CHANNELS="line", DATA_DIR=data_dir,
            ENGINE_URL=str(engine.url), ACTIONS_URL=str(engine.url),
        )  # fmt: skip
        hub = await start_hub(env, url)
        report: dict[str, Any] = {}
        try:
            async with aiohttp.ClientSession() as session:
                for concurrency in CONCURRENCY:
                    before = len(api.delivered)
                    started = time.perf_counter()
                    timings = await acknowledgements(session, url, api, concurrency)
                    result = summary(timings)
                    if not engine_stalled:
                        # Every event answered: the answers reached the fake LINE API (reply or push).
                        while len(api.delivered) - before < EVENTS_PER_RUN:
                            await asyncio.sleep(0.01)
                        result["all_answered_after_s"] = round(time.perf_counter() - started, 2)
                    report[f"{concurrency}_at_once"] = result
        finally:
            engine.release()  # so the hub's shutdown does not wait for held answers
            hub.terminate()
            await hub.wait()
            await engine.stop()
            await api.stop()
    return report


async def main() -> None:
    """Measure with the engine answering, then stalled, and save the results."""
    report = {
        "what": "LINE webhook: milliseconds from the POST to its 200 (the event kept in the inbox), hub as a process",
        "events_per_run": EVENTS_PER_RUN,
        "users": len(USERS),
        "engine_answering": await run(engine_stalled=False),
        "engine_stalled": await run(engine_stalled=True),
        "cpu_count": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
