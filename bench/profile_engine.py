"""Where one engine process spends its CPU under load: a py-spy sampling profile while conversations run.

Starts the real stack on loopback (free ports, one engine), holds 10 whole conversations at once straight to the
engine's hub channel, samples the engine with py-spy (pinned in requirements/engine.lock) and
writes the engine's CPU time per turn (what the turn costs, whatever else runs on the machine) and the share
of samples under each function that matters for a turn to
bench/results/profile_<label>.json (and the raw collapsed stacks beside it, gzipped).
Run with the hub environment: `.venv/hub/bin/python bench/profile_engine.py --label after`.

With `--long`, one conversation of LONG_TURNS turns instead: the engine's CPU time per turn and its profile over
turns 3-12 and over the last ten turns, to show what grows with a conversation's length
(bench/results/profile_long_<label>.json). Then, since other work on the machine changes a turn's CPU time from
one minute to the next, PAIRED_TURNS more turns of the long conversation alternate with the first turns of a new
one, so that early and late turns are measured under the same load ("paired" in the file).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from turn_bench import CONVERSATION, ENGINE_WEBHOOK, hold_conversations, post  # noqa: E402

from bot.launcher import Ports, Stack  # noqa: E402

PY_SPY = ROOT / ".venv" / "engine" / "bin" / "py-spy"
RESULTS = ROOT / "bench" / "results"
CONCURRENCY = 10
TURNS = 400
LONG_TURNS = 200
# Turns of the long conversation whose engine CPU and samples are measured: around turn 5 and the last ten.
EARLY_WINDOW = range(3, 13)
LATE_WINDOW = range(LONG_TURNS - 9, LONG_TURNS + 1)
# Turns of the long conversation (after LONG_TURNS) and of a new one, alternating, for the paired comparison.
PAIRED_TURNS = 40
# The functions of a turn worth watching: validation of the action server's answer, the tracker store, the
# policies and NLU. A sample counts for a function when the function is anywhere on its stack.
WATCHED = {
    "action answer validation (_validate_action_result)": "_validate_action_result",
    "tracker retrieval (tracker store retrieve)": "retrieve (",
    "tracker saving (tracker store save)": "save (",
    "message handling (handle_message)": "handle_message",
    "policy prediction (predict_next_action)": "predict_next_action",
    "NLU parse (parse_message)": "parse_message",
    "remote action run (RemoteAction.run)": "run (rasa/core/actions/action.py",
    "jsonschema": "jsonschema/",
    "SQLAlchemy": "sqlalchemy/",
}


def shares(collapsed: str) -> tuple[int, dict[str, float]]:
    """The number of samples and, for each watched function, the share of samples with it on the stack."""
    total = 0
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        total += int(number)
        for label, needle in WATCHED.items():
            if needle in stack:
                counts[label] += int(number)
    return total, {label: round(counts[label] / total, 3) if total else 0.0 for label in WATCHED}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (robust to other work sharing the cores)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def record(engine_pid: int, raw: Path) -> subprocess.Popen[bytes]:
    """Start sampling the engine with py-spy into `raw` (stop it with SIGINT)."""
    return subprocess.Popen(
        [str(PY_SPY), "record", "--pid", str(engine_pid), "--format", "raw", "--output", str(raw),
         "--rate", "50", "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def long_conversation(stack: Stack, work_dir: Path) -> dict[str, Any]:
    """Engine CPU, wall time and profile of one conversation's early turns against its last ones."""
    engine_pid = stack.processes["engine"].pid
    texts = ["マイナポータルにログインしたいです", "iPhoneです"] + ["もう一度お願いします"] * (LONG_TURNS - 2)
    windows: dict[str, dict[str, Any]] = {}
    for turn, text in enumerate(texts, start=1):
        name = "early" if turn in EARLY_WINDOW else "late" if turn in LATE_WINDOW else None
        if name and name not in windows:
            raw = work_dir / f"{name}.collapsed"
            windows[name] = {"raw": raw, "spy": record(engine_pid, raw), "cpu": cpu_seconds(engine_pid), "ms": []}
        started = time.perf_counter()
        post(f"{stack.engine_url}{ENGINE_WEBHOOK}", {"sender": "long-conversation", "message": text})
        if name:
            windows[name]["ms"].append((time.perf_counter() - started) * 1000)
        window_range = EARLY_WINDOW if name == "early" else LATE_WINDOW
        if name and turn == window_range[-1]:
            window = windows[name]
            window["cpu"] = cpu_seconds(engine_pid) - window["cpu"]
            window["spy"].send_signal(2)
            window["spy"].wait(timeout=60)
    report: dict[str, Any] = {}
    for name, window in windows.items():
        turns = EARLY_WINDOW if name == "early" else LATE_WINDOW
        collapsed = window["raw"].read_text()
        total, by_function = shares(collapsed)
        report[name] = {
            "turns": f"{turns[0]}-{turns[-1]}",
            "engine_cpu_ms_per_turn": round(window["cpu"] * 1000 / len(window["ms"]), 1),
            "median_turn_ms": round(statistics.median(window["ms"]), 1),
            "samples": total,
            "share_of_engine_samples": by_function,
        }
        report[name]["collapsed"] = collapsed
    report["cpu_ratio_late_to_early"] = round(
        report["late"]["engine_cpu_ms_per_turn"] / report["early"]["engine_cpu_ms_per_turn"], 2
    )
    report["wall_ratio_late_to_early"] = round(report["late"]["median_turn_ms"] / report["early"]["median_turn_ms"], 2)
    report["paired"] = paired_turns(stack, engine_pid, texts)
    return report


