"""Kana-only rewriting: Japanese text as a resident who types only hiragana would write it."""

from __future__ import annotations

from typing import Any

from bot.nlu.normalize import normalize, to_hiragana


def _has_kanji(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" or char == "々" for char in text)


def kana_only(text: str, analyser: Any) -> str:
    """Replace every word written with kanji by its reading in hiragana; other words stay."""
    pieces = []
    for morpheme in analyser.tokenize(normalize(text).text):
        surface = morpheme.surface()
        if _has_kanji(surface):
            surface = to_hiragana(morpheme.reading_form())
        pieces.append(surface)
    return "".join(pieces)


def kana_analyser() -> Any:
    """A Sudachi analyser in long-unit mode, as a kana keyboard user would think in words."""
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C)
