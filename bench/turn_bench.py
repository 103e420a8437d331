"""Turn latency through the hub against straight to the engine, and each process's peak memory.

Starts the real stack on loopback (bench ports), sends the same resident messages both ways,
and writes bench/results/turns.json. Run with the hub environment: `make bench`.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.launcher import Ports, Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "turns.json"
TURNS = 300
CONVERSATION = [
    "マイナポータルにログインしたいです",
    '/inform_device{"device":"iphone"}',
    "できました",
    "わからないです",
    "もう一度お願いします",
    "できました",
    "前に戻って",
    "できません",
]


def post(url: str, body: dict[str, Any]) -> dict[str, Any] | list[Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def timed_turns(send: Any) -> list[float]:
    """Milliseconds for each of TURNS messages, in conversations of len(CONVERSATION) turns."""
    timings = []
    for turn in range(TURNS):
        conversation, position = divmod(turn, len(CONVERSATION))
        started = time.perf_counter()
        send(conversation, position, CONVERSATION[position])
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 1),
    }


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        stack = Stack(data_dir=Path(data_dir), ports=Ports(engine=17005, actions=17055, hub=17080))
        stack.start()
        try:
            sessions: dict[int, str] = {}

            def via_hub(conversation: int, position: int, text: str) -> None:
                body: dict[str, Any] = {"payload": text} if text.startswith("/") else {"text": text}
                if conversation in sessions:
                    body["session"] = sessions[conversation]
                answer = post(f"{stack.hub_url}/channels/web/messages", body)
                assert isinstance(answer, dict) and answer["messages"], answer
                sessions[conversation] = answer["session"]

            def direct(conversation: int, position: int, text: str) -> None:
                answer = post(
                    f"{stack.engine_url}/webhooks/hub/webhook", {"sender": f"bench:{conversation}", "message": text}
                )
                assert answer, "the engine said nothing"

            timed_turns(direct)  # warm-up: first parses load lazily
            engine = summary(timed_turns(direct))
            hub = summary(timed_turns(via_hub))
            memory = {name: peak_memory_mb(process.pid) for name, process in stack.processes.items()}
        finally:
            stack.stop()
    report = {
        "turns": TURNS,
        "engine_direct": engine,
        "through_hub": hub,
        "ratio_median": round(hub["median_ms"] / engine["median_ms"], 2),
        "peak_memory_mb": memory,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"saved {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
