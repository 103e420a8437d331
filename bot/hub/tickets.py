"""Tickets for the helpdesk, their internal notes, and the guide's record of where residents get stuck.

A ticket is opened when a conversation is handed to a person; it moves waiting → claimed → with_bot (handed
back) or resolved. The stuck-step record (failures, fallbacks and handoffs by procedure and step) is what the
console's statistics show the city. Blocking calls on the hub's SQLite file: use them through `StoreThread`
(`await db(lambda s: s.tickets.queue())`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from sqlite_utils import Database, Migrations
from sqlite_utils.db import NotFoundError

from bot.volunteer_sessions import JAPAN

TicketState = Literal["waiting", "claimed", "with_bot", "resolved"]
# A chat ticket: the resident waits in the conversation; a callback: staff phone them (the number kept until closed).
TicketKind = Literal["chat", "callback"]
Routing = Literal["staff", "volunteer"]
Feedback = Literal["good", "bad"]
StepEventKind = Literal["step_failed", "fallback", "handoff"]
OPEN_STATES: tuple[TicketState, ...] = ("waiting", "claimed")

ticket_migrations = Migrations("hub.tickets")


@ticket_migrations()
def m001_tickets(db: Database) -> None:
    db.table("tickets").create(
        {
            "id": int,
            "conversation_id": str,
            "channel": str,
            "reason": str,
            "procedure": str,
            "procedure_title": str,
            "step": int,
            "step_count": int,
            "summary": str,
            "state": str,
            "routed_to": str,
            "claimed_by": str,
            "created_at": str,
            "claimed_at": str,
            "closed_at": str,
            "timeout_told_at": str,
            "feedback": str,
        },
        pk="id",
        not_null={"conversation_id", "channel", "reason", "summary", "state", "routed_to", "created_at"},
        foreign_keys=[("conversation_id", "conversations", "id")],
    )
    db.table("tickets").create_index(["state", "created_at"])
    db.table("tickets").create_index(["conversation_id"])
    db.table("ticket_notes").create(
        {"id": int, "ticket_id": int, "author": str, "text": str, "created_at": str},
        pk="id",
        not_null={"ticket_id", "author", "text", "created_at"},
        foreign_keys=[("ticket_id", "tickets", "id")],
    )
    db.table("step_events").create(
        {"id": int, "conversation_id": str, "channel": str, "kind": str, "procedure": str, "procedure_title": str,
         "step": int, "created_at": str},
        pk="id",
        not_null={"conversation_id", "channel", "kind", "created_at"},
        foreign_keys=[("conversation_id", "conversations", "id")],
    )  # fmt: skip
    db.table("step_events").create_index(["created_at"])


@ticket_migrations()
def m002_callbacks(db: Database) -> None:
    db.table("tickets").add_column("kind", str, not_null_default="chat")
    db.table("tickets").add_column("callback_phone", str)


class TicketNotFound(LookupError):
    """No ticket has this id (or it was purged with its conversation)."""


class TicketStateError(ValueError):
    """The ticket is not in a state that allows this; the text says why."""


@dataclass(frozen=True)
class Ticket:
    """A conversation handed to a person, with where the resident was and what became of it."""

    id: int
    conversation_id: str
    channel: str
    reason: str
    procedure: str | None
    procedure_title: str | None
    step: int | None
    step_count: int | None
    summary: str
    state: TicketState
    routed_to: Routing
    claimed_by: str | None
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    feedback: Feedback | None
    kind: TicketKind = "chat"
    callback_phone: str | None = None  # only while a callback ticket is open; never shown to volunteers

    @property
    def is_open(self) -> bool:
        """Waiting for a person or with one."""
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class HandoffRequest:
    """What the guide reported when it handed the resident over (from its custom payload)."""

    reason: str
    procedure: str | None = None
    procedure_title: str | None = None
    step: int | None = None
    step_count: int | None = None
    step_title: str | None = None


@dataclass(frozen=True)
class StuckStep:
    """One procedure step with how often residents failed, were not understood or asked for a person there."""

    procedure: str
    procedure_title: str
    step: int | None
    failures: int
    fallbacks: int
    handoffs: int

    @property
    def total(self) -> int:
        """All three counts together: the order of the list."""
        return self.failures + self.fallbacks + self.handoffs


REASON_WORDS = {
    "asked": "人と話すことを希望",
    "step_failed": "同じ手順で2回うまくいかなかった",
    "not_understood": "2回続けて質問が伝わらなかった",
    "too_hard": "難しいと感じている",
    "callback": "電話での相談を希望",
}


def summary_of(request: HandoffRequest) -> str:
    """A short summary for staff, made only from the guide's state: procedure, step and reason."""
    reason = REASON_WORDS.get(request.reason, request.reason)
    if request.procedure_title is None:
        return f"手続きを選ぶ前（{reason}）"
    where = f"「{request.procedure_title}」"
    if request.step:
        count = f"/{request.step_count}" if request.step_count else ""
        title = f"「{request.step_title}」" if request.step_title else ""
        where += f" 手順 {request.step}{count}{title}"
    return f"{where}（{reason}）"


