"""Removes My Number (個人番号) digits and card PINs from what residents type, before anyone keeps it.

Imported by the hub and, later, by the engine on Python 3.10: keep this module free of 3.11-only syntax
and of third-party imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = "［番号を消しました］"

# How far (in characters, within one sentence) a number may sit from a PIN word and still be taken as a PIN.
PIN_WORD_REACH = 20

_DIGIT = "[0-9０-９]"
_ALNUM = "[0-9０-９A-Za-zＡ-Ｚａ-ｚ]"
# Hyphen look-alikes residents type between digit groups, including the long-vowel mark an IME gives for "-".
_HYPHEN = "[-－‐‑‒–—―−ーｰ]"
_SPACE = "[ \t\u3000]"
_GROUP_SEPARATOR = f"(?:{_SPACE}*{_HYPHEN}{_SPACE}*|{_SPACE}+)"

# Digit groups joined by spaces or hyphens: "123456789012", "1234 5678 9012", "0120-95-0178".
_DIGIT_RUN = re.compile(f"{_DIGIT}+(?:{_GROUP_SEPARATOR}{_DIGIT}+)*")
_DIGIT_GROUP = re.compile(f"{_DIGIT}+")
_MY_NUMBER_DIGITS = 12

_PIN_WORD = re.compile(
    "暗証番号|暗唱番号|あんしょうばんごう|アンショウバンゴウ|パスワード|ﾊﾟｽﾜｰﾄﾞ"
    "|(?<![A-Za-zＡ-Ｚａ-ｚ])(?:PIN|ＰＩＮ|password|ｐａｓｓｗｏｒｄ)(?![A-Za-zＡ-Ｚａ-ｚ])"
    # ピン alone, not inside ピンク, ピント, ヘアピン or ショッピング.
    "|(?<![ァ-ヺー])ピン(?:コード|番号)?(?![ァ-ヺー])",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile("[。！？!?\n]")
# A maximal run of letters and digits that could be a PIN: four digits, or a 6–16 character password.
_PIN_CANDIDATE = re.compile(
    f"(?<!{_ALNUM})(?<!{_DIGIT}{_HYPHEN}){_ALNUM}+(?!{_ALNUM})"
    # Four digits followed by a counter are a year, an amount or a count, not a PIN: 2025年, 1980円.
    "(?!"
    f"{_SPACE}*(?:年|月|日|回|桁|時|分|秒|円|歳|才|人|枚|個|件|度|週|階|号|番|頁|ページ|文字|か月|ヶ月|カ月|%|％)"
    f"|{_HYPHEN}{_DIGIT}"
    ")"
)


@dataclass(frozen=True)
class Redaction:
    """Text with personal numbers replaced by the marker, and whether anything was replaced."""

    text: str
    found: bool


def redact_personal_numbers(text: str) -> Redaction:
    """Replace 12-digit My Numbers, and PINs or passwords typed near a PIN word, with the marker."""
    without_numbers = _DIGIT_RUN.sub(_redact_my_number, text)
    without_pins = _redact_pins(without_numbers)
    return Redaction(without_pins, without_pins != text)


def _redact_my_number(run: re.Match[str]) -> str:
    """Redact one run of digit groups if it is, or contains, a 12-digit My Number."""
    groups = list(_DIGIT_GROUP.finditer(run.group()))
    if sum(len(g.group()) for g in groups) == _MY_NUMBER_DIGITS:
        return MARKER
    # Longer runs ("123456789012 2枚", "1234 5678 9012 3") keep their other numbers: redact only a
    # 12-digit group, or three or more 4-digit groups in a row (a card number is not left half-hidden).
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(groups):
        if len(groups[index].group()) == _MY_NUMBER_DIGITS:
            spans.append(groups[index].span())
            index += 1
            continue
        end = index
        while end < len(groups) and len(groups[end].group()) == 4:
            end += 1
        if end - index >= 3:
            spans.append((groups[index].start(), groups[end - 1].end()))
        index = max(end, index + 1)
    return _replace_spans(run.group(), spans)


def _redact_pins(text: str) -> str:
    """Redact four-digit numbers and 6–16 character passwords that sit near a PIN word."""
    pin_words = [match.span() for match in _PIN_WORD.finditer(text)]
    if not pin_words:
        return text
    sentence_ends = [match.start() for match in _SENTENCE_END.finditer(text)]
    spans = [
        candidate.span()
        for candidate in _PIN_CANDIDATE.finditer(text)
        if _looks_like_pin(candidate.group())
        and any(_near(candidate.span(), word, sentence_ends) for word in pin_words)
    ]
    return _replace_spans(text, spans)


def _looks_like_pin(token: str) -> bool:
    """Four digits (a card PIN) or 6–16 letters and digits with at least one digit (the signing password)."""
    digits = sum(1 for char in token if char in "0123456789０１２３４５６７８９")
    if len(token) == 4:
        return digits == 4
    return 6 <= len(token) <= 16 and digits > 0


def _near(candidate: tuple[int, int], word: tuple[int, int], sentence_ends: list[int]) -> bool:
    """Whether a candidate lies within reach of a PIN word, with no sentence end between them."""
    start = min(candidate[1], word[1])
    end = max(candidate[0], word[0])
    if end - start > PIN_WORD_REACH:
        return False
    return not any(start <= position < end for position in sentence_ends)


def _replace_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace non-overlapping, ordered spans of text with the marker."""
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        pieces.append(MARKER)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
