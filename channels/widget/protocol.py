"""The widget's WebSocket frames: JSON objects with a "type", parsed and built here and nowhere else.

From the browser:  {"type": "hello", "session": str | null}   first, once (the token from an earlier answer)
                   {"type": "text", "text": str}               what the resident typed
                   {"type": "reply", "key": str}               a tapped quick reply ("q3.0")
To the browser:    {"type": "welcome", "session", "opening", "history", "max_chars"}
                   {"type": "session", "session": str}         the token of a conversation just started
                   {"type": "messages", "messages": [message]}  new messages (answers, late answers, staff)
                   {"type": "typing", "on": bool}              an answer is being prepared
                   {"type": "error", "code": str, "message": str}  the message is in Japanese, for the resident
A message is {"id", "from": "resident" | "bot" | "staff", "text", "ruby": [[base, reading]],
"quick_replies": [{"title", "key", "ruby"}]}; "ruby" lets the page show ふりがな without asking again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.hub.messages import BotMessage, QuickReply

from . import wording

MAX_TEXT_CHARS = 2000
ErrorCode = Literal["bad_frame", "not_ready", "empty", "too_long", "failed", "session_over", "old_button"]
Ruby = Callable[[str], list[tuple[str, str]]]


class BadFrame(ValueError):
    """A frame the widget cannot take; `code` and the Japanese `message` go back to the page."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message


@dataclass(frozen=True)
class Hello:
    """The page's first frame: the session it kept, if any."""

    session: str | None


@dataclass(frozen=True)
class Typed:
    """Text the resident typed, trimmed and within the limit."""

    text: str


@dataclass(frozen=True)
class Tapped:
    """The key of a quick reply the resident tapped."""

    key: str


Frame = Hello | Typed | Tapped


def parse_frame(raw: str, max_chars: int = MAX_TEXT_CHARS) -> Frame:
    """Check one frame from the page; raise BadFrame saying what is wrong."""
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise BadFrame("bad_frame", wording.NOT_READY)
    kind = data.get("type")
    if kind == "hello":
        session = data.get("session")
        if session is not None and (not isinstance(session, str) or not session.strip() or len(session) > 200):
            raise BadFrame("bad_frame", wording.NOT_READY)
        return Hello(session.strip() if session else None)
    if kind == "text":
        text = data.get("text")
        if not isinstance(text, str):
            raise BadFrame("bad_frame", wording.NOT_READY)
        text = text.strip()
        if not text:
            raise BadFrame("empty", wording.EMPTY)
        if len(text) > max_chars:
            raise BadFrame("too_long", wording.too_long(max_chars))
        return Typed(text)
    if kind == "reply":
        key = data.get("key")
        if not isinstance(key, str) or not key or len(key) > 40:
            raise BadFrame("bad_frame", wording.NOT_READY)
        return Tapped(key)
    raise BadFrame("bad_frame", wording.NOT_READY)


def message(
    text: str, ruby: Ruby, *, sender: str = "bot", replies: Sequence[QuickReply] = (), message_id: int | None = None
) -> dict[str, Any]:
    """One message as the page shows it, with its readings."""
    return {
        "id": message_id,
        "from": sender,
        "text": text,
        "ruby": [list(segment) for segment in ruby(text)],
        "quick_replies": [
            {"title": r.title, "key": r.payload, "ruby": [list(s) for s in ruby(r.title)]} for r in replies
        ],
    }


def bot_messages(
    messages: Sequence[tuple[int | None, BotMessage]], ruby: Ruby, senders: Sequence[str] = ()
) -> dict[str, Any]:
    """A frame of new messages for the resident; `senders` says "bot" or "staff" for each (default "bot")."""
    who = list(senders) or ["bot"] * len(messages)
    return {
        "type": "messages",
        "messages": [
            message(m.text, ruby, sender=s, replies=m.quick_replies, message_id=i)
            for (i, m), s in zip(messages, who, strict=True)
        ],
    }


def error(code: ErrorCode, text: str) -> dict[str, Any]:
    """A frame telling the resident why their message was not taken."""
    return {"type": "error", "code": code, "message": text}


def dumps(frame: dict[str, Any]) -> str:
    """A frame as JSON text, Japanese kept readable."""
    return json.dumps(frame, ensure_ascii=False)
