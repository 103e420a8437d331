"""NLU benchmark: each Rasa pipeline against a character TF-IDF + logistic-regression baseline.

Every pipeline and the baseline are trained in this run on the same data/nlu, then evaluated on
sets none of them was trained on: the hold-out (tests/data/nlu_holdout.yml), its kana-only
rewrite, the real questions written by people outside the project (tests/data/real_questions.yml),
and the real questions as speech recognition would hand them over (no punctuation, some homophones
written with the wrong kanji; made here at evaluation time, never trained on).
For each: accuracy (also on the even and odd halves: for the real questions the even half was the
one looked at while tuning, the odd half was not), macro-F1, the share of out_of_scope questions
answered as such, how often the fallback fires, how often the top two intents are close enough to
ask which one was meant, the fallback threshold swept after the fact (from the kept ranking), the
blender's weight swept after the fact (when the pipeline has bot.nlu.char_ngram_blender), a table
of the remaining confusions, and in-process parse latency. Writes bench/results/nlu.json and prints a summary.

Run with the engine environment: `make bench` or `.venv/engine/bin/python bench/nlu_bench.py`
(`--pipelines sudachi,rasa_default` picks some of PIPELINES; `--out` names another results file). Models are trained
with the `rasa` of the environment running the bench, so an experiment with its own packages runs from its own
environment, e.g. `.venv/ginza/bin/python bench/nlu_bench.py --pipelines sudachi,ginza`
(see requirements/ginza-experiment.txt).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HOLDOUT = ROOT / "tests" / "data" / "nlu_holdout.yml"
REAL = ROOT / "tests" / "data" / "real_questions.yml"
TRAINING = ROOT / "data" / "nlu"
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results" / "nlu.json"
PIPELINES = {
    "sudachi": ROOT / "config.yml",
    "rasa_default": ROOT / "bench" / "baseline_config.yml",
}
EXPERIMENTS = ROOT / "bench" / "experiments"  # other configs tried; run with --pipelines name
LATENCY_CALLS = 1000
FALLBACK = "nlu_fallback"
RETRIEVAL = "faq"
THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7)
WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
BLEND_SOURCES = "intent_ranking_sources"  # bot.nlu.char_ngram_blender.SOURCES, without importing Rasa here
# Speech recognition drops punctuation and writes some words with a homophone's kanji. Each
# rewritten question gets at most one of these, the first that fits (reading in the comment).
HOMOPHONES = (
    ("暗証", "暗唱"),  # あんしょう
    ("期限", "機嫌"),  # きげん
    ("証明書", "照明書"),  # しょうめいしょ
    ("申請", "新生"),  # しんせい
    ("交付", "公布"),  # こうふ
    ("更新", "行進"),  # こうしん
    ("口座", "講座"),  # こうざ
    ("申告", "深刻"),  # しんこく
    ("保険証", "保険症"),  # ほけんしょう
    ("機能", "昨日"),  # きのう
    ("代理", "大理"),  # だいり
    ("期間", "機関"),  # きかん
    ("使用", "仕様"),  # しよう
)
PUNCTUATION = frozenset("、。,.，．？?！!・…「」『』()（）[]【】:：;；\"'“”‘’~〜 　")


def rasa_command() -> Path:
    """The `rasa` of the environment running the bench (the engine's, or an experiment's such as .venv/ginza)."""
    beside = Path(sys.executable).parent / "rasa"
    return beside if beside.exists() else ROOT / ".venv/engine/bin/rasa"


def train(name: str, config: Path, work: Path = WORK) -> Path:
    """Train an NLU-only model for one pipeline (Rasa skips it when nothing changed)."""
    out = work / name
    # Keep the caller's PYTHONPATH: experiments may bring packages from outside the engine environment.
    python_path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    subprocess.run(
        [str(rasa_command()), "train", "nlu", "--config", str(config), "--nlu", str(TRAINING),
         "--out", str(out), "--fixed-model-name", name, "--quiet"],
        cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": python_path},
    )  # fmt: skip
    return out / f"{name}.tar.gz"


def faq_topics() -> dict[str, str]:
    """Each FAQ answer's topic: the intent of the procedure it offers (data/nlu/faq.yml, bot.faq)."""
    from bot.faq import load_faq
    from bot.procedures import load_catalog

    catalog = load_catalog()
    answers = load_faq(procedures=catalog)
    return {key: catalog[a.procedure].intent for key, a in answers.items() if a.procedure is not None}


