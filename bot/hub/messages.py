"""What the assistant says to a resident in one turn, independent of channel and engine."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QuickReply:
    """A button the assistant offers: the words shown and the payload sent back when it is chosen."""

    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    """One message from the assistant, with the quick replies offered under it."""

    text: str
    quick_replies: list[QuickReply] = field(default_factory=list)
