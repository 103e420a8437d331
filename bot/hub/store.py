"""The hub's own SQLite store: conversations, the quick replies on offer, and the redacted transcript and outbox.

Every text written here has been through `bot.privacy` first; personal numbers never reach this file.
Rasa keeps the dialogue state in its own tracker store, in another file. The methods are blocking: the
hub calls them through `StoreThread`, which keeps them off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlite_utils import Database, Migrations
from sqlite_utils.db import NotFoundError

from bot.hub.bookings import BookingStore, booking_migrations
from bot.hub.inbox import EventInbox, inbox_migrations
from bot.hub.messages import BotMessage, QuickReply
from bot.hub.tickets import TicketStore, ticket_migrations

# How long SQLite waits for another writer (the purge, a second hub) before it gives up.
BUSY_TIMEOUT_MS = 5000

Mode = Literal["bot", "person"]
Sender = Literal["resident", "bot", "staff"]
T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


class ConversationNotFound(LookupError):
    """No conversation matches the session token, platform user or id given."""


class DatabaseTooNew(RuntimeError):
    """The file has migrations applied that this hub does not know: a newer hub wrote it."""


@dataclass(frozen=True)
class Conversation:
    """One resident's conversation on one channel, as the hub knows it."""

    id: str
    channel: str
    mode: Mode
    turn: int
    pin_context: bool
    address: str | None
    created_at: datetime
    last_activity_at: datetime
    # The procedure the guide last opened for the resident (its id in data/procedures), or None.
    procedure: str | None = None
    # The hub is waiting for the resident's phone number for a callback (asked for by bot/hub/callbacks.py).
    awaiting_phone: bool = False


@dataclass(frozen=True)
class Offer:
    """The quick replies on offer in a conversation, and the turn that offered them."""

    turn: int
    replies: list[QuickReply]

    def key(self, position: int) -> str:
        """The opaque payload a channel shows for the reply at this position: tied to the turn."""
        return offer_key(self.turn, position)

    def payload_for(self, key: str) -> str | None:
        """The engine payload behind a key of this offer, or None when the key is not from this turn."""
        parsed = parse_offer_key(key)
        if parsed is None or parsed[0] != self.turn or not 0 <= parsed[1] < len(self.replies):
            return None
        return self.replies[parsed[1]].payload


@dataclass(frozen=True)
class OutboxItem:
    """A message to a resident, written before it is sent; `delivered_at` is None until it is."""

    id: int
    conversation_id: str
    channel: str
    address: str | None
    message: BotMessage
    attempts: int
    created_at: datetime
    sender: Sender = "bot"  # or "staff": a person's reply, which channels may label as such


@dataclass(frozen=True)
class TranscriptEntry:
    """One message of the transcript, either side; `id` increases, so it serves as a cursor."""

    id: int
    sender: Sender
    text: str
    at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    """One message of the transcript as a resident's client shows it again (after a reload)."""

    id: int
    sender: Sender
    text: str
    quick_replies: list[QuickReply]


def offer_key(turn: int, position: int) -> str:
    return f"q{turn}.{position}"


def parse_offer_key(key: str) -> tuple[int, int] | None:
    """(turn, position) of a key made by offer_key, or None for anything else."""
    if not key.startswith("q") or key.count(".") != 1:
        return None
    turn, position = key[1:].split(".")
    if not (turn.isascii() and turn.isdigit() and position.isascii() and position.isdigit()):
        return None
    return int(turn), int(position)


def identity_hash(channel: str, identity: str) -> str:
    """What the store keeps of a session token or a platform user id: a hash, never the value."""
    # The channel column keeps channels apart; the plain sha256 matches what the first hub version stored.
    del channel
    return hashlib.sha256(identity.encode()).hexdigest()


conversation_migrations = Migrations("hub.conversations")
offer_migrations = Migrations("hub.offers")
transcript_migrations = Migrations("hub.transcript")
MIGRATION_SETS = (
    conversation_migrations,
    offer_migrations,
    transcript_migrations,
    ticket_migrations,
    booking_migrations,
    inbox_migrations,
)


