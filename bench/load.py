"""Throughput: turns per second and latency with 10, 30 and 100 conversations at once, and at a steady rate.

For each number of engine processes (1, then ENGINE_PROCESSES or the number of cores) starts the real stack on
loopback (free ports), holds whole resident conversations through the hub's web channel (and, with one engine,
straight to the engine in the same run), and reports turns/s, p50/p95/p99, failed turns, lost turns (a message
missing from its tracker), each process's peak memory, and with one engine the cost of turn 5 against turn 200
of one long conversation. The levels "at once" send each next message as soon as the answer comes (a closed
loop: the most the stack can answer); the steady level offers OFFERED_TURNS_PER_SECOND from residents who each
send a message every READING_SECONDS and read the answer in between, as people do. Writes
bench/results/load.json with the machine's load average before and after, since other work on the machine skews
the numbers. Run with the hub environment: `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from turn_bench import CONVERSATION, ENGINE_WEBHOOK, hold_conversations, peak_memory_mb, post  # noqa: E402

from bot.launcher import Ports, Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load.json"
CONCURRENCY = (10, 30, 100)
# Three whole conversations per slot at each level, so the opening turns of the first wave do not dominate; one at
# 100 at once (800 turns), which takes as long as the other two levels together.
WAVES = {10: 3, 30: 3, 100: 1}
# The steady level: 30 residents, each sending every 3 s, offer 10 turns/s; each holds two whole conversations.
OFFERED_TURNS_PER_SECOND = 10
READING_SECONDS = 3.0
STEADY_CONVERSATIONS = 2
STEADY_TARGET = "p95 at most 150 ms through the hub at an offered 10 turns/s (issue 12)"
LONG_CONVERSATION = 200
TARGET = "at least 60 turns/s through the hub with 30 conversations at once (issue 12); 3x one engine"


def percentile(ordered: list[float], share: float) -> float:
    return round(ordered[min(len(ordered) - 1, max(0, int(len(ordered) * share + 0.5) - 1))], 1)


def summary(timings: list[float], failures: int, seconds: float) -> dict[str, Any]:
    ordered = sorted(timings)
    return {
        "turns": len(ordered),
        "failed": failures,
        "turns_per_second": round(len(ordered) / seconds, 1),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": percentile(ordered, 0.95),
        "p99_ms": percentile(ordered, 0.99),
    }


class Run:
    """One stack's conversations: timings, failures, and what was sent to which conversation."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sessions: dict[str, str] = {}
        self.failures = 0
        self.sent: dict[str, int] = {}

    def via_hub(self, conversation: str, text: str) -> None:
        body: dict[str, Any] = {"text": text}
        if conversation in self.sessions:
            body["session"] = self.sessions[conversation]
        try:
            answer = post(f"{self.stack.hub_url}/channels/web/messages", body)
        except (urllib.error.URLError, OSError):
            self.failures += 1
            return
        if not answer.get("messages") or answer.get("pending"):
            self.failures += 1
        self.sessions[conversation] = answer["session"]
        self.sent[conversation] = self.sent.get(conversation, 0) + 1

    def direct(self, conversation: str, text: str) -> None:
        try:
            answer = post(f"{self.stack.engine_url}{ENGINE_WEBHOOK}", {"sender": conversation, "message": text})
        except (urllib.error.URLError, OSError):
            self.failures += 1
            return
        if not answer:
            self.failures += 1

    def level(self, send: Any, label: str, concurrency: int) -> dict[str, Any]:
        failures_before = self.failures
        started = time.perf_counter()
        timings = hold_conversations(send, label, concurrency, concurrency * len(CONVERSATION) * WAVES[concurrency])
        return summary(timings, self.failures - failures_before, time.perf_counter() - started)

    def steady(self, send: Any, label: str) -> dict[str, Any]:
        """Residents who read between turns: OFFERED_TURNS_PER_SECOND offered, whatever the answers' latency.

        Resident n starts n / rate seconds in and sends its k-th message READING_SECONDS × k after its start; a
        message whose time comes while the previous answer is still awaited goes when that answer comes (one
        turn of a conversation at a time, as in a chat), and is counted as late.
        """
        residents = round(OFFERED_TURNS_PER_SECOND * READING_SECONDS)
        failures_before = self.failures
        started = time.perf_counter()

        def resident(number: int) -> tuple[list[float], int]:
            timings: list[float] = []
            late = 0
            start = started + number / OFFERED_TURNS_PER_SECOND
            for turn, text in enumerate(CONVERSATION * STEADY_CONVERSATIONS):
                wait = start + turn * READING_SECONDS - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                elif turn:
                    late += 1
                sent = time.perf_counter()
                send(f"{label}-{number}-{turn // len(CONVERSATION)}", text)
                timings.append((time.perf_counter() - sent) * 1000)
            return timings, late

        with ThreadPoolExecutor(max_workers=residents) as pool:
            results = list(pool.map(resident, range(residents)))
        timings = [timing for resident_timings, _ in results for timing in resident_timings]
        return {
            "offered_turns_per_second": OFFERED_TURNS_PER_SECOND,
            "residents": residents,
            "reading_seconds": READING_SECONDS,
            **summary(timings, self.failures - failures_before, time.perf_counter() - started),
            "sent_late": sum(late for _, late in results),
        }

    def lost_turns(self) -> int:
        """Messages the hub sent that are missing from the engines' shared tracker database."""
        tracker = sqlite3.connect(self.stack.data_dir / "tracker.db")
        hub = sqlite3.connect(self.stack.data_dir / "hub.db")
        stored = dict(tracker.execute("select sender_id, count(*) from events where type_name='user' group by 1"))
        conversations = [row[0] for row in hub.execute("select id from conversations")]
        expected = sum(self.sent.values())
        return max(0, expected - sum(stored.get(conversation, 0) for conversation in conversations))


