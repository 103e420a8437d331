"""NLU benchmark: our Sudachi pipeline against Rasa's default pipeline on the held-out set.

Trains both on data/nlu, evaluates on tests/data/nlu_holdout.yml (never trained on) and on a
kana-only rewrite of it, measures parse latency, and writes bench/results/nlu.json.
Run with the engine environment: `make bench` or `.venv/engine/bin/python bench/nlu_bench.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HOLDOUT = ROOT / "tests" / "data" / "nlu_holdout.yml"
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results" / "nlu.json"
PIPELINES = {"sudachi": ROOT / "config.yml", "rasa_default": ROOT / "bench" / "baseline_config.yml"}
LATENCY_CALLS = 1000


def train(name: str, config: Path) -> Path:
    """Train an NLU-only model for one pipeline (Rasa skips it when nothing changed)."""
    out = WORK / name
    subprocess.run(
        [str(ROOT / ".venv/engine/bin/rasa"), "train", "nlu", "--config", str(config), "--nlu", "data/nlu",
         "--out", str(out), "--fixed-model-name", name, "--quiet"],
        cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    return out / f"{name}.tar.gz"


def kana_rewrite(texts: list[str]) -> list[str]:
    """The hold-out as a senior who types only hiragana would write it."""
    from bot.nlu.kana import kana_analyser, kana_only

    analyser = kana_analyser()
    return [kana_only(text, analyser) for text in texts]


def scores(gold: list[str], predicted: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-intent F1."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(gold))
    per_intent = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 4),
        "per_intent_f1": {label: round(float(f), 4) for label, f in zip(labels, per_intent, strict=True)},
    }


async def evaluate(model: Path, texts: list[str], kana: list[str], gold: list[str]) -> dict[str, Any]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def intents(batch: list[str]) -> list[str]:
        return [(await agent.parse_message(text))["intent"]["name"] for text in batch]

    result = {"holdout": scores(gold, await intents(texts)), "kana_only": scores(gold, await intents(kana))}
    timings = []
    for index in range(LATENCY_CALLS):
        started = time.perf_counter()
        await agent.parse_message(texts[index % len(texts)])
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    result["parse_ms"] = {
        "median": round(statistics.median(timings), 2),
        "p95": round(timings[int(len(timings) * 0.95) - 1], 2),
        "calls": LATENCY_CALLS,
    }
    return result


def main() -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    holdout = load_data(str(HOLDOUT))
    texts = [example.get("text") for example in holdout.intent_examples]
    gold = [example.get("intent") for example in holdout.intent_examples]
    kana = kana_rewrite(texts)
    report: dict[str, Any] = {
        "holdout_examples": len(texts),
        "intents": len(set(gold)),
        "kana_examples_sample": kana[:5],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "pipelines": {},
    }
    for name, config in PIPELINES.items():
        model = train(name, config)
        report["pipelines"][name] = asyncio.run(evaluate(model, texts, kana, gold))
    report["peak_memory_mb_bench_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{'pipeline':<14}{'accuracy':>10}{'macro-F1':>10}{'kana acc':>10}{'median ms':>11}{'p95 ms':>9}")
    for name, result in report["pipelines"].items():
        print(
            f"{name:<14}{result['holdout']['accuracy']:>10.3f}{result['holdout']['macro_f1']:>10.3f}"
            f"{result['kana_only']['accuracy']:>10.3f}{result['parse_ms']['median']:>11.1f}{result['parse_ms']['p95']:>9.1f}"
        )
    print(f"saved {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
