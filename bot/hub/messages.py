"""What residents and the assistant say to each other, independent of channel and engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class QuickReply:
    """A button the assistant offers: the words shown and the payload sent back when it is chosen."""

    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    """One message to a resident; quick replies sit on the last message of a turn only.

    `custom` carries a structured payload from the engine (for example a handoff signal) that channels
    do not show as text.
    """

    text: str
    quick_replies: list[QuickReply] = field(default_factory=list)
    custom: dict[str, Any] | None = None


@dataclass(frozen=True)
class HubAnswer:
    """The hub's own answer to a resident (a handoff, a booking, a hub button): messages and buttons to offer."""

    messages: list[BotMessage]
    replies: list[QuickReply]
    engine_text: str | None = None  # when set, the core then asks the engine this and adds its answer
    after_engine: bool = False  # an answer to the guide's signals: added after the guide's words, not instead


def with_replies_on_last(messages: Sequence[BotMessage], replies: Sequence[QuickReply]) -> list[BotMessage]:
    """The messages with every quick reply removed, and `replies` put on the last one."""
    bare = [replace(message, quick_replies=[]) for message in messages]
    if bare and replies:
        bare[-1] = replace(bare[-1], quick_replies=list(replies))
    return bare


def turn_replies(messages: Sequence[BotMessage]) -> list[QuickReply]:
    """The turn's quick replies, each once, in the order first offered (older engines repeat them per message)."""
    seen: dict[tuple[str, str], QuickReply] = {}
    for message in messages:
        for reply in message.quick_replies:
            seen.setdefault((reply.title, reply.payload), reply)
    return list(seen.values())