@conversation_migrations()
def m001_conversations(db: Database) -> None:
    if db.table("conversations").exists():
        _upgrade_first_layout(db)
        return
    db.table("conversations").create(
        {
            "id": str,
            "channel": str,
            "identity_hash": str,
            "address": str,
            "mode": str,
            "turn": int,
            "pin_context": int,
            "created_at": str,
            "last_activity_at": str,
        },
        pk="id",
        not_null={"channel", "identity_hash", "mode", "turn", "pin_context", "created_at", "last_activity_at"},
        defaults={"mode": "bot", "turn": 0, "pin_context": 0},
    )
    db.table("conversations").create_index(["channel", "identity_hash"], unique=True)
    db.table("conversations").create_index(["last_activity_at"])


def _upgrade_first_layout(db: Database) -> None:
    """Carry conversations over from the first hub version (one token hash each, offers without turns)."""
    db.table("conversations").transform(rename={"token_hash": "identity_hash", "last_seen_at": "last_activity_at"})
    db.table("conversations").add_column("address", str)
    db.table("conversations").add_column("mode", str, not_null_default="bot")
    db.table("conversations").add_column("turn", int, not_null_default=0)
    db.table("conversations").add_column("pin_context", int, not_null_default=0)
    db.table("conversations").create_index(["last_activity_at"], if_not_exists=True)
    # Offers of the first version had no turn: the resident's next tap is answered as an old button.
    if db.table("offered_replies").exists():
        db.table("offered_replies").drop()
    db.execute("PRAGMA user_version = 0")


@conversation_migrations()
def m002_procedure_and_phone_question(db: Database) -> None:
    db.table("conversations").add_column("procedure", str)
    db.table("conversations").add_column("awaiting_phone", int, not_null_default=0)


@offer_migrations()
def m001_offered_replies(db: Database) -> None:
    db.table("offered_replies").create(
        {"conversation_id": str, "turn": int, "position": int, "title": str, "payload": str},
        pk=("conversation_id", "position"),
        not_null={"turn", "title", "payload"},
        foreign_keys=[("conversation_id", "conversations", "id")],
    )


@transcript_migrations()
def m001_messages(db: Database) -> None:
    # One table for both sides: the resident's messages, and the outbox of what is sent to them.
    db.table("messages").create(
        {
            "id": int,
            "conversation_id": str,
            "sender": str,
            "text": str,
            "quick_replies": str,
            "custom": str,
            "created_at": str,
            "delivered_at": str,
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
        },
        pk="id",
        not_null={"conversation_id", "sender", "text", "created_at", "attempts"},
        defaults={"attempts": 0},
        foreign_keys=[("conversation_id", "conversations", "id")],
    )
    db.table("messages").create_index(["conversation_id", "id"])
    db.table("messages").create_index(["delivered_at", "next_attempt_at"])


@transcript_migrations()
def m002_platform_message_id(db: Database) -> None:
    # The platform's id of a resident message (LINE's message id, not personal data): an unsend removes that row.
    db.table("messages").add_column("platform_message_id", str)
    db.table("messages").create_index(["conversation_id", "platform_message_id"])


