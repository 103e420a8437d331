"""The assistant's messages as LINE message objects, within LINE's limits.

LINE takes at most 5 message objects per request, at most 5,000 UTF-16 code units per text, and at most 13
quick-reply items with labels of at most 20 characters; quick replies show only on the last message. Long text is
split at sentence ends, and never inside a character (a surrogate pair) or an emoji sequence.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from typing import Any

from bot.hub.messages import BotMessage, QuickReply

logger = logging.getLogger(__name__)

MAX_MESSAGES_PER_REQUEST = 5
MAX_TEXT_UNITS = 5000
MAX_QUICK_REPLIES = 13
MAX_LABEL_CHARS = 20
MAX_DISPLAY_TEXT_CHARS = 300
# Where a long text may be cut: after the end of a sentence (closing brackets stay with it), else after a space.
_SENTENCE_ENDS = "。．！？!?\n"
_CLOSERS = "」』）)】〕”’"
_ZWJ = "\u200d"

LineMessage = dict[str, Any]


def utf16_units(text: str) -> int:
    """The length LINE counts: UTF-16 code units (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """The text in pieces of at most `limit` UTF-16 units, cut at sentence ends where there is one."""
    pieces: list[str] = []
    rest = text
    while utf16_units(rest) > limit:
        cut = _cut_point(rest, limit)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]


def _cut_point(text: str, limit: int) -> int:
    """The index (in code points) to cut at: the last sentence end that fits, else a safe character boundary."""
    fits, units = 0, 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
        fits = index + 1
    for ends in (_SENTENCE_ENDS, " \u3000"):
        position = max(text.rfind(char, 0, fits) for char in ends)
        if position > 0:
            cut = position + 1
            while cut < fits and text[cut] in _CLOSERS:
                cut += 1
            return cut
    cut = fits
    while cut > 1 and not _boundary(text, cut):
        cut -= 1
    return cut


def _boundary(text: str, cut: int) -> bool:
    """Whether cutting before text[cut] keeps every emoji sequence and accented letter whole."""
    before, after = text[cut - 1], text[cut]
    if before == _ZWJ or after == _ZWJ:
        return False
    code = ord(after)
    if unicodedata.combining(after) or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF:
        return False  # variation selectors and skin tones belong to the character before
    if code == 0x20E3 or 0xE0020 <= code <= 0xE007F:
        return False  # keycaps and flag tags
    if _regional(after) and _regional(before):
        run = 0
        while cut - 1 - run >= 0 and _regional(text[cut - 1 - run]):
            run += 1
        return run % 2 == 0  # flags are pairs of regional indicators
    return True


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def line_messages(messages: Sequence[BotMessage]) -> list[LineMessage]:
    """Text message objects for LINE, with the quick replies of the last message on the last object."""
    objects: list[LineMessage] = [
        {"type": "text", "text": piece} for message in messages for piece in split_text(message.text)
    ]
    replies = messages[-1].quick_replies if messages else []
    if objects and replies:
        if len(replies) > MAX_QUICK_REPLIES:
            logger.warning("line: %d quick replies, LINE shows the first %d", len(replies), MAX_QUICK_REPLIES)
        objects[-1]["quickReply"] = {"items": [quick_reply_item(r) for r in replies[:MAX_QUICK_REPLIES]]}
    return objects


def quick_reply_item(reply: QuickReply) -> LineMessage:
    """A postback button: the data is the core's turn-bound key (an old button stays recognisably old), and the
    chat shows the resident's choice in full as if they had typed it."""
    label = reply.title if len(reply.title) <= MAX_LABEL_CHARS else reply.title[: MAX_LABEL_CHARS - 1] + "…"
    return {
        "type": "action",
        "action": {
            "type": "postback",
            "label": label,
            "data": reply.payload,
            "displayText": reply.title[:MAX_DISPLAY_TEXT_CHARS],
        },
    }


def batches(objects: Sequence[LineMessage]) -> list[list[LineMessage]]:
    """The objects in requests of at most 5, in order (the quick replies stay on the very last)."""
    return [list(objects[i : i + MAX_MESSAGES_PER_REQUEST]) for i in range(0, len(objects), MAX_MESSAGES_PER_REQUEST)]
