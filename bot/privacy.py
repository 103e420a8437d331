"""Removes My Number (個人番号) digits and card PINs from what residents type, before anyone keeps it.

Imported by the hub and by the engine on Python 3.10: keep this module free of 3.11-only syntax
and of third-party imports.

Matching runs on a folded copy of the text (NFKC, ASCII lower case) that remembers where each character
came from, so ＰＩＮ, ﾊﾟｽﾜｰﾄﾞ and １２３４ meet their plain spellings while the text kept is what the resident typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MARKER = "［番号を消しました］"

# How far (in characters, within one sentence) a number may sit from a PIN word and still be taken as a PIN.
PIN_WORD_REACH = 20

_MY_NUMBER_DIGITS = 12
# Hyphen look-alikes residents type between digit groups, including the long-vowel mark an IME gives for "-".
_HYPHENS = "\\-‐‑‒–—―−ー"
# What residents put between digit groups. A slash only joins My Number groups: near a PIN word, 12/25 is a date.
_SEPARATOR = f"(?:\\s*[{_HYPHENS}.,、・]\\s*|\\s+)"
_MY_NUMBER_SEPARATOR = f"(?:\\s*[{_HYPHENS}.,、・/]\\s*|\\s+)"
_DIGIT_RUN = re.compile(f"[0-9]+(?:{_MY_NUMBER_SEPARATOR}[0-9]+)*")
# Letters and digits spread over separators: 1 2 3 4, 1-2-3-4, abc12345.
_ALNUM_RUN = re.compile(f"[0-9a-z]+(?:{_SEPARATOR}[0-9a-z]+)*")
_GROUP = re.compile("[0-9a-z]+")

# Numbers the guide quotes and residents type, which must never be taken for a PIN or a My Number.
_NO_DIGIT_BEFORE = f"(?<![0-9])(?<![0-9][{_HYPHENS}])"
_NO_DIGIT_AFTER = f"(?![0-9])(?![{_HYPHENS}][0-9])"
_H = f"(?:\\s*[{_HYPHENS}]\\s*|\\s+)"
_ORDINARY_NUMBER = re.compile(
    _NO_DIGIT_BEFORE
    + "(?:"
    + f"(?P<phone>0[0-9]{{1,4}}{_H}[0-9]{{1,4}}{_H}[0-9]{{3,4}}|0[0-9]{{9,10}})"  # 0120-95-0178, 0570-783-578
    + f"|〒?\\s*[0-9]{{3}}[{_HYPHENS}][0-9]{{4}}"  # postal code: 123-4567
    + "|(?:19|20)[0-9]{2}(?P<sep>[/.-])(?:1[0-2]|0?[1-9])(?:(?P=sep)(?:[12][0-9]|3[01]|0?[1-9]))?"  # date: 2025/4/1
    + ")"
    + _NO_DIGIT_AFTER
)
_PHONE_DIGITS = (10, 11)
# A number followed by a counter is a year, an amount or a count, not a PIN: 2025年, 1,980円, 5回目.
_COUNTER_AFTER = re.compile(
    "\\s*(?:年|月|日|回|桁|けた|時|分|秒|円|万|千|百|歳|才|人|名|枚|個|件|度|週|階|号|番|頁|ページ|文字|もじ"
    "|か月|ヶ月|カ月|%|パーセント|ポイント)"
)
_CURRENCY_BEFORE = re.compile("[¥$]\\s*$")


def _either_kana(pattern: str) -> str:
    """Let each hiragana letter of a pattern match its katakana twin, and ー be typed as - or left out."""
    out = []
    for char in pattern:
        if "ぁ" <= char <= "ゖ":
            out.append(f"[{char}{chr(ord(char) + 0x60)}]")
        elif char == "ー":
            out.append("[ー-]?")
        else:
            out.append(char)
    return "".join(out)


# Words that say a PIN or password is near, in kanji, kana or a mix (暗しょう番号, あんしょうバンゴウ).
_PIN_WORD = re.compile(
    _either_kana(
        "(?:暗|あん)(?:証|唱|しょう)(?:番号|ばんごう)?"
        "|ぱすわーど|ぱすこーど|ぴん(?:こーど|ばんごう|番号)"
        "|(?:署名|しょめい)(?:用|よう)"
        "|(?:利用者|りようしゃ)(?:証明|しょうめい)?(?:用|よう)"
        "|(?:券面|けんめん)(?:事項|じこう)?(?:入力|にゅうりょく)?(?:補助|ほじょ)"
    )
    + "|(?<![a-z])(?:pin|pass ?(?:word|code)|pwd?)(?![a-z])"
    # ピン alone, not inside ピンク, ピント, ヘアピン or ショッピング.
    + "|(?<![ァ-ヺー])ピン(?![ァ-ヺー])"
)
# Line breaks do not end a sentence here: residents put the PIN on the line after 暗証番号は.
_SENTENCE_END = re.compile("[。!?]")


@dataclass(frozen=True)
class Redaction:
    """Text with personal numbers replaced by the marker, and whether anything was replaced."""

    text: str
    found: bool


@dataclass(frozen=True)
class _Folded:
    """Text folded for matching, with the span of the original text each folded character came from."""

    text: str
    starts: list[int]
    ends: list[int]


def mentions_pin(text: str) -> bool:
    """Whether the text speaks of a PIN or password, in any spelling."""
    return _PIN_WORD.search(_fold(text).text) is not None


def redact_personal_numbers(text: str, pin_expected: bool = False) -> Redaction:
    """Replace My Numbers, and PINs or passwords near a PIN word (or opening the message, when one is expected)."""
    folded = _fold(text)
    masked = _mask(folded.text, [m.span() for m in _ORDINARY_NUMBER.finditer(folded.text) if _is_ordinary(m)])
    my_numbers = [span for run in _DIGIT_RUN.finditer(masked) for span in _my_number_spans(run)]
    masked = _mask(masked, my_numbers)
    pins = _pin_spans(masked, pin_expected)
    spans = sorted(my_numbers + pins)
    kept = _replace_spans(text, [(folded.starts[start], folded.ends[end - 1]) for start, end in spans])
    return Redaction(kept, kept != text)


def _fold(text: str) -> _Folded:
    """NFKC-fold and lower-case text one character at a time, remembering where each character came from."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char)
        if folded in ("\u3099", "\u309a") and chars:
            # Half-width ﾊﾟ is two characters: join the sound mark to its letter, as a resident reads it.
            joined = unicodedata.normalize("NFC", chars[-1] + folded)
            if len(joined) == 1:
                chars[-1], ends[-1] = joined, index + 1
                continue
        for piece in folded:
            chars.append(piece.lower() if piece.isascii() else piece)
            starts.append(index)
            ends.append(index + 1)
    return _Folded("".join(chars), starts, ends)


