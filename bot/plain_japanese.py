"""Checks resident-facing text against the project's plain-Japanese (やさしい日本語) limits.

The limits: at most three sentences and one instruction per message, at most 50
characters per sentence, polite です・ます endings, no double negatives, and numbers
written in digits; per turn, at most 4 messages and 350 characters.
Run ``python -m bot.plain_japanese FILE...`` to check YAML files by hand.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_SENTENCES = 3
MAX_SENTENCE_CHARS = 50
# One turn of the assistant: LINE takes at most 5 messages a reply, and a senior reads one thing at a time.
MAX_MESSAGES_PER_TURN = 4
MAX_TURN_CHARS = 350
MAX_INSTRUCTIONS = 1
LIST_MARK = "・"

_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n")
# A sentence that closes with 。, ？ or ！ must close politely.
_POLITE_ENDING = re.compile(
    r"(です|ます|ました|ません|ませんでした|でした|ましょう|ください|でしょう|ございます)"
    r"(か|ね|よ)?[」』）)]*$"
)
# Greetings and set phrases that are polite without a です・ます ending.
_SET_PHRASES = re.compile(r"(こんにちは|こんばんは|どういたしまして|どうぞ|すみません|お大事に)$")
_DOUBLE_NEGATIVE = re.compile(
    r"ないと(いけ|なら|なり|だめ|ダメ)|なければ(なら|なり|いけ)|なくては(なら|なり|いけ)|ないわけでは|"
    r"なくはな|ないことはな|ないこともな|ざるを得"
)
# An instruction to the resident: a sentence that asks them to do something (…てください).
# 「…ないでください」 is a caution, not a thing to do, so it is not counted.
_INSTRUCTION = re.compile(r"(?<!な[いく])(て|で)ください$")
_KANJI_COUNT = re.compile(r"(?<![もう])[一二三四五六七八九十百千]+(つ|回|桁|個|日|か月|ヶ月|年|時間|分|人|枚|番目|歳)")
_KANJI_COUNT_ALLOWED = ("十分", "一人ひとり", "一つずつ")


@dataclass(frozen=True)
class Breach:
    """One place where a text breaks a plain-language limit."""

    text: str
    rule: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.text!r}"


def sentences(text: str) -> list[str]:
    """Split a message into sentences; empty pieces and bare line breaks are dropped."""
    pieces = _SENTENCE_END.split(text)
    return [p.strip() for p in pieces if p and p.strip()]


def check_message(text: str) -> list[Breach]:
    """Return every breach of the plain-language limits in one resident-facing message."""
    breaches: list[Breach] = []
    found = sentences(text)
    # List items (・…) are not sentences, but each must stay short.
    prose = [sentence for sentence in found if not sentence.startswith(LIST_MARK)]
    if len(prose) > MAX_SENTENCES:
        breaches.append(Breach(text, f"more than {MAX_SENTENCES} sentences ({len(prose)})"))
    for sentence in found:
        body = sentence.rstrip("。！？!?")
        if len(body) > MAX_SENTENCE_CHARS:
            breaches.append(Breach(sentence, f"sentence longer than {MAX_SENTENCE_CHARS} characters ({len(body)})"))
        if sentence[-1] in "。！？!?" and not (_POLITE_ENDING.search(body) or _SET_PHRASES.search(body)):
            breaches.append(Breach(sentence, "sentence does not end politely (です・ます)"))
    instructions = [s for s in prose if _INSTRUCTION.search(s.rstrip("。！？!?")) and not _only_points_at_a_button(s)]
    if len(instructions) > MAX_INSTRUCTIONS:
        breaches.append(Breach(text, f"more than {MAX_INSTRUCTIONS} instruction in one message ({len(instructions)})"))
    if _DOUBLE_NEGATIVE.search(text):
        breaches.append(Breach(text, "double negative"))
    stripped = text
    for allowed in _KANJI_COUNT_ALLOWED:
        stripped = stripped.replace(allowed, "")
    if _KANJI_COUNT.search(stripped):
        breaches.append(Breach(text, "number written in kanji; use digits"))
    return breaches


def _only_points_at_a_button(sentence: str) -> bool:
    """「…ときは『人と話したい』を押してください」 names a way out for when the step fails, not a second step."""
    return bool(re.search(r"(ときは|場合は|なら|たら)、", sentence))


def check_turn(texts: list[str]) -> list[Breach]:
    """Breaches of the per-turn limits (count and length), and of the limits in each message."""
    breaches: list[Breach] = []
    if not texts or not any(text.strip() for text in texts):
        breaches.append(Breach("", "empty turn"))
    if len(texts) > MAX_MESSAGES_PER_TURN:
        breaches.append(Breach(" / ".join(texts), f"more than {MAX_MESSAGES_PER_TURN} messages ({len(texts)})"))
    total = sum(len(text) for text in texts)
    if total > MAX_TURN_CHARS:
        breaches.append(Breach(" / ".join(texts), f"more than {MAX_TURN_CHARS} characters in one turn ({total})"))
    for text in texts:
        if not text.strip():
            breaches.append(Breach(text, "empty message"))
        breaches.extend(check_message(text))
    return breaches


def resident_texts(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Collect (path, text) for every string inside nested YAML data, skipping URLs and ids."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in NON_RESIDENT_KEYS:
                continue
            found.extend(resident_texts(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(resident_texts(item, f"{path}[{index}]"))
    elif isinstance(value, str):
        found.append((path, value))
    return found


# Keys whose values are identifiers, links or staff notes rather than words shown to residents.
NON_RESIDENT_KEYS = frozenset(
    {
        "id",
        "intent",
        "sources",
        "url",
        "checked",
        "payload",
        "staff_notes",
        "city_key",
        "device",
        "condition",
        "words",
        "then",
    }
)


def main(argv: list[str]) -> int:
    """Check YAML files given on the command line and print every breach."""
    import yaml

    failures = 0
    for name in argv:
        data = yaml.safe_load(Path(name).read_text(encoding="utf-8"))
        for where, text in resident_texts(data):
            for breach in check_message(text):
                failures += 1
                print(f"{name}: {where}: {breach}")
    print(f"{failures} breaches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