class TicketStore:
    """Tickets, notes and stuck-step events in the hub's database."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def open_ticket(self, conversation_id: str, channel: str, request: HandoffRequest, routed_to: Routing) -> Ticket:
        """Open a waiting ticket for the conversation, or return the one already open (a second request)."""
        with self._db.atomic():
            current = self.open_ticket_of(conversation_id)
            if current is not None:
                return current
            table = self._db.table("tickets").insert(
                {
                    "conversation_id": conversation_id,
                    "channel": channel,
                    "reason": request.reason,
                    "procedure": request.procedure,
                    "procedure_title": request.procedure_title,
                    "step": request.step,
                    "step_count": request.step_count,
                    "summary": summary_of(request),
                    "state": "waiting",
                    "routed_to": routed_to,
                    "created_at": _stamp(self._clock()),
                }
            )
            assert table.last_pk is not None
            return self.ticket(int(table.last_pk))

    def ask_for_callback(self, conversation_id: str, channel: str, request: HandoffRequest, phone: str) -> Ticket:
        """Turn the conversation's open ticket into a callback to this number, or open one (outside the hours)."""
        with self._db.atomic():
            current = self.open_ticket_of(conversation_id)
            if current is None:
                current = self.open_ticket(conversation_id, channel, request, "staff")
            # Only staff phone residents: a ticket meant for volunteers goes to staff with the number.
            callback = {"kind": "callback", "callback_phone": phone, "routed_to": "staff"}
            self._db.table("tickets").update(current.id, callback)
            return self.ticket(current.id)

    def ticket(self, ticket_id: int) -> Ticket:
        """The ticket with this id; raise TicketNotFound."""
        try:
            return _ticket(self._db.table("tickets").get(ticket_id))
        except NotFoundError as error:
            raise TicketNotFound(f"no ticket {ticket_id}") from error

    def open_ticket_of(self, conversation_id: str) -> Ticket | None:
        """The conversation's waiting or claimed ticket, if it has one."""
        rows = list(
            self._db.table("tickets").rows_where(
                "conversation_id = ? and state in ('waiting', 'claimed')",
                [conversation_id],
                order_by="id desc",
                limit=1,
            )
        )
        return _ticket(rows[0]) if rows else None

    def latest_ticket_of(self, conversation_id: str) -> Ticket | None:
        """The conversation's newest ticket in any state."""
        rows = list(
            self._db.table("tickets").rows_where("conversation_id = ?", [conversation_id], order_by="id desc", limit=1)
        )
        return _ticket(rows[0]) if rows else None

    def queue(self, routed_to: Routing | None = None, include_closed: bool = False) -> list[Ticket]:
        """Open tickets oldest first (the one waiting longest on top); closed ones after them when asked."""
        where, params = [], []
        if not include_closed:
            where.append("state in ('waiting', 'claimed')")
        if routed_to is not None:
            where.append("routed_to = ?")
            params.append(routed_to)
        order = "case when state in ('waiting', 'claimed') then 0 else 1 end, id"
        rows = self._db.table("tickets").rows_where(" and ".join(where) or None, params, order_by=order)
        return [_ticket(row) for row in rows]

    def claim(self, ticket_id: int, staff: str) -> Ticket:
        """Give a waiting ticket to one person; a ticket another person holds is refused."""
        with self._db.atomic():
            ticket = self.ticket(ticket_id)
            if ticket.state == "claimed" and ticket.claimed_by == staff:
                return ticket
            if ticket.state != "waiting":
                holder = f" by {ticket.claimed_by}" if ticket.claimed_by else ""
                raise TicketStateError(
                    f"ticket {ticket_id} is {ticket.state}{holder}: only a waiting ticket can be claimed"
                )
            self._db.table("tickets").update(
                ticket_id, {"state": "claimed", "claimed_by": staff, "claimed_at": _stamp(self._clock())}
            )
            return self.ticket(ticket_id)

    def close(self, ticket_id: int, state: Literal["with_bot", "resolved"]) -> Ticket:
        """End a ticket: handed back to the bot, or resolved. Closing a closed ticket is refused."""
        # A callback's number is kept only as long as someone may still have to call it: overwritten in the file
        # (not just unlinked), and the write-ahead log that still holds it is emptied.
        self._db.execute("PRAGMA secure_delete = ON")
        with self._db.atomic():
            ticket = self.ticket(ticket_id)
            if not ticket.is_open:
                raise TicketStateError(f"ticket {ticket_id} is already {ticket.state}")
            closed = {"state": state, "closed_at": _stamp(self._clock()), "callback_phone": None}
            self._db.table("tickets").update(ticket_id, closed)
        if ticket.callback_phone is not None:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.ticket(ticket_id)

    def unclaimed_since(self, moment: datetime) -> list[Ticket]:
        """Waiting tickets opened before `moment` whose resident has not been told yet that nobody answered."""
        rows = self._db.table("tickets").rows_where(
            "state = 'waiting' and kind = 'chat' and timeout_told_at is null and created_at < ?",
            [_stamp(moment)],
            order_by="id",
        )
        return [_ticket(row) for row in rows]

    def mark_timeout_told(self, ticket_id: int) -> None:
        """Record that the resident was told nobody has answered yet (said once per ticket)."""
        self._db.table("tickets").update(ticket_id, {"timeout_told_at": _stamp(self._clock())})

    def record_feedback(self, conversation_id: str, feedback: Feedback) -> Ticket | None:
        """Keep the resident's answer to 「お役に立ちましたか」 on the conversation's latest closed ticket."""
        with self._db.atomic():
            ticket = self.latest_ticket_of(conversation_id)
            if ticket is None or ticket.is_open:
                return None
            self._db.table("tickets").update(ticket.id, {"feedback": feedback})
            return self.ticket(ticket.id)

    def add_note(self, ticket_id: int, author: str, text: str) -> None:
        """An internal note on a ticket (never sent to the resident)."""
        self.ticket(ticket_id)
        self._db.table("ticket_notes").insert(
            {"ticket_id": ticket_id, "author": author, "text": text, "created_at": _stamp(self._clock())}
        )

    def notes(self, ticket_id: int) -> list[tuple[str, str, datetime]]:
        """The ticket's notes, oldest first, as (author, text, when)."""
        self.ticket(ticket_id)
        rows = self._db.table("ticket_notes").rows_where("ticket_id = ?", [ticket_id], order_by="id")
        return [(row["author"], row["text"], datetime.fromisoformat(row["created_at"])) for row in rows]

    def waiting_count(self) -> int:
        """How many residents wait in the chat for a person now (callbacks wait by the phone, not in the line)."""
        sql = "select count(*) from tickets where state = 'waiting' and kind = 'chat'"
        return int(self._db.execute(sql).fetchone()[0])

    def recent_claim_waits(self, limit: int = 20) -> list[float]:
        """Seconds residents waited before a person claimed their ticket, newest claims first."""
        rows = self._db.execute(
            "select created_at, claimed_at from tickets where claimed_at is not null order by claimed_at desc limit ?",
            [limit],
        ).fetchall()
        return [(datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() for a, b in rows]

    # The stuck-step record

    def record_step_event(
        self, conversation_id: str, channel: str, kind: StepEventKind, procedure: str | None,
        procedure_title: str | None, step: int | None,
    ) -> None:  # fmt: skip
        """Note that a resident failed a step, was not understood, or was handed over, and where."""
        self._db.table("step_events").insert(
            {"conversation_id": conversation_id, "channel": channel, "kind": kind, "procedure": procedure,
             "procedure_title": procedure_title, "step": step, "created_at": _stamp(self._clock())}
        )  # fmt: skip

    def stuck_steps(self, since: datetime, limit: int = 20) -> list[StuckStep]:
        """Procedure steps by how often residents got stuck there since `since`, most first."""
        rows = self._db.execute(
            "select procedure, max(procedure_title), step, "
            "sum(kind = 'step_failed'), sum(kind = 'fallback'), sum(kind = 'handoff') "
            "from step_events where procedure is not null and created_at >= ? "
            "group by procedure, step order by count(*) desc, procedure, step limit ?",
            [_stamp(since), limit],
        ).fetchall()
        return [StuckStep(row[0], row[1] or row[0], row[2], row[3], row[4], row[5]) for row in rows]

    def tickets_since(self, since: datetime) -> list[Ticket]:
        """Every ticket opened since `since`, oldest first."""
        rows = self._db.table("tickets").rows_where("created_at >= ?", [_stamp(since)], order_by="id")
        return [_ticket(row) for row in rows]

    def conversations_per_day(self, since: datetime) -> list[tuple[str, str, int]]:
        """(day, channel, conversations started) since `since`, by day in Japan."""
        rows = self._db.execute(
            "select date(created_at, '+9 hours'), channel, count(*) from conversations where created_at >= ? "
            "group by 1, 2 order by 1, 2",
            [_stamp(since)],
        ).fetchall()
        return [(row[0], row[1], int(row[2])) for row in rows]

    def purge_conversations(self, stale_conversations_sql: str, params: list[Any]) -> None:
        """Delete what belongs to the conversations the purge removes (called inside its transaction)."""
        self._db.execute(
            f"delete from ticket_notes where ticket_id in "
            f"(select id from tickets where conversation_id in ({stale_conversations_sql}))",
            params,
        )
        self._db.execute(f"delete from tickets where conversation_id in ({stale_conversations_sql})", params)
        self._db.execute(f"delete from step_events where conversation_id in ({stale_conversations_sql})", params)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def day_start(moment: datetime, days: int) -> datetime:
    """The start of the day in Japan `days` days before `moment` (as an aware UTC moment)."""
    start: date = (moment.astimezone(JAPAN) - timedelta(days=days)).date()
    return datetime(start.year, start.month, start.day, tzinfo=JAPAN).astimezone(timezone.utc)


def _optional_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _ticket(row: dict[str, Any]) -> Ticket:
    return Ticket(
        id=row["id"],
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        reason=row["reason"],
        procedure=row["procedure"],
        procedure_title=row["procedure_title"],
        step=row["step"],
        step_count=row["step_count"],
        summary=row["summary"],
        state=row["state"],
        routed_to="volunteer" if row["routed_to"] == "volunteer" else "staff",
        claimed_by=row["claimed_by"],
        created_at=datetime.fromisoformat(row["created_at"]),
        claimed_at=_optional_time(row["claimed_at"]),
        closed_at=_optional_time(row["closed_at"]),
        feedback=row["feedback"] if row["feedback"] in ("good", "bad") else None,
        kind="callback" if row.get("kind") == "callback" else "chat",
        callback_phone=row.get("callback_phone"),
    )
