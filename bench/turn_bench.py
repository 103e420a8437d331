"""Turn latency through the hub's conversation core against straight to the engine, at 1 and 20 conversations at once.

Starts the real stack on loopback (free ports), holds the same whole resident conversations both ways at each
level of concurrency, reads the hub's longest event-loop stall over its runs, and each process's peak memory.
Writes bench/results/turns.json. Run with the hub environment: `make bench`.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.launcher import Ports, Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "turns.json"
ENGINE_WEBHOOK = "/webhooks/hub/webhook"
CONCURRENCY = (1, 20)
TURNS_PER_LEVEL = 300
CONVERSATION = [
    "マイナポータルにログインしたいです",
    "iPhoneです",
    "できました",
    "わからないです",
    "もう一度お願いします",
    "できました",
    "前に戻って",
    "できません",
]

Send = Callable[[str, str], None]


def post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def hold_conversations(send: Send, label: str, concurrency: int, turns: int) -> list[float]:
    """Milliseconds for each turn of whole conversations, `concurrency` of them running at once."""
    conversations = -(-turns // len(CONVERSATION))

    def one(number: int) -> list[float]:
        timings = []
        for text in CONVERSATION:
            started = time.perf_counter()
            send(f"{label}-{number}", text)
            timings.append((time.perf_counter() - started) * 1000)
        return timings

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return [t for timings in pool.map(one, range(conversations)) for t in timings]


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "turns": len(ordered),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
    }


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        stack = Stack(data_dir=Path(data_dir), ports=Ports.free(), engine_timeout=60.0)
        stack.start()
        try:
            sessions: dict[str, str] = {}

            def via_hub(conversation: str, text: str) -> None:
                body: dict[str, Any] = {"text": text}
                if conversation in sessions:
                    body["session"] = sessions[conversation]
                answer = post(f"{stack.hub_url}/channels/web/messages", body)
                assert answer["messages"], answer
                sessions[conversation] = answer["session"]

            def direct(conversation: str, text: str) -> None:
                answer = post(f"{stack.engine_url}{ENGINE_WEBHOOK}", {"sender": conversation, "message": text})
                assert answer, "the engine said nothing"

            hold_conversations(direct, "warm-up", 1, len(CONVERSATION) * 3)  # first parses load lazily
            levels: dict[str, Any] = {}
            get(f"{stack.hub_url}/health/details?reset=1")
            for concurrency in CONCURRENCY:
                engine = summary(hold_conversations(direct, f"direct{concurrency}", concurrency, TURNS_PER_LEVEL))
                hub = summary(hold_conversations(via_hub, f"hub{concurrency}", concurrency, TURNS_PER_LEVEL))
                levels[str(concurrency)] = {
                    "engine_direct": engine,
                    "through_hub": hub,
                    "hub_added_at_median": round(hub["median_ms"] / engine["median_ms"] - 1, 3),
                }
            stall = get(f"{stack.hub_url}/health/details")["event_loop"]["longest_stall_ms"]
            memory = {name: peak_memory_mb(process.pid) for name, process in stack.processes.items()}
        finally:
            stack.stop()
    report = {
        "conversation_turns": len(CONVERSATION),
        "by_concurrent_conversations": levels,
        "hub_longest_event_loop_stall_ms": stall,
        "peak_memory_mb": memory,
        "target": "the hub adds at most 25 % at the median",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"saved {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
