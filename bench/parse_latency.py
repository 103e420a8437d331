"""In-process parse latency of two trained models side by side, calls interleaved.

On the shared machine other jobs slow every call; interleaving the two models' calls lets that
load hit both alike, so the difference between them is what one model costs over the other.
Run with the engine environment: `.venv/engine/bin/python bench/parse_latency.py BEFORE.tar.gz AFTER.tar.gz`.
Writes bench/results/parse_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
CALLS = 600
WARM_UP = 20


async def measure(models: dict[str, Path]) -> dict[str, dict[str, float]]:
    """Median and p95 in ms per model over CALLS hold-out parses each, interleaved."""
    from rasa.core.agent import Agent

    from bench.nlu_bench import HOLDOUT, load_set

    texts, _ = load_set(HOLDOUT)
    agents = {name: Agent.load(str(path)) for name, path in models.items()}
    for agent in agents.values():
        for text in texts[:WARM_UP]:
            await agent.parse_message(text)
    timings: dict[str, list[float]] = {name: [] for name in agents}
    for index in range(CALLS):
        for name, agent in agents.items():
            started = time.perf_counter()
            await agent.parse_message(texts[index % len(texts)])
            timings[name].append((time.perf_counter() - started) * 1000)
    result = {}
    for name, values in timings.items():
        values.sort()
        p95 = values[int(len(values) * 0.95) - 1]
        result[name] = {"median": round(statistics.median(values), 2), "p95": round(p95, 2), "calls": len(values)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "parse_latency.json")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    models = {"before": args.before, "after": args.after}
    report = {"models": {name: path.name for name, path in models.items()}, **asyncio.run(measure(models))}
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