def paired_turns(stack: Stack, engine_pid: int, texts: list[str]) -> dict[str, Any]:
    """Engine CPU per turn of a new conversation's turns 3 on and the long one's next turns, one after the other."""
    url = f"{stack.engine_url}{ENGINE_WEBHOOK}"
    for text in texts[:2]:
        post(url, {"sender": "new-conversation", "message": text})
    cpu = {"new": 0.0, "long": 0.0}
    wall: dict[str, list[float]] = {"new": [], "long": []}
    for _ in range(PAIRED_TURNS):
        for name, sender in (("new", "new-conversation"), ("long", "long-conversation")):
            cpu_before, started = cpu_seconds(engine_pid), time.perf_counter()
            post(url, {"sender": sender, "message": texts[-1]})
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name] += cpu_seconds(engine_pid) - cpu_before
    new, long = (round(cpu[name] * 1000 / PAIRED_TURNS, 1) for name in ("new", "long"))
    return {
        "turns": f"new conversation 3-{PAIRED_TURNS + 2}, long one {LONG_TURNS + 1}-{LONG_TURNS + PAIRED_TURNS}",
        "engine_cpu_ms_per_turn": {"new": new, "long": long},
        "median_turn_ms": {name: round(statistics.median(wall[name]), 1) for name in wall},
        "cpu_ratio_long_to_new": round(long / new, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--label", required=True, help="before or after: names the result file")
    parser.add_argument("--long", action="store_true", help="profile one long conversation instead")
    args = parser.parse_args()
    if not PY_SPY.exists():
        sys.exit(f"{PY_SPY} is missing: run `make install` (requirements/engine.lock pins py-spy)")
    if args.long:
        main_long(args.label)
        return
    with tempfile.TemporaryDirectory() as data_dir:
        stack = Stack(data_dir=Path(data_dir), ports=Ports.free(), engine_timeout=60.0)
        stack.start()
        try:
            empty_answers: list[str] = []

            def direct(conversation: str, text: str) -> None:
                answer = post(f"{stack.engine_url}{ENGINE_WEBHOOK}", {"sender": conversation, "message": text})
                if not answer:  # Rasa answers nothing when a custom action failed (counted, not fatal)
                    empty_answers.append(conversation)

            hold_conversations(direct, "warm-up", 1, len(CONVERSATION) * 3)
            engine_pid = stack.processes["engine"].pid
            raw = Path(data_dir) / "engine.collapsed"
            spy = record(engine_pid, raw)
            timings: list[float] = []
            cpu_before = cpu_seconds(engine_pid)
            worker = threading.Thread(
                target=lambda: timings.extend(hold_conversations(direct, f"profile-{os.getpid()}", CONCURRENCY, TURNS))
            )
            worker.start()
            worker.join()
            cpu_used = cpu_seconds(engine_pid) - cpu_before
            spy.send_signal(2)
            spy.wait(timeout=60)
            collapsed = raw.read_text()
        finally:
            stack.stop()
    total, by_function = shares(collapsed)
    report = {
        "label": args.label,
        "load": f"{CONCURRENCY} conversations at once straight to the engine, {len(timings)} turns",
        "samples": total,
        "share_of_engine_samples": by_function,
        "empty_answers": len(empty_answers),
        "engine_cpu_ms_per_turn": round(cpu_used * 1000 / len(timings), 1),
        "median_turn_ms": round(sorted(timings)[len(timings) // 2], 1),
        "load_average": os.getloadavg(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"profile_{args.label}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    with gzip.open(RESULTS / f"profile_{args.label}.collapsed.gz", "wt", encoding="utf-8") as out:
        out.write(collapsed)
    print(json.dumps(report, indent=2))


def main_long(label: str) -> None:
    """Profile one long conversation and save bench/results/profile_long_<label>.json."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as data_dir:
        stack = Stack(data_dir=Path(data_dir), ports=Ports.free(), engine_timeout=60.0)
        stack.start(wait_seconds=600)
        try:
            report = long_conversation(stack, Path(data_dir))
        finally:
            stack.stop()
    report["load_average_before_after"] = [load_before, os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    for window in ("early", "late"):
        with gzip.open(RESULTS / f"profile_long_{label}_{window}.collapsed.gz", "wt", encoding="utf-8") as out:
            out.write(report[window].pop("collapsed"))
    (RESULTS / f"profile_long_{label}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