def long_conversation(run: Run) -> dict[str, float]:
    """Milliseconds of turns 5 and 200 of one conversation (median of the five turns around each)."""
    timings = []
    texts = ["マイナポータルにログインしたいです", "iPhoneです"] + ["もう一度お願いします"] * (LONG_CONVERSATION - 2)
    for text in texts:
        started = time.perf_counter()
        run.direct("long-conversation", text)
        timings.append((time.perf_counter() - started) * 1000)
    early, late = statistics.median(timings[2:7]), statistics.median(timings[-5:])
    return {"turn_5_ms": round(early, 1), "turn_200_ms": round(late, 1), "ratio": round(late / early, 2)}


def measure(engines: int, data_dir: Path) -> dict[str, Any]:
    stack = Stack(data_dir=data_dir, ports=Ports.free(engines=engines), engine_timeout=60.0)
    stack.start(wait_seconds=600)
    try:
        run = Run(stack)
        hold_conversations(run.via_hub, "warm-up", engines * 2, len(CONVERSATION) * engines * 2)
        levels: dict[str, Any] = {}
        for concurrency in CONCURRENCY:
            level: dict[str, Any] = {"through_hub": run.level(run.via_hub, f"hub{concurrency}", concurrency)}
            if engines == 1:
                level["engine_direct"] = run.level(run.direct, f"direct{concurrency}", concurrency)
            levels[str(concurrency)] = level
        steady: dict[str, Any] = {"through_hub": run.steady(run.via_hub, "steady-hub")}
        if engines == 1:
            steady["engine_direct"] = run.steady(run.direct, "steady-direct")
        result: dict[str, Any] = {
            "by_concurrent_conversations": levels,
            "steady_offered_rate": steady,
            "lost_turns": run.lost_turns(),
        }
        if engines == 1:
            result["long_conversation"] = long_conversation(run)
        result["peak_memory_mb"] = {name: peak_memory_mb(process.pid) for name, process in stack.processes.items()}
        return result
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", type=int, default=int(os.environ.get("ENGINE_PROCESSES") or os.cpu_count() or 2))
    args = parser.parse_args()
    report: dict[str, Any] = {
        "cores": os.cpu_count(),
        "load_average_before": [round(value, 2) for value in os.getloadavg()],
        "conversation_turns": len(CONVERSATION),
        "conversations_per_slot": {str(level): waves for level, waves in WAVES.items()},
        "target": TARGET,
        "steady_target": STEADY_TARGET,
        "by_engine_processes": {},
    }
    for engines in sorted({1, args.engines}):
        with tempfile.TemporaryDirectory() as data_dir:
            report["by_engine_processes"][str(engines)] = measure(engines, Path(data_dir))
    report["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    one = report["by_engine_processes"]["1"]["by_concurrent_conversations"]["30"]["through_hub"]["turns_per_second"]
    most = report["by_engine_processes"][str(args.engines)]["by_concurrent_conversations"]["30"]["through_hub"]
    report["speed_up_at_30"] = round(most["turns_per_second"] / one, 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"saved {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