FAQ_TOPICS = faq_topics()


def topic(label: str) -> str:
    """The intent a label is scored as: an FAQ answer `faq/<key>` counts as the intent of the procedure it offers.

    Every such answer ends by offering that procedure, so answering 「更新はいつ？」 from the FAQ understood the
    resident as well as starting the renewal guide did. An answer that offers no procedure stays `faq`, which
    no gold label is: scored as an error, never as a hit.
    """
    if not label.startswith(RETRIEVAL + "/"):
        return label
    return FAQ_TOPICS.get(label[len(RETRIEVAL) + 1 :], RETRIEVAL)


def load_set(path: Path) -> tuple[list[str], list[str]]:
    """Texts and gold intents (FAQ answers as their topic) of an NLU data file or folder."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    labels = [topic(e.get("intent_response_key") or e.get("intent")) for e in data.intent_examples]
    return [e.get("text") for e in data.intent_examples], labels


def parsed_label(parsed: dict[str, Any], intent: str) -> str:
    """The scored label of a Rasa parse whose intent is `intent`: the chosen FAQ answer's topic for `faq`.

    Read with the guide's rule (bot.faq.effective_intent): an answer too unsure to give is a fallback, and a
    fallback between `faq` and its answer's own topic is that answer.
    """
    from bot.faq import answer_key, effective_intent

    key = answer_key(parsed)  # as the guide reads it: an answer below its confidence floor is not given
    ranking = tuple((r["name"], float(r["confidence"])) for r in parsed.get("intent_ranking", []))
    intent = effective_intent(intent, ranking, key, FAQ_TOPICS.get(key or ""))
    if intent != RETRIEVAL:
        return intent
    return FALLBACK if key is None else topic(f"{RETRIEVAL}/{key}")


def kana_rewrite(texts: list[str]) -> list[str]:
    """The hold-out as a senior who types only hiragana would write it."""
    from bot.nlu.kana import kana_analyser, kana_only

    analyser = kana_analyser()
    return [kana_only(text, analyser) for text in texts]


def voice_rewrite(texts: list[str]) -> list[str]:
    """Questions as a speech recogniser would pass them on: no punctuation, one homophone where one fits."""
    rewritten = []
    for text in texts:
        spoken = "".join(char for char in text if char not in PUNCTUATION)
        for word, homophone in HOMOPHONES:
            if word in spoken:
                spoken = spoken.replace(word, homophone, 1)
                break
        rewritten.append(spoken)
    return rewritten


def halves(gold: list[str], predicted: list[str]) -> dict[str, float]:
    """Accuracy on the even-indexed and the odd-indexed examples."""
    result = {}
    for name, start in (("even", 0), ("odd", 1)):
        pairs = list(zip(gold[start::2], predicted[start::2], strict=True))
        result[name] = round(sum(g == p for g, p in pairs) / len(pairs), 4)
    return result


def weight_sweep(parsed: list[dict[str, Any]], gold: list[str]) -> dict[str, float] | None:
    """Accuracy (no fallback) had the blender given DIET each share in WEIGHTS, from the kept rankings."""
    if not all(BLEND_SOURCES in p for p in parsed):
        return None
    sweep = {}
    for weight in WEIGHTS:
        predicted = []
        for p in parsed:
            diet, ngram = p[BLEND_SOURCES]["diet"], p[BLEND_SOURCES]["char_ngram"]
            blended = {
                name: weight * diet.get(name, 0.0) + (1 - weight) * ngram.get(name, 0.0)
                for name in set(diet) | set(ngram)
                if name != FALLBACK
            }
            predicted.append(parsed_label(p, max(blended, key=blended.__getitem__)))
        sweep[str(weight)] = round(sum(g == q for g, q in zip(gold, predicted, strict=True)) / len(gold), 4)
    return sweep


def scores(gold: list[str], predicted: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold intents, out_of_scope recall, fallback share, confusions."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(gold))
    per_intent = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    oos = [p for g, p in zip(gold, predicted, strict=True) if g == "out_of_scope"]
    confusions = Counter(f"{g} -> {p}" for g, p in zip(gold, predicted, strict=True) if g != p)
    return {
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "accuracy_halves": halves(gold, predicted),
        "macro_f1": round(float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 4),
        "errors": sum(1 for g, p in zip(gold, predicted, strict=True) if g != p),
        "out_of_scope_answered": round(oos.count("out_of_scope") / len(oos), 4) if oos else None,
        "fallback_share": round(predicted.count(FALLBACK) / len(predicted), 4),
        "per_intent_f1": {label: round(float(f), 4) for label, f in zip(labels, per_intent, strict=True)},
        "confusions": dict(confusions.most_common(15)),
    }


def rankings_to_intents(rankings: list[list[tuple[str, float]]], threshold: float) -> list[str]:
    """Top intent of each ranking, or the fallback when its confidence is below the threshold."""
    predicted = []
    for ranking in rankings:
        top = [(name, conf) for name, conf in ranking if name != FALLBACK]
        predicted.append(top[0][0] if top and top[0][1] >= threshold else FALLBACK)
    return predicted


def clarification(parsed: list[dict[str, Any]], gold: list[str]) -> dict[str, Any]:
    """How often the guide asks which of two (bot.clarify's rule on a fallback) and how often the right one is there."""
    from bot.clarify import CLARIFY_FLOOR, CLARIFY_MARGIN, which_of_two

    close, gold_in_two = 0, 0
    for p, label in zip(parsed, gold, strict=True):
        ranking = tuple((r["name"], float(r["confidence"])) for r in p.get("intent_ranking", []))
        two = which_of_two(ranking) if p["intent"]["name"] == FALLBACK else None
        if two is not None:
            close += 1
            gold_in_two += f"/{label}" in (two[0].payload.split("{")[0], two[1].payload.split("{")[0])
    return {
        "margin": CLARIFY_MARGIN,
        "floor": CLARIFY_FLOOR,
        "share_asked": round(close / len(gold), 4),
        "right_intent_among_the_two": round(gold_in_two / close, 4) if close else None,
    }


async def evaluate_rasa(model: Path, sets: dict[str, tuple[list[str], list[str]]]) -> dict[str, Any]:
    """Parse every set with the trained model; scores as deployed, a threshold sweep, latency."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    result: dict[str, Any] = {}
    for set_name, (texts, gold) in sets.items():
        parsed = [await agent.parse_message(text) for text in texts]
        predicted = [parsed_label(p, p["intent"]["name"]) for p in parsed]
        rankings = [
            [
                (FALLBACK if r["name"] == FALLBACK else parsed_label(p, r["name"]), float(r["confidence"]))
                for r in p.get("intent_ranking", [])
            ]
            for p in parsed
        ]
        result[set_name] = scores(gold, predicted)
        result[set_name]["faq_answered_share"] = round(
            sum(p["intent"]["name"] == RETRIEVAL for p in parsed) / len(parsed), 4
        )
        result[set_name]["threshold_sweep"] = {
            str(t): scores(gold, rankings_to_intents(rankings, t))["accuracy"] for t in THRESHOLDS
        }
        result[set_name]["clarification"] = clarification(parsed, gold)
        result[set_name]["weight_sweep"] = weight_sweep(parsed, gold)
        if set_name.startswith("real"):
            result[set_name]["predictions"] = [
                {"text": t, "gold": g, "predicted": p} for t, g, p in zip(texts, gold, predicted, strict=True) if g != p
            ]
    texts = sets["holdout"][0]
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


def evaluate_baseline(sets: dict[str, tuple[list[str], list[str]]]) -> dict[str, Any]:
    """Character TF-IDF + logistic regression trained on the same data/nlu, scored on the same sets."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train_texts, train_labels = load_set(TRAINING)
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=3000),
    )
    model.fit(train_texts, train_labels)
    result: dict[str, Any] = {"trained_on": len(train_texts)}
    for set_name, (texts, gold) in sets.items():
        result[set_name] = scores(gold, list(model.predict(texts)))
    timings = []
    for index in range(LATENCY_CALLS):
        started = time.perf_counter()
        model.predict([sets["holdout"][0][index % len(sets["holdout"][0])]])
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    result["parse_ms"] = {"median": round(statistics.median(timings), 2), "p95": round(timings[949], 2)}
    return result


