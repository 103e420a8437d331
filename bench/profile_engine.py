"""Where one engine process spends its CPU under load: a py-spy sampling profile while conversations run.

Starts the real stack on loopback (free ports, one engine), holds 10 whole conversations at once straight to the
engine's hub channel, samples the engine with py-spy (pinned in requirements/engine.lock) and
writes the engine's CPU time per turn (what the turn costs, whatever else runs on the machine) and the share
of samples under each function that matters for a turn to
bench/results/profile_<label>.json (and the raw collapsed stacks beside it, gzipped).
Run with the hub environment: `.venv/hub/bin/python bench/profile_engine.py --label after`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from turn_bench import CONVERSATION, ENGINE_WEBHOOK, hold_conversations, post  # noqa: E402

from bot.launcher import Ports, Stack  # noqa: E402

PY_SPY = ROOT / ".venv" / "engine" / "bin" / "py-spy"
RESULTS = ROOT / "bench" / "results"
CONCURRENCY = 10
TURNS = 400
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--label", required=True, help="before or after: names the result file")
    args = parser.parse_args()
    if not PY_SPY.exists():
        sys.exit(f"{PY_SPY} is missing: run `make install` (requirements/engine.lock pins py-spy)")
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
            spy = subprocess.Popen(
                [str(PY_SPY), "record", "--pid", str(engine_pid), "--format", "raw", "--output", str(raw),
                 "--rate", "50", "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
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


if __name__ == "__main__":
    main()
