"""The hub's own SQLite store: which session token belongs to which conversation, and what was offered.

It holds no resident text at all. Rasa keeps the dialogue in its own tracker store, in another file.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError

from bot.hub.messages import QuickReply


def _now() -> datetime:
    return datetime.now(timezone.utc)


class ConversationNotFound(LookupError):
    """No conversation matches the session token (or id) given."""


class DatabaseTooNew(RuntimeError):
    """The database file was written by a newer hub, with migrations this one does not know."""


@dataclass(frozen=True)
class Conversation:
    """One resident's conversation on one channel, as the hub knows it."""

    id: str
    channel: str
    created_at: datetime
    last_seen_at: datetime


def _create_conversations(db: Database) -> None:
    db.table("conversations").create(
        {"id": str, "channel": str, "token_hash": str, "created_at": str, "last_seen_at": str},
        pk="id",
        not_null={"channel", "token_hash", "created_at", "last_seen_at"},
    )
    db.table("conversations").create_index(["token_hash"], unique=True)
    db.table("offered_replies").create(
        {"conversation_id": str, "position": int, "title": str, "payload": str},
        pk=("conversation_id", "position"),
        not_null={"title", "payload"},
        foreign_keys=[("conversation_id", "conversations", "id")],
    )


# Append only: the database's user_version is the number of migrations already applied.
MIGRATIONS: list[Callable[[Database], None]] = [_create_conversations]


class ConversationStore:
    """Conversations and the quick replies last offered in each, kept in one SQLite file."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = _now) -> None:
        self._db = db
        self._clock = clock

    @classmethod
    def open(cls, path: Path, clock: Callable[[], datetime] = _now) -> ConversationStore:
        """Open (or create) the database file, switch on WAL and bring the schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        db = Database(path)
        try:
            db.enable_wal()
            db.execute("PRAGMA foreign_keys = ON")
            migrate(db)
        except BaseException:
            db.close()
            raise
        return cls(db, clock)

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    def start_conversation(self, channel: str) -> tuple[Conversation, str]:
        """Start a conversation with a server-chosen id; return it with the session token to hand out."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        conversation = Conversation(f"{channel}:{secrets.token_urlsafe(16)}", channel, now, now)
        self._db.table("conversations").insert(
            {
                "id": conversation.id,
                "channel": channel,
                "token_hash": _token_hash(token),
                "created_at": now.isoformat(timespec="microseconds"),
                "last_seen_at": now.isoformat(timespec="microseconds"),
            }
        )
        return conversation, token

    def conversation_for_token(self, channel: str, token: str) -> Conversation:
        """Find the conversation a session token belongs to on this channel."""
        rows = self._db.table("conversations").rows_where(
            "token_hash = ? and channel = ?", [_token_hash(token), channel], limit=1
        )
        for row in rows:
            return Conversation(
                row["id"],
                row["channel"],
                datetime.fromisoformat(row["created_at"]),
                datetime.fromisoformat(row["last_seen_at"]),
            )
        raise ConversationNotFound(f"no {channel} conversation has this session token")

    def touch(self, conversation_id: str) -> None:
        """Record that the resident was active in the conversation just now."""
        try:
            self._db.table("conversations").update(
                conversation_id, {"last_seen_at": self._clock().isoformat(timespec="microseconds")}
            )
        except NotFoundError as error:
            raise ConversationNotFound(f"no conversation {conversation_id!r}") from error

    def remember_offered_replies(self, conversation_id: str, replies: Iterable[QuickReply]) -> None:
        """Replace the quick replies on offer with those of the assistant's latest turn."""
        rows = [
            {"conversation_id": conversation_id, "position": position, "title": r.title, "payload": r.payload}
            for position, r in enumerate(replies)
        ]
        try:
            with self._db.atomic():
                self._db.table("offered_replies").delete_where("conversation_id = ?", [conversation_id])
                if rows:
                    self._db.table("offered_replies").insert_all(rows)
        except sqlite3.IntegrityError as error:
            raise ConversationNotFound(f"no conversation {conversation_id!r}") from error

    def offered_payloads(self, conversation_id: str) -> set[str]:
        """The payloads the resident may send back now: those offered in the assistant's latest turn."""
        rows = self._db.table("offered_replies").rows_where("conversation_id = ?", [conversation_id])
        return {row["payload"] for row in rows}


def migrate(db: Database) -> None:
    """Apply the migrations this database has not had yet, each with its version bump in one transaction."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise DatabaseTooNew(
            f"{db.conn.execute('PRAGMA database_list').fetchone()[2]} has schema version {version}, "
            f"this hub knows {len(MIGRATIONS)}: run the newer hub, or move the file aside to start afresh"
        )
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.atomic():
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