def pipeline_configs(names: list[str] | None) -> dict[str, Path]:
    """The configs to run: the two shipped ones, or those named (shipped or in bench/experiments/)."""
    if not names:
        return dict(PIPELINES)
    chosen = {}
    for name in names:
        config = PIPELINES.get(name) or EXPERIMENTS / f"{name}.yml"
        if not config.exists():
            raise SystemExit(f"unknown pipeline {name!r}: add bench/experiments/{name}.yml or use {list(PIPELINES)}")
        chosen[name] = config
    return chosen


def print_summary(report: dict[str, Any]) -> None:
    header = f"{'pipeline':<22}" + "".join(f"{s + ' acc':>13}{'F1':>7}" for s in report["sets"])
    print(header + f"{'oos':>7}{'median':>9}{'p95':>8}")
    rows = {**report["pipelines"], "tfidf_logreg": report["baseline"]}
    for name, result in rows.items():
        cells = "".join(f"{result[s]['accuracy']:>13.3f}{result[s]['macro_f1']:>7.3f}" for s in report["sets"])
        oos = result["real"]["out_of_scope_answered"]
        print(f"{name:<22}{cells}{oos:>7.2f}{result['parse_ms']['median']:>9.1f}{result['parse_ms']['p95']:>8.1f}")


def markdown(report: dict[str, Any]) -> str:
    """The README tables for a saved report: scores per set, then what the real questions still confuse."""
    sets = list(report["sets"])
    head = "| pipeline | " + " | ".join(f"{s} acc / macro-F1" for s in sets)
    lines = [head + " | out_of_scope answered (real) | parse median / p95 |", "|---" * (len(sets) + 3) + "|"]
    rows = {**report["pipelines"], "char TF-IDF + logistic regression": report["baseline"]}
    for name, result in rows.items():
        cells = " | ".join(f"{result[s]['accuracy']:.3f} / {result[s]['macro_f1']:.3f}" for s in sets)
        oos = result["real"]["out_of_scope_answered"]
        ms = result["parse_ms"]
        lines.append(f"| {name} | {cells} | {oos:.2f} | {ms['median']:.1f} / {ms['p95']:.1f} ms |")
    lines.append("")
    lines.append("| pipeline | errors / baseline's errors (" + ", ".join(sets) + ") | asks which of two (real) |")
    lines.append("|---|---|---|")
    for name, result in report["pipelines"].items():
        ratios = ", ".join(
            f"{result[s]['errors']}/{report['baseline'][s]['errors']} = {result['errors_vs_baseline'][s]:.2f}"
            for s in sets
        )
        lines.append(f"| {name} | {ratios} | {result['real']['clarification']['share_asked']:.3f} |")
    for name, result in report["pipelines"].items():
        lines += ["", f"Real questions {name} still gets wrong (gold → predicted):", ""]
        lines += ["| gold → predicted | count |", "|---|---|"]
        top = list(result["real"]["confusions"].items())[:10]
        lines += [f"| {pair.replace(' -> ', ' → ')} | {n} |" for pair, n in top]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", help="comma-separated names (default: the shipped pipelines)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--work", type=Path, default=WORK, help="where the trained models go")
    parser.add_argument("--markdown", type=Path, help="print the README tables of a saved report, train nothing")
    parser.add_argument("--no-train", action="store_true", help="evaluate the models already in --work")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text(encoding="utf-8"))))
        return
    configs = pipeline_configs(args.pipelines.split(",") if args.pipelines else None)

    holdout_texts, holdout_gold = load_set(HOLDOUT)
    sets = {
        "holdout": (holdout_texts, holdout_gold),
        "kana_only": (kana_rewrite(holdout_texts), holdout_gold),
        "real": load_set(REAL),
    }
    sets["real_voice"] = (voice_rewrite(sets["real"][0]), sets["real"][1])
    report: dict[str, Any] = {
        "sets": {name: len(texts) for name, (texts, _) in sets.items()},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "kana_examples_sample": sets["kana_only"][0][:3],
        "voice_examples_sample": sets["real_voice"][0][:3],
        "voice_questions_with_a_homophone": sum(
            any(word in text for word, _ in HOMOPHONES) for text in sets["real"][0]
        ),
        "baseline": evaluate_baseline(sets),
        "pipelines": {},
    }
    for name, config in configs.items():
        started = time.perf_counter()
        model = args.work / name / f"{name}.tar.gz" if args.no_train else train(name, config, args.work)
        report["pipelines"][name] = {"config": str(config.relative_to(ROOT)), **asyncio.run(evaluate_rasa(model, sets))}
        report["pipelines"][name]["train_and_eval_s"] = round(time.perf_counter() - started, 1)
        base = report["baseline"]
        report["pipelines"][name]["errors_vs_baseline"] = {
            s: round(report["pipelines"][name][s]["errors"] / max(base[s]["errors"], 1), 3) for s in sets
        }
    report["peak_memory_mb_bench_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print_summary(report)
    print(f"saved {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
