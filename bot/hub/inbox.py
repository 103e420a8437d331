"""A durable inbox for platform events: kept before the platform gets its 200, handled after, each one once.

A webhook channel (LINE) writes each event here, keyed by the platform's own event id, before it answers the
platform. The id is what makes a redelivered event a no-op, so it is recorded before any side effect. A worker
then hands the events to the channel, in order per sender and concurrently across senders; an event is marked
done only after it was handled, so one left behind by a hub that stopped half-way is handled at the next start.
The events' text has been redacted by the core before it is kept; a handled event keeps only its id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database, Migrations

if TYPE_CHECKING:
    from bot.hub.store import StoreThread

logger = logging.getLogger(__name__)

inbox_migrations = Migrations("hub.inbox")
# How long a handled event's id is kept to recognise a redelivery (LINE redelivers within hours).
KEEP_HANDLED = timedelta(days=3)
# An event that fails this often is set aside (logged, kept with its error) rather than retried for ever.
MAX_ATTEMPTS = 5


@inbox_migrations()
def m001_inbox(db: Database) -> None:
    db.table("inbox").create(
        {
            "seq": int,
            "channel": str,
            "event_id": str,
            "sender_key": str,
            "body": str,
            "received_at": str,
            "handled_at": str,
            "attempts": int,
            "last_error": str,
        },
        pk="seq",
        not_null={"channel", "event_id", "sender_key", "received_at", "attempts"},
        defaults={"attempts": 0},
    )
    db.table("inbox").create_index(["channel", "event_id"], unique=True)
    db.table("inbox").create_index(["channel", "handled_at"])


@dataclass(frozen=True)
class InboxEvent:
    """One kept event: its platform id, whose it is (events of one sender are handled in order) and its body."""

    channel: str
    event_id: str
    sender_key: str
    body: dict[str, Any]


class EventInbox:
    """The inbox table in the hub's database (blocking calls: run them through the StoreThread)."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def keep(self, event: InboxEvent) -> bool:
        """Record the event; False when its id was seen before (a redelivery), which then changes nothing."""
        with self._db.atomic():
            cursor = self._db.execute(
                "insert or ignore into inbox (channel, event_id, sender_key, body, received_at, attempts) "
                "values (?, ?, ?, ?, ?, 0)",
                [
                    event.channel,
                    event.event_id,
                    event.sender_key,
                    json.dumps(event.body, ensure_ascii=False),
                    self._clock().isoformat(timespec="microseconds"),
                ],
            )
        return cursor.rowcount == 1

    def pending(self, channel: str, limit: int = 200) -> list[InboxEvent]:
        """Events not handled yet, oldest first."""
        rows = self._db.execute(
            "select event_id, sender_key, body from inbox where channel = ? and handled_at is null "
            "order by seq limit ?",
            [channel, limit],
        ).fetchall()
        return [InboxEvent(channel, row[0], row[1], json.loads(row[2])) for row in rows]

    def handled(self, channel: str, event_id: str) -> None:
        """Mark the event done and drop its body: only the id stays, to recognise a redelivery."""
        with self._db.atomic():
            self._db.execute(
                "update inbox set handled_at = ?, body = null where channel = ? and event_id = ?",
                [self._clock().isoformat(timespec="microseconds"), channel, event_id],
            )

    def failed(self, channel: str, event_id: str, error: str) -> int:
        """Count a failed attempt; after MAX_ATTEMPTS the event is set aside. Returns the attempts so far."""
        with self._db.atomic():
            self._db.execute(
                "update inbox set attempts = attempts + 1, last_error = ? where channel = ? and event_id = ?",
                [error[:200], channel, event_id],
            )
            row = self._db.execute(
                "select attempts from inbox where channel = ? and event_id = ?", [channel, event_id]
            ).fetchone()
            attempts = int(row[0]) if row else MAX_ATTEMPTS
            if attempts >= MAX_ATTEMPTS:
                self._db.execute(
                    "update inbox set handled_at = ?, body = null where channel = ? and event_id = ?",
                    [self._clock().isoformat(timespec="microseconds"), channel, event_id],
                )
        return attempts

    def forget_handled(self, older_than: timedelta = KEEP_HANDLED) -> int:
        """Delete the ids of events handled long enough ago that no redelivery can come."""
        cutoff = (self._clock() - older_than).isoformat(timespec="microseconds")
        with self._db.atomic():
            cursor = self._db.execute("delete from inbox where handled_at is not null and handled_at < ?", [cutoff])
        return int(cursor.rowcount)

    def count_pending(self, channel: str) -> int:
        """How many events wait to be handled."""
        row = self._db.execute(
            "select count(*) from inbox where channel = ? and handled_at is null", [channel]
        ).fetchone()
        return int(row[0])


