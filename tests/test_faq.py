"""The FAQ file's shape (bot.faq): every question has one sourced answer, and it offers a procedure that exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.faq import FaqError, answer_key, effective_intent, load_faq

GOOD = """
version: "3.1"
nlu:
- intent: faq/card_fee
  examples: |
    - カードを作るのにお金はかかりますか
- intent: faq/four_pins
  examples: |
    - 暗証番号はいくつあるの
responses:
  utter_faq/card_fee:
  - text: はじめて作るときは、お金はかかりません。
    metadata:
      procedure: card_apply
      sources: ["https://www.kojinbango-card.go.jp/"]
  utter_faq/four_pins:
  - text: 暗証番号は4つあります。
    metadata:
      ask_staff: true
      sources: ["https://www.kojinbango-card.go.jp/"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faq.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_answers_are_read_with_their_metadata(tmp_path: Path) -> None:
    answers = load_faq(write(tmp_path, GOOD), procedures={"card_apply"})
    assert set(answers) == {"card_fee", "four_pins"}
    assert answers["card_fee"].procedure == "card_apply" and not answers["card_fee"].ask_staff
    assert answers["four_pins"].procedure is None and answers["four_pins"].ask_staff
    assert answers["four_pins"].sources == ("https://www.kojinbango-card.go.jp/",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("procedure: card_apply", "procedure: no_such_procedure"), "do not exist"),
        (('sources: ["https://www.kojinbango-card.go.jp/"]', "sources: []"), "sources"),
        (("- intent: faq/four_pins", "- intent: faq/four_pins_renamed"), "without an answer"),
        (("ask_staff: true", "ask_staff: sometimes"), "true or false"),
        (("utter_faq/card_fee:", "utter_card_fee:"), "is not named"),
        (("http", "ftp"), "sources"),
    ],
)
def test_a_broken_file_is_refused_with_what_to_fix(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(FaqError, match=message):
        load_faq(write(tmp_path, GOOD.replace(*change, 1)), procedures={"card_apply"})


def test_the_answer_key_comes_from_the_response_selector() -> None:
    parse = {"response_selector": {"faq": {"response": {"intent_response_key": "faq/card_fee", "confidence": 0.9}}}}
    assert answer_key(parse) == "card_fee"
    parse["response_selector"]["faq"]["response"]["confidence"] = 0.2
    assert answer_key(parse) is None, "an answer the selector is guessing is not given"
    assert answer_key({}) is None
    assert answer_key({"response_selector": {"faq": {"response": {"intent_response_key": None}}}}) is None


def test_the_shipped_answers_are_many_sourced_and_lead_to_real_procedures() -> None:
    from bot.procedures import load_catalog

    catalog = load_catalog()
    answers = load_faq(procedures=catalog)
    assert len(answers) >= 40
    assert sum(answer.procedure is not None for answer in answers.values()) >= 40, "most answers offer a procedure"
    for answer in answers.values():
        assert "http" not in answer.text, f"{answer.key}: links go in the sources; the kiosk reads answers aloud"


@pytest.mark.parametrize(
    ("intent", "ranking", "key", "topic", "acted_on"),
    [
        ("faq", (("faq", 0.9),), "card_fee", "card_apply", "faq"),
        ("faq", (("faq", 0.9),), None, None, "nlu_fallback"),  # no answer sure enough, and nothing else
        # No answer fits: the best other intent, as the model reads the message without the questions.
        ("faq", (("faq", 0.82), ("out_of_scope", 0.17), ("nursing_care", 0.01)), None, None, "out_of_scope"),
        (
            "faq",
            (("faq", 0.4), ("out_of_scope", 0.1), ("moving", 0.1), ("greet", 0.1), ("pin_forgot", 0.3)),
            None,
            None,
            "pin_forgot",
        ),
        ("faq", (("faq", 0.4), *((f"intent_{n}", 0.06) for n in range(10))), None, None, "nlu_fallback"),
        # A fallback between a question and its own procedure: the answer, which offers that procedure.
        (
            "nlu_fallback",
            (("nlu_fallback", 0.2), ("health_insurance", 0.43), ("faq", 0.39)),
            "x",
            "health_insurance",
            "faq",
        ),
        # ... but not between a question and another topic, nor without an answer.
        (
            "nlu_fallback",
            (("nlu_fallback", 0.2), ("bank_account", 0.43), ("faq", 0.39)),
            "x",
            "health_insurance",
            "nlu_fallback",
        ),
        (
            "nlu_fallback",
            (("nlu_fallback", 0.2), ("health_insurance", 0.43), ("faq", 0.39)),
            None,
            None,
            "nlu_fallback",
        ),
        ("card_renew", (("card_renew", 0.6), ("faq", 0.3)), "renewal_fee", "card_renew", "card_renew"),
    ],
)
def test_the_intent_acted_on(
    intent: str, ranking: tuple[tuple[str, float], ...], key: str | None, topic: str | None, acted_on: str
) -> None:
    assert effective_intent(intent, ranking, key, topic) == acted_on


def test_the_fallback_threshold_is_the_one_in_config() -> None:
    import yaml

    from bot.faq import FALLBACK_THRESHOLD, ROOT

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    fallback = next(component for component in pipeline if component["name"] == "FallbackClassifier")
    assert fallback["threshold"] == FALLBACK_THRESHOLD


def test_a_missing_file_is_an_error_not_an_empty_faq(tmp_path: Path) -> None:
    with pytest.raises(FaqError, match="cannot be read"):
        load_faq(tmp_path / "faq.yml")
