"""Bookings of in-person sessions with volunteers, in the hub's database.

A seat is taken inside an IMMEDIATE transaction: the count of seats taken and the new booking are one
write, so two residents (or two hub processes) taking the last seat at once never both get it.
Blocking calls: use them through `StoreThread` (`await db(lambda s: s.bookings.book(...))`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database, Migrations

from bot.volunteer_sessions import JAPAN, Slot

booking_migrations = Migrations("hub.bookings")


@booking_migrations()
def m001_bookings(db: Database) -> None:
    db.table("bookings").create(
        {
            "id": int,
            "conversation_id": str,
            "channel": str,
            "slot_key": str,
            "venue_id": str,
            "starts_at": str,
            "created_at": str,
            "cancelled_at": str,
            "reminded_at": str,
        },
        pk="id",
        not_null={"conversation_id", "channel", "slot_key", "venue_id", "starts_at", "created_at"},
        foreign_keys=[("conversation_id", "conversations", "id")],
    )
    db.table("bookings").create_index(["slot_key"])
    db.table("bookings").create_index(["conversation_id"])
    db.table("bookings").create_index(["starts_at"])


class SlotFull(Exception):
    """Every seat of the slot is taken."""


class AlreadyBooked(Exception):
    """The resident already has a session booked; they cancel it first."""

    def __init__(self, booking: Booking) -> None:
        super().__init__(f"booking {booking.id} is still active")
        self.booking = booking


class BookingNotFound(LookupError):
    """No active booking has this id in this conversation."""


@dataclass(frozen=True)
class Booking:
    """A resident's seat at one session."""

    id: int
    conversation_id: str
    channel: str
    slot_key: str
    venue_id: str
    starts_at: datetime
    created_at: datetime
    cancelled_at: datetime | None


class BookingStore:
    """Seats taken at volunteers' sessions."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def book(self, conversation_id: str, channel: str, slot: Slot) -> Booking:
        """Take a seat; raise SlotFull when none is left, AlreadyBooked when the resident holds one."""
        with self._immediate():
            current = self.active_booking_of(conversation_id)
            if current is not None:
                raise AlreadyBooked(current)
            if self.seats_taken(slot.key) >= slot.seats:
                raise SlotFull(slot.key)
            table = self._db.table("bookings").insert(
                {
                    "conversation_id": conversation_id,
                    "channel": channel,
                    "slot_key": slot.key,
                    "venue_id": slot.venue.id,
                    "starts_at": slot.starts_at.isoformat(),
                    "created_at": _stamp(self._clock()),
                }
            )
            assert table.last_pk is not None
            return _booking(self._db.table("bookings").get(table.last_pk))

    def cancel(self, conversation_id: str, booking_id: int) -> Booking:
        """Give the seat back; only the conversation that booked it can."""
        with self._immediate():
            rows = list(
                self._db.table("bookings").rows_where(
                    "id = ? and conversation_id = ? and cancelled_at is null", [booking_id, conversation_id]
                )
            )
            if not rows:
                raise BookingNotFound(f"no active booking {booking_id} in this conversation")
            self._db.table("bookings").update(booking_id, {"cancelled_at": _stamp(self._clock())})
            return _booking(self._db.table("bookings").get(booking_id))

    def seats_taken(self, slot_key: str) -> int:
        """Active bookings of the slot."""
        row = self._db.execute(
            "select count(*) from bookings where slot_key = ? and cancelled_at is null", [slot_key]
        ).fetchone()
        return int(row[0])

    def seats_taken_by_slot(self, slot_keys: list[str]) -> dict[str, int]:
        """Active bookings of each of these slots."""
        if not slot_keys:
            return {}
        marks = ", ".join("?" for _ in slot_keys)
        rows = self._db.execute(
            f"select slot_key, count(*) from bookings where cancelled_at is null and slot_key in ({marks}) "
            "group by slot_key",
            slot_keys,
        ).fetchall()
        return {key: int(count) for key, count in rows}

    def active_booking_of(self, conversation_id: str) -> Booking | None:
        """The resident's booking of a session that has not started yet, if any."""
        rows = list(
            self._db.table("bookings").rows_where(
                "conversation_id = ? and cancelled_at is null and starts_at > ?",
                [conversation_id, self._clock().astimezone(JAPAN).isoformat()],
                order_by="starts_at",
                limit=1,
            )
        )
        return _booking(rows[0]) if rows else None

    def upcoming(self) -> list[Booking]:
        """Every active booking of a session still to come, soonest first (for the console)."""
        now = self._clock().astimezone(JAPAN).isoformat()
        rows = self._db.table("bookings").rows_where(
            "cancelled_at is null and starts_at > ?", [now], order_by="starts_at"
        )
        return [_booking(row) for row in rows]

    def due_for_reminder(self, channels: list[str]) -> list[Booking]:
        """Active bookings on these channels whose session is tomorrow (Japan time) and not yet reminded."""
        if not channels:
            return []
        tomorrow = (self._clock().astimezone(JAPAN) + timedelta(days=1)).date().isoformat()
        marks = ", ".join("?" for _ in channels)
        rows = self._db.table("bookings").rows_where(
            f"cancelled_at is null and reminded_at is null and substr(starts_at, 1, 10) = ? and channel in ({marks})",
            [tomorrow, *channels],
            order_by="starts_at",
        )
        return [_booking(row) for row in rows]

    def mark_reminded(self, booking_id: int) -> None:
        """Record that the day-before reminder went to the outbox."""
        self._db.table("bookings").update(booking_id, {"reminded_at": _stamp(self._clock())})

    def purge_conversations(self, stale_conversations_sql: str, params: list[Any]) -> None:
        """Delete the bookings of the conversations the purge removes (inside its transaction)."""
        self._db.execute(f"delete from bookings where conversation_id in ({stale_conversations_sql})", params)

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[None]:
        """A write transaction that takes SQLite's write lock at once, so a count and its insert are one step."""
        conn = self._db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _booking(row: dict[str, Any]) -> Booking:
    return Booking(
        id=row["id"],
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        slot_key=row["slot_key"],
        venue_id=row["venue_id"],
        starts_at=datetime.fromisoformat(row["starts_at"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        cancelled_at=datetime.fromisoformat(row["cancelled_at"]) if row["cancelled_at"] else None,
    )
