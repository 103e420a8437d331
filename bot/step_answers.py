"""Reads a resident's own words as an answer to the step on screen, before anything else.

「ひっこしはしてないです」 at a step that asks about moving is an answer, not a new topic;
「いえのなかで なくしたかも」 picks a branch; 「電話がつながらない」 names a known problem; and
「2ファクタ認証って何？」 asks about a word of the step. The NLU model reads the message first, but
only the step knows what its answers look like, so the guide asks here before it trusts a topic.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.procedures import Problem, ProcedureStep, StepChoice

# Messages that mean "stop the guide" as a whole, compared after normalising.
STOP_PHRASES = frozenset(
    {
        "やめる",
        "やめます",
        "やめたい",
        "やめとく",
        "やめときます",
        "中止",
        "中止します",
        "おしまい",
        "もういい",
        "もういいです",
    }
)
# A question about a word: 「〇〇って何」, 「〇〇とは」, 「〇〇ってなんですか」.
_TERM_QUESTION = re.compile(
    r"(って|とは)(何|なに|なん|どういう|どんな)|とは[?？]?$|って[?？]$|(何|なに|なん)(ですか|や|だ)?[?？]?$"
)
# A topic named only to say it does not apply: 「ひっこしはしてないです」, 「引っ越しはしません」.
_NEGATED = re.compile(r"してない|していない|してません|しとらん|してへん|しない|しません|いらない|いりません")
# A resident giving up because it is too hard: a person should take over (「難しすぎる」, 「もう無理」).
_TOO_HARD = re.compile(
    r"(難し|むずかし|むつかし|ややこし|複雑)すぎ|もう(無理|むり|ムリ)|お手上げ|ついていけ|さっぱりわから"
)
_DONT_KNOW = re.compile(r"わから|分から|わかりません|知らない|しらない|わかんない|わからん")
_SPACES = re.compile(r"[\s\u3000、。,.!！?？・]+")


@dataclass(frozen=True)
class StepAnswer:
    """What the resident's words say about the step: a choice, a known problem, or a word they ask about."""

    choice: StepChoice | None = None
    problem: Problem | None = None
    term: str | None = None


def normalized(text: str) -> str:
    """NFKC, lower case, without spaces or punctuation, so 「いえの なかで」 meets 「いえのなかで」."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).lower()


def is_button_payload(text: str) -> bool:
    """Quick replies that send an intent ("/affirm") carry no words of the resident's."""
    return text.lstrip().startswith("/")


def says_stop(text: str) -> bool:
    """Whether the message as a whole asks to stop the guide."""
    return normalized(text).removesuffix("です") in STOP_PHRASES or normalized(text) in STOP_PHRASES


def says_too_hard(text: str) -> bool:
    """Whether the resident says the whole thing is too hard for them (a reason to offer a person)."""
    return bool(_TOO_HARD.search(normalized(text)))


def says_not(text: str) -> bool:
    """Whether the message denies what it names (「引っ越しはしてない」), so it is no request for that topic."""
    return bool(_NEGATED.search(normalized(text)))


def _matches(words: tuple[str, ...], text: str) -> bool:
    return longest_match(words, text) > 0


def _found(word: str, text: str) -> bool:
    # A word of one or two characters (はい, する) counts only where the message starts with it:
    # 「した」 is no answer inside 「ほかの手続きもしたいです」.
    if len(word) <= 2:
        return text.startswith(word)
    return word in text


def longest_match(words: tuple[str, ...], text: str) -> int:
    """The length of the longest of these words found in the text (0 when none is)."""
    return max(
        (len(normalized(word)) for word in words if normalized(word) and _found(normalized(word), text)), default=0
    )


def asked_term(text: str, glossary: dict[str, str]) -> str | None:
    """The glossary word a message asks about (「マイナポータルって何？」), if it asks about one."""
    if not text or is_button_payload(text):
        return None
    words = normalized(text)
    if not _TERM_QUESTION.search(words):
        return None
    return next((term for term in glossary if normalized(term) in words), None)  # longest first


def read_step_answer(text: str, step: ProcedureStep, glossary: dict[str, str]) -> StepAnswer | None:
    """The step's reading of the message, or None when the words say nothing the step knows."""
    if not text or is_button_payload(text):
        return None
    words = normalized(text)
    asks_term = bool(_TERM_QUESTION.search(words))
    if _DONT_KNOW.search(words) and not asks_term:
        return None  # 「わからない」 asks for the plainer wording, whatever else it contains
    # The longest word wins, so 「えいすうじ」 picks 英数字 over 数字 and 「してない」 beats 「した」.
    scored = [(longest_match((choice.label, *choice.words), words), choice) for choice in step.choices]
    best = max(scored, key=lambda item: item[0], default=(0, None))
    if best[1] is not None and best[0] > 0:
        return StepAnswer(choice=best[1])
    if asks_term:
        for term in glossary:  # longest first, so 署名用電子証明書 wins over 電子証明書
            if normalized(term) in words:
                return StepAnswer(term=term)
    for problem in step.problems:
        if _matches(problem.words, words):
            return StepAnswer(problem=problem)
    return None