class ConversationStore:
    """Conversations, offers, transcript and outbox in one SQLite file (blocking calls: use StoreThread)."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = _now) -> None:
        self._db = db
        self._clock = clock
        self.tickets = TicketStore(db, clock)
        self.bookings = BookingStore(db, clock)

    @classmethod
    def open(cls, path: Path, clock: Callable[[], datetime] = _now) -> ConversationStore:
        """Open (or create) the file, switch on WAL and a busy timeout, and bring every migration set up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        db = Database(conn)
        try:
            db.enable_wal()
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA foreign_keys = ON")
            # Whatever is deleted (a purged conversation, a callback's number) is overwritten, not just unlinked.
            db.execute("PRAGMA secure_delete = ON")
            for migrations in MIGRATION_SETS:
                _refuse_unknown_migrations(db, migrations, path)
                migrations.apply(db)
        except BaseException:
            db.close()
            raise
        return cls(db, clock)

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    # Conversations

    def start_conversation(self, channel: str, identity: str, address: str | None = None) -> Conversation:
        """Start a conversation with a server-chosen id for this identity (a session token or a platform user)."""
        now = _stamp(self._clock())
        conversation_id = f"{channel}:{secrets.token_urlsafe(16)}"
        self._db.table("conversations").insert(
            {
                "id": conversation_id,
                "channel": channel,
                "identity_hash": identity_hash(channel, identity),
                "address": address,
                "mode": "bot",
                "turn": 0,
                "pin_context": 0,
                "created_at": now,
                "last_activity_at": now,
            }
        )
        return self.conversation(conversation_id)

    def find_or_start_conversation(self, channel: str, identity: str, address: str | None = None) -> Conversation:
        """The platform user's conversation, started on their first message (one call: two first messages
        arriving together still make one conversation, since the store runs one call at a time)."""
        try:
            return self.find_conversation(channel, identity)
        except ConversationNotFound:
            return self.start_conversation(channel, identity, address)

    def find_conversation(self, channel: str, identity: str) -> Conversation:
        """The conversation of this session token or platform user on this channel."""
        rows = self._db.table("conversations").rows_where(
            "channel = ? and identity_hash = ?", [channel, identity_hash(channel, identity)], limit=1
        )
        for row in rows:
            return _conversation(row)
        raise ConversationNotFound(f"no {channel} conversation has this identity")

    def conversation(self, conversation_id: str) -> Conversation:
        """The conversation with this id."""
        try:
            return _conversation(self._db.table("conversations").get(conversation_id))
        except NotFoundError as error:
            raise ConversationNotFound(f"no conversation {conversation_id!r}") from error

    def set_mode(self, conversation_id: str, mode: Mode) -> None:
        """Hand the conversation to a person, or back to the bot."""
        self._update(conversation_id, {"mode": mode})

    def set_procedure(self, conversation_id: str, procedure: str) -> None:
        """Remember the procedure the guide opened last (what a summary card or a ticket refers to)."""
        self._update(conversation_id, {"procedure": procedure})

    def set_awaiting_phone(self, conversation_id: str, awaiting: bool) -> None:
        """Whether the resident's next message is read as the phone number for a callback."""
        self._update(conversation_id, {"awaiting_phone": int(awaiting)})

    def set_pin_context(self, conversation_id: str, pin_context: bool) -> None:
        """Remember whether the assistant's latest turn spoke of a PIN or password."""
        self._update(conversation_id, {"pin_context": int(pin_context)})

    # Offers

    def offer(self, conversation_id: str, replies: Sequence[QuickReply]) -> Offer:
        """Start the conversation's next turn with these quick replies on offer, replacing the last ones."""
        with self._db.atomic():
            turn = self.conversation(conversation_id).turn + 1
            self._update(conversation_id, {"turn": turn})
            offered = self._db.table("offered_replies")
            offered.delete_where("conversation_id = ?", [conversation_id])
            if replies:
                offered.insert_all(
                    {"conversation_id": conversation_id, "turn": turn, "position": position, **_reply_row(r)}
                    for position, r in enumerate(replies)
                )
        return Offer(turn, list(replies))

    def current_offer(self, conversation_id: str) -> Offer:
        """The quick replies on offer now, with the turn that offered them."""
        turn = self.conversation(conversation_id).turn
        rows = self._db.table("offered_replies").rows_where(
            "conversation_id = ?", [conversation_id], order_by="position"
        )
        return Offer(turn, [QuickReply(row["title"], row["payload"]) for row in rows])

    # Transcript and outbox

    def record_resident_message(
        self, conversation_id: str, text: str, *, pin_context: bool, platform_message_id: str | None = None
    ) -> None:
        """Keep what the resident sent (already redacted) in the transcript, and note the activity."""
        now = _stamp(self._clock())
        row = {"conversation_id": conversation_id, "sender": "resident", "text": text, "created_at": now, "attempts": 0}
        if platform_message_id is not None:
            row["platform_message_id"] = platform_message_id
        with self._db.atomic():
            self._update(conversation_id, {"last_activity_at": now, "pin_context": int(pin_context)})
            self._db.table("messages").insert(row)

    def enqueue(self, conversation_id: str, messages: Iterable[BotMessage], sender: Sender = "bot") -> list[int]:
        """Write messages to the resident into the outbox (and so the transcript); return their ids in order."""
        now = _stamp(self._clock())
        ids: list[int] = []
        with self._db.atomic():
            for message in messages:
                table = self._db.table("messages").insert(
                    {
                        "conversation_id": conversation_id,
                        "sender": sender,
                        "text": message.text,
                        "quick_replies": json.dumps([_reply_row(r) for r in message.quick_replies], ensure_ascii=False),
                        "custom": json.dumps(message.custom, ensure_ascii=False) if message.custom else None,
                        "created_at": now,
                        "next_attempt_at": now,
                        "attempts": 0,
                    }
                )
                assert table.last_pk is not None
                ids.append(int(table.last_pk))
        return ids

    def undelivered(self, conversation_id: str) -> list[OutboxItem]:
        """The conversation's messages not yet delivered, oldest first."""
        return self._outbox_where("m.conversation_id = ?", [conversation_id])

    def due_for_delivery(self, channels: Iterable[str], limit: int = 50) -> list[OutboxItem]:
        """Undelivered messages on these channels whose next attempt is due, oldest first."""
        names = sorted(channels)
        if not names:
            return []
        marks = ", ".join("?" for _ in names)
        return self._outbox_where(
            f"c.channel in ({marks}) and m.next_attempt_at <= ?", [*names, _stamp(self._clock())], limit
        )

    def count_undelivered(self) -> int:
        """How many messages to residents wait in the outbox, on every channel."""
        row = self._db.execute(
            "select count(*) from messages where sender != 'resident' and delivered_at is null"
        ).fetchone()
        return int(row[0])

    def mark_delivered(self, ids: Iterable[int]) -> None:
        """Record that these messages reached the resident."""
        now = _stamp(self._clock())
        with self._db.atomic():
            for message_id in ids:
                self._db.execute(
                    "update messages set delivered_at = ? where id = ? and delivered_at is null", [now, message_id]
                )

    def mark_failed(self, ids: Iterable[int], error: str, retry_in: timedelta) -> None:
        """Record a failed delivery attempt and when to try again."""
        next_attempt = _stamp(self._clock() + retry_in)
        with self._db.atomic():
            for message_id in ids:
                self._db.execute(
                    "update messages set attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                    "where id = ? and delivered_at is null",
                    [error[:200], next_attempt, message_id],
                )

    def transcript(self, conversation_id: str) -> list[tuple[Sender, str]]:
        """Both sides of the conversation, oldest first, as (sender, redacted text)."""
        rows = self._db.table("messages").rows_where("conversation_id = ?", [conversation_id], order_by="id")
        return [(row["sender"], row["text"]) for row in rows]

    def transcript_entries(self, conversation_id: str, after: int = 0) -> list[TranscriptEntry]:
        """Both sides of the conversation after the message id `after`, oldest first, with ids and times."""
        rows = self._db.table("messages").rows_where(
            "conversation_id = ? and id > ?", [conversation_id, after], order_by="id"
        )
        return [
            TranscriptEntry(row["id"], row["sender"], row["text"], datetime.fromisoformat(row["created_at"]))
            for row in rows
        ]

    def purge(self, older_than: timedelta) -> int:
        """Delete conversations idle for longer than the retention period, with everything kept about them."""
        cutoff = _stamp(self._clock() - older_than)
        with self._db.atomic():
            stale = "select id from conversations where last_activity_at < ?"
            self.tickets.purge_conversations(stale, [cutoff])
            self.bookings.purge_conversations(stale, [cutoff])
            self._db.execute(f"delete from messages where conversation_id in ({stale})", [cutoff])
            self._db.execute(f"delete from offered_replies where conversation_id in ({stale})", [cutoff])
            cursor = self._db.execute("delete from conversations where last_activity_at < ?", [cutoff])
        return int(cursor.rowcount)

    def history(self, conversation_id: str, limit: int) -> list[HistoryEntry]:
        """The newest `limit` messages of both sides that reached their reader, oldest first (redacted text)."""
        rows = self._db.execute(
            "select id, sender, text, quick_replies from messages where conversation_id = ? "
            "and (sender = 'resident' or delivered_at is not null) order by id desc limit ?",
            [conversation_id, int(limit)],
        ).fetchall()
        return [
            HistoryEntry(
                row[0], row[1], row[2], [QuickReply(r["title"], r["payload"]) for r in json.loads(row[3] or "[]")]
            )
            for row in reversed(rows)
        ]

    # Platform events (LINE): the durable inbox, a conversation the resident ended, a message they took back

    @property
    def inbox(self) -> EventInbox:
        """The inbox of platform events kept before they are handled, in this same file."""
        return EventInbox(self._db, self._clock)

    def end_conversation(self, conversation_id: str) -> None:
        """Delete the conversation with everything kept about it (the resident blocked or left the channel)."""
        self._erase_on_delete()
        with self._db.atomic():
            self.tickets.purge_conversations("select ?", [conversation_id])
            self.bookings.purge_conversations("select ?", [conversation_id])
            self._db.execute("delete from messages where conversation_id = ?", [conversation_id])
            self._db.execute("delete from offered_replies where conversation_id = ?", [conversation_id])
            self._db.execute("delete from conversations where id = ?", [conversation_id])
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def remove_resident_message(self, conversation_id: str, platform_message_id: str) -> int:
        """Delete the resident's message with this platform id from the transcript; return how many rows went."""
        self._erase_on_delete()
        with self._db.atomic():
            cursor = self._db.execute(
                "delete from messages where conversation_id = ? and sender = 'resident' and platform_message_id = ?",
                [conversation_id, platform_message_id],
            )
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(cursor.rowcount)

    def answered_after(self, conversation_id: str, platform_message_id: str) -> bool:
        """Whether the resident's message with this platform id is in the transcript with an answer after it."""
        row = self._db.execute(
            "select exists(select 1 from messages where conversation_id = ? and sender != 'resident' and id > "
            "(select max(id) from messages where conversation_id = ? and sender = 'resident' "
            "and platform_message_id = ?))",
            [conversation_id, conversation_id, platform_message_id],
        ).fetchone()
        return bool(row[0])

    def _erase_on_delete(self) -> None:
        # What a resident takes back must leave the file too: deleted rows are overwritten, not just unlinked,
        # and the write-ahead log that still holds them is emptied after the delete.
        self._db.execute("PRAGMA secure_delete = ON")

    def _outbox_where(self, where: str, params: list[Any], limit: int | None = None) -> list[OutboxItem]:
        sql = (
            "select m.id, m.conversation_id, c.channel, c.address, m.text, m.quick_replies, m.custom, "
            "m.attempts, m.created_at, m.sender from messages m join conversations c on c.id = m.conversation_id "
            f"where m.sender != 'resident' and m.delivered_at is null and {where} order by m.id"
        )
        if limit is not None:
            sql += f" limit {int(limit)}"
        return [
            OutboxItem(
                id=row[0],
                conversation_id=row[1],
                channel=row[2],
                address=row[3],
                message=BotMessage(
                    row[4],
                    [QuickReply(r["title"], r["payload"]) for r in json.loads(row[5] or "[]")],
                    json.loads(row[6]) if row[6] else None,
                ),
                attempts=row[7],
                created_at=datetime.fromisoformat(row[8]),
                sender="staff" if row[9] == "staff" else "bot",
            )
            for row in self._db.execute(sql, params).fetchall()
        ]

    def _update(self, conversation_id: str, values: dict[str, Any]) -> None:
        try:
            self._db.table("conversations").update(conversation_id, values)
        except NotFoundError as error:
            raise ConversationNotFound(f"no conversation {conversation_id!r}") from error


