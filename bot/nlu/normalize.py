"""Text normalisation for Japanese input that keeps track of where each character came from."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_LONG_VOWELS = frozenset("ーｰ〜～")
_VOICED_MARKS = frozenset("\u3099\u309a")
_HIRAGANA_START, _HIRAGANA_END = ord("ぁ"), ord("ゖ")
_KATAKANA_OFFSET = ord("ァ") - ord("ぁ")


@dataclass(frozen=True)
class NormalizedText:
    """Normalised text plus, for each of its characters, the index of the source character."""

    text: str
    origins: tuple[int, ...]

    def source_span(self, start: int, end: int, source_length: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text back to the source text."""
        if start >= len(self.origins):
            return source_length, source_length
        source_start = self.origins[start]
        source_end = self.origins[end] if end < len(self.origins) else source_length
        return source_start, max(source_end, source_start + 1)


def normalize(text: str) -> NormalizedText:
    """NFKC per character, trimmed, with runs of long-vowel marks folded into one.

    Normalising one character at a time keeps a map back to the source offsets, which
    Rasa needs for entity spans; half-width voiced marks are recomposed afterwards.
    """
    chars: list[str] = []
    origins: list[int] = []
    for index, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            # A lone surrogate (a broken emoji from some keyboards) cannot be encoded for Sudachi,
            # which failed the whole turn and left the resident without an answer.
            char = "\ufffd"
        for piece in unicodedata.normalize("NFKC", char):
            if piece in _VOICED_MARKS and chars:
                chars[-1] = unicodedata.normalize("NFC", chars[-1] + piece)
                continue
            if piece in _LONG_VOWELS:
                piece = "ー"
                if chars and chars[-1] == "ー":
                    continue
            chars.append(piece)
            origins.append(index)
    start = 0
    end = len(chars)
    while start < end and chars[start].isspace():
        start += 1
    while end > start and chars[end - 1].isspace():
        end -= 1
    return NormalizedText("".join(chars[start:end]), tuple(origins[start:end]))


def to_hiragana(text: str) -> str:
    """Turn katakana into hiragana, as a resident typing only hiragana would write it."""
    return "".join(
        chr(ord(c) - _KATAKANA_OFFSET)
        if _HIRAGANA_START + _KATAKANA_OFFSET <= ord(c) <= _HIRAGANA_END + _KATAKANA_OFFSET
        else c
        for c in text
    )


def to_katakana(text: str) -> str:
    """Turn hiragana into katakana so that kana-only and kanji input share readings."""
    return "".join(chr(ord(c) + _KATAKANA_OFFSET) if _HIRAGANA_START <= ord(c) <= _HIRAGANA_END else c for c in text)