EventHandler = Callable[[InboxEvent], Awaitable[None]]


class InboxWorker:
    """Hands a channel's kept events to its handler: in order per sender, senders side by side, each once."""

    def __init__(
        self, db: StoreThread, channel: str, handler: EventHandler, *, poll_seconds: float = 2.0, retry_after: float = 2
    ) -> None:
        self._db = db
        self._channel = channel
        self._handler = handler
        self._poll_seconds = poll_seconds
        self._retry_after = retry_after
        self._wake = asyncio.Event()
        self._queues: dict[str, deque[InboxEvent]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._in_hand: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def keep(self, event: InboxEvent) -> bool:
        """Record an event durably (False for a redelivery) and wake the worker."""
        new = await self._db(lambda s: s.inbox.keep(event))
        if new:
            self._wake.set()
        return new

    def start(self) -> None:
        """Run in the background until stop(); events left by an earlier run are picked up first."""
        self._task = asyncio.create_task(self._run(), name=f"inbox-{self._channel}")
        self._wake.set()

    async def stop(self, grace: float = 15.0) -> None:
        """Stop taking events, let those in hand finish for up to `grace` seconds (a turn cut short would be
        handled again at the next start), and leave the rest in the inbox."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        senders = list(self._senders.values())
        if senders:
            await asyncio.wait(senders, timeout=grace)
        for task in senders:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def idle(self) -> None:
        """Wait until every kept event has been handled (tests, benchmarks)."""
        while True:
            pending = await self._db(lambda s: s.inbox.count_pending(self._channel))
            if not pending and not self._senders:
                return
            self._wake.set()
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        with contextlib.suppress(Exception):
            await self._db(lambda s: s.inbox.forget_handled())
        while True:
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()
            try:
                events = await self._db(lambda s: s.inbox.pending(self._channel))
            except Exception:
                logger.exception("inbox: %s: reading kept events failed", self._channel)
                continue
            for event in events:
                if event.event_id in self._in_hand:
                    continue
                self._in_hand.add(event.event_id)
                self._queues.setdefault(event.sender_key, deque()).append(event)
                if event.sender_key not in self._senders:
                    task = asyncio.create_task(self._drain(event.sender_key))
                    self._senders[event.sender_key] = task

    async def _drain(self, sender_key: str) -> None:
        queue = self._queues[sender_key]
        try:
            while queue and not self._stopping:
                event = queue[0]
                await self._handle(event)
                queue.popleft()
                self._in_hand.discard(event.event_id)
        finally:
            if not queue:
                self._queues.pop(sender_key, None)
            self._senders.pop(sender_key, None)

    async def _handle(self, event: InboxEvent) -> None:
        while True:
            try:
                await self._handler(event)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.exception("inbox: %s event %s failed", self._channel, event.event_id)
                attempts = await self._failed(event, f"{type(error).__name__}: {error}")
                if attempts >= MAX_ATTEMPTS:
                    logger.error("inbox: %s event %s set aside after %d tries", self._channel, event.event_id, attempts)
                    return
                await asyncio.sleep(self._retry_after * attempts)
                continue
            await self._db(lambda s: s.inbox.handled(self._channel, event.event_id))
            return

    async def _failed(self, event: InboxEvent, reason: str) -> int:
        return await self._db(lambda s: s.inbox.failed(self._channel, event.event_id, reason))