class StoreThread:
    """Runs the store's blocking calls on one thread of their own, so SQLite never stalls the event loop."""

    def __init__(self, store: ConversationStore) -> None:
        self._store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-store")
        self._closed = False

    @classmethod
    async def open(cls, path: Path, clock: Callable[[], datetime] = _now) -> StoreThread:
        """Open the store on a worker thread (migrations may take a moment)."""
        store = await asyncio.get_running_loop().run_in_executor(None, ConversationStore.open, path, clock)
        return cls(store)

    async def __call__(self, work: Callable[[ConversationStore], T]) -> T:
        """Run one piece of work against the store, for example `await db(lambda s: s.conversation(cid))`."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, self._store)

    async def close(self) -> None:
        """Let queued work finish, then close the file (once; a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._executor, self._store.close)
        self._executor.shutdown(wait=True)


def _refuse_unknown_migrations(db: Database, migrations: Migrations, path: Path) -> None:
    # Against an empty database every migration of the set is pending: that is the list this hub knows.
    registered = {migration.name for migration in migrations.pending(Database(memory=True))}
    unknown = sorted({migration.name for migration in migrations.applied(db)} - registered)
    if unknown:
        raise DatabaseTooNew(
            f"{path} has migrations {', '.join(unknown)} in {migrations.name} that this hub does not know: "
            "run the newer hub, or move the file aside to start afresh"
        )


def _conversation(row: dict[str, Any]) -> Conversation:
    return Conversation(
        id=row["id"],
        channel=row["channel"],
        mode="person" if row["mode"] == "person" else "bot",
        turn=row["turn"],
        pin_context=bool(row["pin_context"]),
        address=row["address"],
        created_at=datetime.fromisoformat(row["created_at"]),
        last_activity_at=datetime.fromisoformat(row["last_activity_at"]),
        procedure=row.get("procedure"),
        awaiting_phone=bool(row.get("awaiting_phone")),
    )


def _reply_row(reply: QuickReply) -> dict[str, str]:
    return {"title": reply.title, "payload": reply.payload}
