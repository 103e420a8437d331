"""Short answers to the questions residents ask most (data/nlu/faq.yml), each with the procedure it leads to.

Rasa trains the retrieval intent ``faq`` and its ResponseSelector from the same file: the examples under
``faq/<key>`` and the answers under ``utter_faq/<key>``. The guide reads the answers from here, with their
metadata: ``procedure`` (offered after the answer), ``ask_staff`` (the facts sheet is unsure, so the city's desk
is given too) and ``sources`` (the public pages the answer rests on; staff check them, residents never see them).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
FAQ_FILE = ROOT / "data" / "nlu" / "faq.yml"
RETRIEVAL_INTENT = "faq"
RESPONSE_PREFIX = f"utter_{RETRIEVAL_INTENT}/"
FALLBACK = "nlu_fallback"
# Below this the ResponseSelector is guessing between its 55 answers (「かーどのこと」 got one at 0.11): a wrong
# fact is worse than asking again, so such a question is treated as not understood. Right answers to questions
# worded unlike any example come at 0.25 to 0.5.
MIN_ANSWER_CONFIDENCE = 0.3
# The FallbackClassifier's threshold in config.yml (tests/test_faq.py keeps them equal).
FALLBACK_THRESHOLD = 0.2


class FaqError(ValueError):
    """The FAQ file is malformed or does not match the procedures."""


@dataclass(frozen=True)
class FaqAnswer:
    """One answer: its key (``faq/<key>`` without the prefix), its text and what follows it."""

    key: str
    text: str
    procedure: str | None
    ask_staff: bool
    sources: tuple[str, ...]


def _answer(key: str, variants: Any, where: str) -> FaqAnswer:
    if not isinstance(variants, list) or len(variants) != 1 or not isinstance(variants[0], dict):
        raise FaqError(f"{where}: '{RESPONSE_PREFIX}{key}' needs exactly one answer.")
    variant = variants[0]
    text = variant.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FaqError(f"{where}: '{RESPONSE_PREFIX}{key}' needs a text.")
    metadata = variant.get("metadata")
    if not isinstance(metadata, dict):
        raise FaqError(f"{where}: '{RESPONSE_PREFIX}{key}' needs metadata with its sources.")
    sources = metadata.get("sources")
    if (
        not isinstance(sources, list)
        or not sources
        or not all(isinstance(url, str) and url.startswith(("https://", "http://")) for url in sources)
    ):
        raise FaqError(f"{where}: '{RESPONSE_PREFIX}{key}' needs 'sources': the web pages the answer rests on.")
    procedure = metadata.get("procedure")
    if procedure is not None and not isinstance(procedure, str):
        raise FaqError(f"{where}: '{RESPONSE_PREFIX}{key}': 'procedure' must be a procedure id.")
    ask_staff = metadata.get("ask_staff", False)
    if not isinstance(ask_staff, bool):
        raise FaqError(f"{where}: '{RESPONSE_PREFIX}{key}': 'ask_staff' must be true or false.")
    return FaqAnswer(key, text.strip(), procedure, ask_staff, tuple(sources))


def load_faq(path: Path = FAQ_FILE, procedures: Collection[str] | None = None) -> dict[str, FaqAnswer]:
    """Key → answer; every ``faq/<key>`` has examples and one answer, and each offered procedure exists."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FaqError(f"{path}: cannot be read ({error}).") from error
    if not isinstance(data, dict):
        raise FaqError(f"{path}: expected 'nlu:' and 'responses:'.")
    asked = {
        block["intent"].removeprefix(f"{RETRIEVAL_INTENT}/")
        for block in data.get("nlu") or []
        if isinstance(block, dict) and str(block.get("intent", "")).startswith(f"{RETRIEVAL_INTENT}/")
    }
    responses = data.get("responses") or {}
    if not isinstance(responses, dict):
        raise FaqError(f"{path}: 'responses:' must map each '{RESPONSE_PREFIX}<key>' to its answer.")
    answers: dict[str, FaqAnswer] = {}
    for name, variants in responses.items():
        if not str(name).startswith(RESPONSE_PREFIX):
            raise FaqError(f"{path}: response '{name}' is not named '{RESPONSE_PREFIX}<key>'.")
        key = str(name).removeprefix(RESPONSE_PREFIX)
        answers[key] = _answer(key, variants, str(path))
    if asked != set(answers):
        missing = sorted(asked - set(answers))
        unasked = sorted(set(answers) - asked)
        raise FaqError(f"{path}: keys without an answer {missing}; answers without examples {unasked}.")
    if procedures is not None:
        unknown = sorted(f"{a.key} → {a.procedure}" for a in answers.values() if a.procedure not in (None, *procedures))
        if unknown:
            raise FaqError(f"{path}: these answers offer procedures that do not exist: {unknown}.")
    return answers


def answer_key(parse: dict[str, Any]) -> str | None:
    """The answer Rasa's ResponseSelector chose for a message's parse data (``faq/<key>`` → ``<key>``).

    None when it chose none, or with less than MIN_ANSWER_CONFIDENCE.
    """
    selector = parse.get("response_selector") or {}
    chosen = (selector.get(RETRIEVAL_INTENT) or {}).get("response") or {}
    key = chosen.get("intent_response_key")
    if not isinstance(key, str) or not key.startswith(f"{RETRIEVAL_INTENT}/"):
        return None
    if float(chosen.get("confidence") or 0.0) < MIN_ANSWER_CONFIDENCE:
        return None
    return key.removeprefix(f"{RETRIEVAL_INTENT}/")


def effective_intent(intent: str, ranking: tuple[tuple[str, float], ...], key: str | None, topic: str | None) -> str:
    """The intent the guide acts on, from Rasa's intent, its ranking and the answer chosen (with its topic).

    - ``faq`` without an answer sure enough is a question none of the answers fits: the model learnt ``faq`` from
      question-shaped examples, so 「年末年始はごみの収集はあるのですか」 comes as ``faq`` (0.82) with no good answer.
      It is read as the model reads it without ``faq``: the best other intent, its confidence taken among the other
      intents, and ``nlu_fallback`` below the fallback threshold.
    - A fallback between ``faq`` and the answer's own topic (「保険証の登録はどこで確かめられますか」: health_insurance
      0.43, faq 0.39) is no real doubt: the answer ends by offering that very procedure, so it is given.
    ``topic`` is the intent of the procedure the answer offers; ``bench/nlu_bench.py`` scores with this same rule.
    """
    if intent == RETRIEVAL_INTENT:
        return intent if key is not None else _without_questions(ranking)
    if intent != FALLBACK or key is None or topic is None:
        return intent
    best_two = sorted(((confidence, name) for name, confidence in ranking if name != FALLBACK), reverse=True)[:2]
    if {name for _, name in best_two} == {RETRIEVAL_INTENT, topic}:
        return RETRIEVAL_INTENT
    return intent


def _without_questions(ranking: tuple[tuple[str, float], ...]) -> str:
    others = [(confidence, name) for name, confidence in ranking if name not in (RETRIEVAL_INTENT, FALLBACK)]
    left = sum(confidence for confidence, _ in others)
    if not others or left <= 0:
        return FALLBACK
    confidence, name = max(others)
    return name if confidence / left >= FALLBACK_THRESHOLD else FALLBACK
