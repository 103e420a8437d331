"""Every resident-facing text meets the plain-Japanese limits, and the checker catches breaches."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.faq import load_faq
from bot.glossary import load_glossary
from bot.plain_japanese import check_message
from bot.procedures import all_texts, load_catalog

ROOT = Path(__file__).resolve().parent.parent


def domain_responses() -> list[tuple[str, str]]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [
        (name, variant["text"])
        for name, variants in domain["responses"].items()
        for variant in variants
        if "text" in variant
    ]


def procedure_texts() -> list[tuple[str, str]]:
    return [
        (f"{procedure.id}.yml: {where}", text)
        for procedure in load_catalog().values()
        for where, text in all_texts(procedure)
    ]


@pytest.mark.parametrize(("where", "text"), domain_responses())
def test_domain_responses_are_plain(where: str, text: str) -> None:
    assert check_message(text) == [], where


def test_every_procedure_text_is_plain() -> None:
    breaches = [f"{where}: {breach}" for where, text in procedure_texts() for breach in check_message(text)]
    assert breaches == []


def test_every_faq_answer_is_plain() -> None:
    breaches = [f"utter_faq/{key}: {b}" for key, answer in load_faq().items() for b in check_message(answer.text)]
    assert breaches == []


def test_glossary_explanations_are_plain() -> None:
    for term, explanation in load_glossary().items():
        assert check_message(explanation) == [], term


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "これは、とても長い文で、たくさんの文字を使ってしまうので、高齢の方やスマホに慣れていない方には、とても読みにくい文になってしまっています。",
            "longer than 50",
        ),
        ("カードを出します。画面を見ます。ボタンを押します。番号を入れます。", "more than 3 sentences"),
        ("カードを出せ。", "politely"),
        ("窓口に行かなければなりません。", "double negative"),
        ("暗証番号は四桁です。", "kanji"),
    ],
)
def test_checker_catches_each_breach(text: str, rule: str) -> None:
    assert any(rule in breach.rule for breach in check_message(text))


@pytest.mark.parametrize(
    "text",
    [
        "マイナンバーカードを用意してください。",
        "手順 3/7\n「ログイン」ボタンを押してください。",
        "用意するものです。\n・マイナンバーカード\n・数字4桁の暗証番号\n・スマートフォン\n・メールアドレス",
        "もう一度やってみてください。",
    ],
)
def test_checker_accepts_plain_messages(text: str) -> None:
    assert check_message(text) == []
