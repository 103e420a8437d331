"""The hiragana-only training variants are rewritten correctly and kept up to date."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.nlu.kana import kana_analyser, kana_only

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from make_kana_variants import OUTPUT, render  # noqa: E402


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("暗証番号を忘れました", "あんしょうばんごうをわすれました"),
        ("マイナポータルにログインしたい", "マイナポータルにログインしたい"),
        ("引っ越しの手続き", "ひっこしのてつづき"),
    ],
)
def test_kanji_words_become_hiragana(text: str, expected: str) -> None:
    assert kana_only(text, kana_analyser()) == expected


def test_generated_variants_are_up_to_date() -> None:
    assert OUTPUT.read_text(encoding="utf-8") == render(), (
        "data/nlu/ changed: run .venv/engine/bin/python scripts/make_kana_variants.py"
    )
