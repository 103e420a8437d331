"""The real-question evaluation set stays what it claims to be: sourced, labelled with our intents, never trained on."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REAL_QUESTIONS = ROOT / "tests" / "data" / "real_questions.yml"
HOLDOUT = ROOT / "tests" / "data" / "nlu_holdout.yml"
NLU_DIR = ROOT / "data" / "nlu"
# Two texts sharing this much of their character trigrams (Jaccard) are one text lightly reworded;
# below it, short generic phrasings (「…の申請はできますか」) meet by chance.
TOO_CLOSE = 0.7


def _real_examples() -> list[tuple[str, str, dict]]:
    found = []
    for block in yaml.safe_load(REAL_QUESTIONS.read_text(encoding="utf-8"))["nlu"]:
        for example in block["examples"]:
            found.append((block["intent"], example["text"], example.get("metadata") or {}))
    return found


def _training_texts() -> list[str]:
    texts = []
    for path in sorted(NLU_DIR.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            examples = block.get("examples")
            if isinstance(examples, str):
                texts.extend(line[2:].strip() for line in examples.splitlines() if line.startswith("- "))
    return texts


def _plain(text: str) -> str:
    """Text without annotations, punctuation and spaces, for comparing wording."""
    text = re.sub(r"\[([^\]]*)\]\{[^}]*\}", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = unicodedata.normalize("NFKC", text)
    return "".join(char for char in text if unicodedata.category(char)[0] in "LN")


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)} or {text}


def _domain_intents() -> set[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {next(iter(item)) if isinstance(item, dict) else item for item in domain["intents"]}


def test_at_least_150_questions_with_their_source() -> None:
    examples = _real_examples()
    assert len(examples) >= 150
    missing = [text for _, text, metadata in examples if not str(metadata.get("source", "")).startswith("http")]
    assert not missing, f"questions without a source URL: {missing[:5]}"


def test_other_city_services_are_well_represented() -> None:
    labels = [intent for intent, _, _ in _real_examples()]
    assert labels.count("out_of_scope") >= 30


def test_every_label_is_an_intent_of_the_assistant() -> None:
    unknown = {intent for intent, _, _ in _real_examples()} - _domain_intents()
    assert not unknown, f"labels that are not intents in domain.yml: {unknown}"


def test_no_question_appears_twice() -> None:
    texts = [_plain(text) for _, text, _ in _real_examples()]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize("other", [NLU_DIR, HOLDOUT], ids=["training data", "hold-out"])
def test_no_question_or_close_rewrite_is_in(other: Path) -> None:
    if other == NLU_DIR:
        texts = _training_texts()
    else:
        texts = [
            line.strip()[2:].strip()
            for block in yaml.safe_load(other.read_text(encoding="utf-8"))["nlu"]
            for line in block["examples"].splitlines()
            if line.strip().startswith("- ")
        ]
    written_here = [(text, _trigrams(_plain(text))) for text in texts if len(_plain(text)) >= 4]
    leaks = []
    for _, question, _ in _real_examples():
        grams = _trigrams(_plain(question))
        for text, other_grams in written_here:
            overlap = len(grams & other_grams) / len(grams | other_grams)
            if overlap >= TOO_CLOSE:
                leaks.append((question, text, round(overlap, 2)))
    assert not leaks, f"real questions (or close rewrites) found in {other.name}: {leaks[:5]}"
