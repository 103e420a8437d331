"""Readings (ふりがな) over the kanji of a message, from Sudachi, for residents who read kana more easily.

A message becomes a list of segments `(base, reading)`: joined, the bases give back the text exactly; a
reading in hiragana sits over each run of kanji, and is "" over everything else. The dictionary is loaded
by `Furigana.load()` (the hub calls it at start-up, off the event loop), never when this module is imported.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

Segment = tuple[str, str]

# Kanji, the iteration mark 々 and the counter ヶ take a reading; kana and everything else are read as written.
_KANJI_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
_KANJI = re.compile(f"[{_KANJI_CLASS}]")
_RUNS = re.compile(f"[{_KANJI_CLASS}]+|[^{_KANJI_CLASS}]+")
_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}


def hiragana(text: str) -> str:
    """Katakana turned into hiragana; everything else (ー, kanji, Latin) unchanged."""
    return text.translate(_KATAKANA_TO_HIRAGANA)


def has_kanji(text: str) -> bool:
    """Whether the text holds a character that needs a reading."""
    return _KANJI.search(text) is not None


def align(surface: str, reading: str) -> list[Segment]:
    """Put a token's reading over its kanji runs only, leaving its kana (送り仮名, っ inside 引っ越し) bare.

    The surface is split into runs of kanji and of other characters; the other runs must appear in the
    reading as they are, which fixes where each kanji run's reading starts and ends. When they do not (a
    reading the dictionary spells differently), the whole token carries the whole reading.
    """
    reading = hiragana(reading)
    runs = _RUNS.findall(surface)
    pattern = "".join("(.+?)" if has_kanji(run) else f"({re.escape(hiragana(run))})" for run in runs)
    match = re.fullmatch(pattern, reading)
    if match is None:
        return [(surface, reading)]
    return [(run, read if has_kanji(run) else "") for run, read in zip(runs, match.groups(), strict=True)]


@dataclass(frozen=True)
class Furigana:
    """Readings for Japanese text; make one with `Furigana.load()`."""

    _tokenizer: Any
    _lock: threading.Lock

    @classmethod
    def load(cls) -> Furigana:
        """Load Sudachi's core dictionary (about 0.2 s): call it at start-up, on a worker thread."""
        from sudachipy import Dictionary, SplitMode

        tokenizer = Dictionary(dict="core").create(SplitMode.C)
        return cls(tokenizer, threading.Lock())

    def segments(self, text: str) -> list[Segment]:
        """The text as (base, reading) segments; neighbouring segments without a reading are merged."""
        if not has_kanji(text):
            return [(text, "")] if text else []
        out: list[Segment] = []
        # Sudachi drops nothing but works line by line best; newlines are kept as bare segments.
        for index, line in enumerate(text.split("\n")):
            if index:
                _append(out, ("\n", ""))
            if not line:
                continue
            with self._lock:  # a Sudachi tokenizer is not safe to share between threads
                morphemes = [(m.surface(), m.reading_form()) for m in self._tokenizer.tokenize(line)]
            for surface, reading in morphemes:
                if has_kanji(surface) and reading and hiragana(reading) != hiragana(surface):
                    for segment in align(surface, reading):
                        _append(out, segment)
                else:
                    _append(out, (surface, ""))
        return out


def _append(out: list[Segment], segment: Segment) -> None:
    if out and not segment[1] and not out[-1][1]:
        out[-1] = (out[-1][0] + segment[0], "")
    else:
        out.append(segment)
