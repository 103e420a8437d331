"""What the console needs of the hub's handoff service (`bot.hub.handoff.Helpdesk`), and how it shows tickets.

The console is typed against these protocols so that it depends on the service's shape only. The service raises
`TicketNotFound` (a LookupError) and `TicketStateError` (a ValueError); the views catch those base classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from bot.city import JAPAN
from bot.console.store import Role
from bot.phone_numbers import hide_phone_numbers


class TicketLike(Protocol):
    """A ticket as the service gives it."""

    @property
    def id(self) -> int: ...
    @property
    def conversation_id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def procedure(self) -> str | None: ...
    @property
    def procedure_title(self) -> str | None: ...
    @property
    def step(self) -> int | None: ...
    @property
    def step_count(self) -> int | None: ...
    @property
    def summary(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def routed_to(self) -> str: ...
    @property
    def claimed_by(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def claimed_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def feedback(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def callback_phone(self) -> str | None: ...


class TranscriptEntryLike(Protocol):
    """One message of a ticket's redacted transcript."""

    @property
    def id(self) -> int: ...
    @property
    def sender(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def at(self) -> datetime: ...


class StuckStepLike(Protocol):
    """One procedure step and how often residents got stuck there."""

    @property
    def procedure(self) -> str: ...
    @property
    def procedure_title(self) -> str | None: ...
    @property
    def step(self) -> int | None: ...
    @property
    def failures(self) -> int: ...
    @property
    def fallbacks(self) -> int: ...
    @property
    def handoffs(self) -> int: ...


class VenueLike(Protocol):
    """Where a volunteer session takes place."""

    @property
    def name(self) -> str: ...


class SlotLike(Protocol):
    """A volunteer session's venue, time and length."""

    @property
    def venue(self) -> VenueLike: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def minutes(self) -> int: ...


class BookingLike(Protocol):
    """A resident's seat at a volunteer session."""

    @property
    def id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def venue_id(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...


class StatisticsLike(Protocol):
    """The numbers behind the statistics page."""

    @property
    def conversations_per_day(self) -> Sequence[tuple[str, str, int]]: ...
    @property
    def handoffs(self) -> int: ...
    @property
    def conversations(self) -> int: ...
    @property
    def handoff_rate(self) -> float: ...
    @property
    def waiting_seconds(self) -> Sequence[float]: ...
    @property
    def feedback(self) -> dict[str, int]: ...
    @property
    def stuck_steps(self) -> Sequence[StuckStepLike]: ...


class HelpdeskLike(Protocol):
    """The calls the console makes; argument names as in bot/hub/handoff.py."""

    async def queue(self, *, routed_to: Any = None, include_closed: bool = False) -> Sequence[TicketLike]: ...
    async def ticket(self, ticket_id: int) -> TicketLike: ...
    async def transcript(self, ticket_id: int, after: int = 0) -> Sequence[TranscriptEntryLike]: ...
    async def claim(self, ticket_id: int, staff: str) -> TicketLike: ...
    async def reply(self, ticket_id: int, staff: str, text: str) -> TranscriptEntryLike: ...
    async def add_note(self, ticket_id: int, author: str, text: str) -> None: ...
    async def notes(self, ticket_id: int) -> Sequence[tuple[str, str, datetime]]: ...
    async def back_to_bot(self, ticket_id: int, staff: str) -> TicketLike: ...
    async def resolve(self, ticket_id: int, staff: str) -> TicketLike: ...
    async def wait_for_change(self, seen: int, timeout: float) -> int: ...
    async def statistics(self, days: int = 30) -> StatisticsLike: ...
    async def bookings(self) -> Sequence[tuple[BookingLike, SlotLike | None]]: ...


def may_see(role: Role, ticket: TicketLike) -> bool:
    """Staff see every ticket, volunteers only those routed to volunteers, admins none (no conversation content)."""
    if role == "staff":
        return True
    return role == "volunteer" and ticket.routed_to == "volunteer"


def shown_text(role: Role, text: str) -> str:
    """A resident's or staff text as this role may see it."""
    return hide_phone_numbers(text) if role == "volunteer" else text


def ticket_json(ticket: TicketLike, role: Role, now: datetime) -> dict[str, Any]:
    """A ticket for the JSON API and the pages; waiting time counted until claimed or closed."""
    until = ticket.claimed_at or ticket.closed_at or now
    return {
        "id": ticket.id,
        "channel": ticket.channel,
        "reason": ticket.reason,
        "procedure": ticket.procedure,
        "procedure_title": ticket.procedure_title,
        "step": ticket.step,
        "step_count": ticket.step_count,
        "summary": shown_text(role, ticket.summary),
        "state": ticket.state,
        "routed_to": ticket.routed_to,
        "claimed_by": ticket.claimed_by,
        "created_at": ticket.created_at.isoformat(),
        "claimed_at": ticket.claimed_at.isoformat() if ticket.claimed_at else None,
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
        "waiting_seconds": max(0, int((until - ticket.created_at).total_seconds())),
        "feedback": ticket.feedback,
        "kind": ticket.kind,
        # Only staff call residents back; a volunteer never sees a resident's phone number.
        "callback_phone": ticket.callback_phone if role == "staff" else None,
    }


def entry_json(entry: TranscriptEntryLike, role: Role) -> dict[str, Any]:
    """One transcript message for the JSON API."""
    return {"id": entry.id, "sender": entry.sender, "text": shown_text(role, entry.text), "at": entry.at.isoformat()}


def statistics_json(stats: StatisticsLike) -> dict[str, Any]:
    """The statistics for the JSON API and the charts."""
    return {
        "conversations_per_day": [
            {"date": _iso(day), "channel": channel, "count": count}
            for day, channel, count in stats.conversations_per_day
        ],
        "conversations": stats.conversations,
        "handoffs": stats.handoffs,
        "handoff_rate": stats.handoff_rate,
        "waiting_seconds": list(stats.waiting_seconds),
        "feedback": dict(stats.feedback),
        "stuck_steps": [
            {
                "procedure": s.procedure,
                "procedure_title": s.procedure_title,
                "step": s.step,
                "failures": s.failures,
                "fallbacks": s.fallbacks,
                "handoffs": s.handoffs,
            }
            for s in stats.stuck_steps
        ],
    }


def booking_json(booking: BookingLike, slot: SlotLike | None) -> dict[str, Any]:
    """A booked volunteer session: where and when, and the resident's channel; nothing that identifies them."""
    return {
        "id": booking.id,
        "channel": booking.channel,
        "venue_id": booking.venue_id,
        "venue": slot.venue.name if slot else None,
        "starts_at": booking.starts_at.astimezone(JAPAN).isoformat(),
        "minutes": slot.minutes if slot else None,
    }


def _iso(day: str | date) -> str:
    return day if isinstance(day, str) else day.isoformat()