def _is_ordinary(match: re.Match[str]) -> bool:
    """Whether a phone-, postal- or date-shaped number is one: 0123-4567-8901 has a My Number's 12 digits."""
    phone = match.group("phone")
    return phone is None or sum(char.isdigit() for char in phone) in _PHONE_DIGITS


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank out spans with a character that is neither a digit, a letter nor a separator."""
    for start, end in spans:
        text = text[:start] + "#" * (end - start) + text[end:]
    return text


def _my_number_spans(run: re.Match[str]) -> list[tuple[int, int]]:
    """Spans of a run of digit groups that are, or contain, a 12-digit My Number."""
    groups = [(g.start() + run.start(), g.end() + run.start(), len(g.group())) for g in _GROUP.finditer(run.group())]
    if sum(size for _, _, size in groups) == _MY_NUMBER_DIGITS:
        return [run.span()]
    # Longer runs ("123456789012 2枚", "1234 5678 9012 3") keep their other numbers: redact only a
    # 12-digit group, or three or more 4-digit groups in a row (a card number is not left half-hidden).
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(groups):
        if groups[index][2] == _MY_NUMBER_DIGITS:
            spans.append(groups[index][:2])
            index += 1
            continue
        end = index
        while end < len(groups) and groups[end][2] == 4:
            end += 1
        if end - index >= 3:
            spans.append((groups[index][0], groups[end - 1][1]))
        index = max(end, index + 1)
    return spans


def _pin_spans(text: str, pin_expected: bool) -> list[tuple[int, int]]:
    """Spans of PINs and passwords that sit near a PIN word, or at the start when a PIN is expected."""
    words = [m.span() for m in _PIN_WORD.finditer(text)]
    if not words and not pin_expected:
        return []
    # A PIN word is never part of the PIN: ＰＩＮ1234 keeps its word.
    text = _mask(text, words)
    sentence_ends = [m.start() for m in _SENTENCE_END.finditer(text)]
    # The bot just spoke of a PIN: a PIN-shaped number anywhere in the answer is taken as one, however far from
    # the start (「4けたのほう。たしか 1234 やったと思う」).
    return [
        span
        for run in _ALNUM_RUN.finditer(text)
        for span in _pins_in_run(text, run)
        if pin_expected or any(_near(span, word, sentence_ends) for word in words)
    ]


def _pins_in_run(text: str, run: re.Match[str]) -> list[tuple[int, int]]:
    """Spans of a run that look like a PIN: the whole run when its digits were spread, else single groups."""
    groups = [(g.start() + run.start(), g.end() + run.start(), g.group()) for g in _GROUP.finditer(run.group())]
    if _COUNTER_AFTER.match(text, run.end()):
        groups = groups[:-1]  # the last number counts something: 5回, 1,980円
    if _CURRENCY_BEFORE.search(text, 0, run.start()):
        groups = groups[1:]
    if not groups:
        return []
    spread = "".join(group for _, _, group in groups)
    if len(groups) > 1 and spread.isdigit() and _looks_like_pin(spread):
        return [(groups[0][0], groups[-1][1])]
    return [(start, end) for start, end, group in groups if _looks_like_pin(group)]


def _looks_like_pin(token: str) -> bool:
    """4–16 digits (a card PIN, mistyped or not) or 6–16 letters and digits with a digit (the signing password)."""
    if token.isdigit():
        return 4 <= len(token) <= 16
    return 6 <= len(token) <= 16 and any(char.isdigit() for char in token)


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
