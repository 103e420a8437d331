"""An in-memory stand-in for the hub's `Helpdesk` (bot/hub/handoff.py), with the same calls and errors' bases.

Only for the console's view tests until the real service is in the hub; it keeps tickets, transcripts and notes
in dicts and bumps a version on every change, as the service's long-poll does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Literal

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)


class TicketNotFound(LookupError):
    """No ticket has this id."""


class TicketStateError(ValueError):
    """The ticket is not in a state that allows this."""


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: str
    channel: str
    reason: str
    procedure: str | None
    procedure_title: str | None
    step: int | None
    step_count: int | None
    summary: str
    state: Literal["waiting", "claimed", "with_bot", "resolved"]
    routed_to: Literal["staff", "volunteer"]
    claimed_by: str | None
    created_at: datetime
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    feedback: Literal["good", "bad"] | None = None


@dataclass(frozen=True)
class TranscriptEntry:
    id: int
    sender: Literal["resident", "bot", "staff"]
    text: str
    at: datetime


@dataclass(frozen=True)
class Statistics:
    conversations_per_day: list[tuple[str, str, int]]
    handoffs: int
    conversations: int
    handoff_rate: float
    waiting_seconds: list[float]
    feedback: dict[str, int]
    stuck_steps: list[tuple[str, str | None, int, int, int, int]]


@dataclass
class HelpdeskDouble:
    """Two tickets to start with: 1 routed to staff, 2 routed to volunteers."""

    tickets: dict[int, Ticket] = field(default_factory=dict)
    entries: dict[int, list[TranscriptEntry]] = field(default_factory=dict)
    notes_by_ticket: dict[int, list[tuple[str, str, datetime]]] = field(default_factory=dict)
    sent_to_resident: list[tuple[int, str]] = field(default_factory=list)
    version: int = 1
    _next_entry: int = 1
    _changed: asyncio.Condition | None = None

    @classmethod
    def with_two_tickets(cls) -> HelpdeskDouble:
        double = cls()
        double.open_ticket(1, "staff", "web:aaa", "step_failed", summary="マイナポータルのログインで止まった")
        double.open_ticket(2, "volunteer", "line:bbb", "asked", summary="スマホの使い方を聞きたい")
        return double

    def open_ticket(
        self, ticket_id: int, routed_to: Literal["staff", "volunteer"], conversation: str, reason: str, *, summary: str
    ) -> None:
        self.tickets[ticket_id] = Ticket(
            id=ticket_id,
            conversation_id=conversation,
            channel=conversation.split(":")[0],
            reason=reason,
            procedure="mynaportal_login",
            procedure_title="マイナポータルにログインする",
            step=2,
            step_count=5,
            summary=summary,
            state="waiting",
            routed_to=routed_to,
            claimed_by=None,
            created_at=T0 - timedelta(minutes=7),
        )
        self.entries[ticket_id] = []
        self.notes_by_ticket[ticket_id] = []
        self.resident_says(ticket_id, "ログインできません")

    def resident_says(self, ticket_id: int, text: str) -> TranscriptEntry:
        """A resident's message arrives (as the core would record it)."""
        return self._append(ticket_id, "resident", text)

    def _append(self, ticket_id: int, sender: Literal["resident", "bot", "staff"], text: str) -> TranscriptEntry:
        entry = TranscriptEntry(self._next_entry, sender, text, T0)
        self._next_entry += 1
        self.entries[ticket_id].append(entry)
        self._bump()
        return entry

    def _bump(self) -> None:
        self.version += 1
        if self._changed is not None:
            condition = self._changed

            async def notify() -> None:
                async with condition:
                    condition.notify_all()

            asyncio.get_running_loop().create_task(notify())

    def _get(self, ticket_id: int) -> Ticket:
        if ticket_id not in self.tickets:
            raise TicketNotFound(f"no ticket {ticket_id}")
        return self.tickets[ticket_id]

    def _set(self, ticket: Ticket) -> Ticket:
        self.tickets[ticket.id] = ticket
        self._bump()
        return ticket

    async def queue(self, *, routed_to: str | None = None, include_closed: bool = False) -> list[Ticket]:
        return [
            t
            for t in self.tickets.values()
            if (routed_to is None or t.routed_to == routed_to) and (include_closed or t.state in ("waiting", "claimed"))
        ]

    async def ticket(self, ticket_id: int) -> Ticket:
        return self._get(ticket_id)

    async def transcript(self, ticket_id: int, after: int = 0) -> list[TranscriptEntry]:
        self._get(ticket_id)
        return [entry for entry in self.entries[ticket_id] if entry.id > after]

    async def claim(self, ticket_id: int, staff: str) -> Ticket:
        ticket = self._get(ticket_id)
        if ticket.claimed_by not in (None, staff):
            raise TicketStateError(f"{ticket.claimed_by} has this ticket")
        return self._set(replace(ticket, state="claimed", claimed_by=staff, claimed_at=T0))

    async def reply(self, ticket_id: int, staff: str, text: str) -> TranscriptEntry:
        self._get(ticket_id)
        self.sent_to_resident.append((ticket_id, text))
        return self._append(ticket_id, "staff", text)

    async def add_note(self, ticket_id: int, author: str, text: str) -> None:
        self._get(ticket_id)
        self.notes_by_ticket[ticket_id].append((author, text, T0))
        self._bump()

    async def notes(self, ticket_id: int) -> list[tuple[str, str, datetime]]:
        self._get(ticket_id)
        return list(self.notes_by_ticket[ticket_id])

    async def back_to_bot(self, ticket_id: int, staff: str) -> Ticket:
        return self._set(replace(self._get(ticket_id), state="with_bot", closed_at=T0))

    async def resolve(self, ticket_id: int, staff: str) -> Ticket:
        return self._set(replace(self._get(ticket_id), state="resolved", closed_at=T0))

    async def wait_for_change(self, seen: int, timeout: float) -> int:
        if self._changed is None:
            self._changed = asyncio.Condition()
        if self.version != seen:
            return self.version
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.version != seen), timeout)
            except asyncio.TimeoutError:
                pass
        return self.version

    async def statistics(self, days: int = 30) -> Statistics:
        return Statistics(
            conversations_per_day=[("2026-11-29", "web", 12), ("2026-11-29", "line", 4), ("2026-11-30", "web", 9)],
            handoffs=5,
            conversations=25,
            handoff_rate=0.2,
            waiting_seconds=[30.0, 200.0, 1000.0],
            feedback={"good": 3, "bad": 1},
            stuck_steps=[("mynaportal_login", "マイナポータルにログインする", 2, 6, 3, 2)],
        )
