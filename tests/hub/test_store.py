"""The hub's store: identities kept hashed, turn-bound offers, the redacted transcript, the outbox, the purge."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.hub.messages import BotMessage, QuickReply
from bot.hub.store import (
    MIGRATION_SETS,
    ConversationNotFound,
    ConversationStore,
    DatabaseTooNew,
    StoreThread,
    parse_offer_key,
)

START = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "hub.db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_path: Path, clock: Clock) -> Iterator[ConversationStore]:
    opened = ConversationStore.open(db_path, clock=clock)
    yield opened
    opened.close()


def file_bytes(directory: Path) -> bytes:
    """Everything SQLite wrote: the database, its write-ahead log and shared memory file."""
    return b"".join(path.read_bytes() for path in sorted(directory.iterdir()))


def test_open_creates_the_file_in_wal_mode_with_a_busy_timeout(store: ConversationStore, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        applied = {row[0] for row in conn.execute("select migration_set from _sqlite_migrations")}
    assert applied == {migrations.name for migrations in MIGRATION_SETS}
    assert store._db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_start_conversation_issues_a_fresh_id(store: ConversationStore) -> None:
    first = store.start_conversation("web", "token-one")
    second = store.start_conversation("web", "token-two")
    assert first.id.startswith("web:") and len(first.id) > len("web:") + 20
    assert (first.channel, first.mode, first.turn, first.pin_context) == ("web", "bot", 0, False)
    assert first.id != second.id


def test_identities_are_found_and_stored_only_hashed(store: ConversationStore, db_path: Path) -> None:
    token, line_user = "Zq3-secret-session-token", "U4af4980629a0f7f7b2c1c2e0f2e8f1d0"
    web = store.start_conversation("web", token)
    line = store.start_conversation("line", line_user, address=line_user)
    assert store.find_conversation("web", token) == web
    assert store.find_conversation("line", line_user) == line
    stored = file_bytes(db_path.parent)
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
    # The LINE id is kept only as the address to push to, never as the conversation id.
    assert line_user not in line.id


@pytest.mark.parametrize(("channel", "identity"), [("web", "other"), ("line", "token"), ("web", "")])
def test_an_unknown_identity_or_another_channels_is_not_found(
    store: ConversationStore, channel: str, identity: str
) -> None:
    conversation = store.start_conversation("web", "token")
    with pytest.raises(ConversationNotFound):
        store.find_conversation(channel, identity)
    with pytest.raises(ConversationNotFound):
        store.find_conversation("web", conversation.id)


def test_an_offer_belongs_to_its_turn(store: ConversationStore) -> None:
    conversation = store.start_conversation("web", "t")
    first = store.offer(conversation.id, [QuickReply("はい", "/affirm"), QuickReply("いいえ", "/deny")])
    assert first.turn == 1
    assert first.payload_for(first.key(1)) == "/deny"
    second = store.offer(conversation.id, [QuickReply("はい", "/affirm")])
    assert second.turn == 2 and store.current_offer(conversation.id) == second
    # The same button of the earlier turn no longer maps to anything.
    assert second.payload_for(first.key(0)) is None
    assert second.payload_for(second.key(0)) == "/affirm"
    assert second.payload_for(second.key(5)) is None


@pytest.mark.parametrize("key", ["", "q", "q1", "q1.", "q.1", "q1.2.3", "x1.2", "q１.2", "/affirm"])
def test_only_keys_the_hub_made_parse(key: str) -> None:
    assert parse_offer_key(key) is None


def test_offers_for_an_unknown_conversation_are_refused(store: ConversationStore) -> None:
    with pytest.raises(ConversationNotFound):
        store.offer("web:nobody", [QuickReply("はい", "/affirm")])


def test_the_outbox_keeps_order_until_delivered(store: ConversationStore) -> None:
    conversation = store.start_conversation("web", "t")
    ids = store.enqueue(
        conversation.id,
        [BotMessage("一つめ"), BotMessage("二つめ", [QuickReply("はい", "q1.0")], {"handoff": {"reason": "asked"}})],
    )
    pending = store.undelivered(conversation.id)
    assert [item.id for item in pending] == ids
    assert pending[1].message == BotMessage("二つめ", [QuickReply("はい", "q1.0")], {"handoff": {"reason": "asked"}})
    assert store.count_undelivered() == 2
    store.mark_delivered(ids[:1])
    assert [item.message.text for item in store.undelivered(conversation.id)] == ["二つめ"]


def test_a_failed_delivery_waits_for_its_retry(store: ConversationStore, clock: Clock) -> None:
    conversation = store.start_conversation("line", "U1", address="U1")
    [message_id] = store.enqueue(conversation.id, [BotMessage("こんにちは")])
    assert [item.id for item in store.due_for_delivery(["line"])] == [message_id]
    assert store.due_for_delivery(["kiosk"]) == []
    store.mark_failed([message_id], "HTTP 500", timedelta(seconds=30))
    assert store.due_for_delivery(["line"]) == []
    clock.now += timedelta(seconds=31)
    [due] = store.due_for_delivery(["line"])
    assert due.attempts == 1 and due.address == "U1"


def test_the_transcript_keeps_both_sides_in_order(store: ConversationStore) -> None:
    conversation = store.start_conversation("web", "t")
    store.record_resident_message(conversation.id, "カードをなくしました", pin_context=False)
    store.enqueue(conversation.id, [BotMessage("まず、警察に届けてください。")])
    store.enqueue(conversation.id, [BotMessage("職員です。お手伝いします。")], sender="staff")
    assert store.transcript(conversation.id) == [
        ("resident", "カードをなくしました"),
        ("bot", "まず、警察に届けてください。"),
        ("staff", "職員です。お手伝いします。"),
    ]


def test_resident_activity_and_pin_context_are_recorded(store: ConversationStore, clock: Clock) -> None:
    conversation = store.start_conversation("web", "t")
    clock.now += timedelta(minutes=5)
    store.record_resident_message(conversation.id, "暗証番号を忘れました", pin_context=True)
    again = store.conversation(conversation.id)
    assert again.last_activity_at == START + timedelta(minutes=5) and again.pin_context
    store.set_pin_context(conversation.id, False)
    assert not store.conversation(conversation.id).pin_context
    with pytest.raises(ConversationNotFound):
        store.record_resident_message("web:nobody", "こんにちは", pin_context=False)


def test_the_purge_removes_idle_conversations_with_everything_kept_about_them(
    store: ConversationStore, clock: Clock
) -> None:
    old = store.start_conversation("web", "old")
    store.record_resident_message(old.id, "古い話", pin_context=False)
    store.offer(old.id, [QuickReply("はい", "/affirm")])
    store.enqueue(old.id, [BotMessage("古い答え")])
    clock.now += timedelta(days=80)
    recent = store.start_conversation("web", "recent")
    clock.now += timedelta(days=11)
    assert store.purge(timedelta(days=90)) == 1
    with pytest.raises(ConversationNotFound):
        store.conversation(old.id)
    assert store.conversation(recent.id) == recent
    assert store.transcript(old.id) == [] and store.count_undelivered() == 0
    assert store._db.execute("select count(*) from offered_replies").fetchone()[0] == 0


def test_everything_outlives_the_process(db_path: Path) -> None:
    first = ConversationStore.open(db_path)
    conversation = first.start_conversation("web", "t")
    offer = first.offer(conversation.id, [QuickReply("できました", "/affirm")])
    first.enqueue(conversation.id, [BotMessage("つぎの手順です。")])
    first.close()
    again = ConversationStore.open(db_path)
    try:
        assert again.find_conversation("web", "t").turn == 1
        assert again.current_offer(conversation.id) == offer
        assert [item.message.text for item in again.undelivered(conversation.id)] == ["つぎの手順です。"]
    finally:
        again.close()


def test_a_database_of_the_first_hub_version_is_carried_over(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db = Database(db_path)
    db["conversations"].insert(
        {"id": "web:old", "channel": "web", "token_hash": hashlib.sha256(b"old-token").hexdigest(),
         "created_at": START.isoformat(), "last_seen_at": START.isoformat()},
        pk="id",
    )  # fmt: skip
    db["offered_replies"].insert({"conversation_id": "web:old", "position": 0, "title": "はい", "payload": "/affirm"})
    db.execute("PRAGMA user_version = 1")
    db.close()
    store = ConversationStore.open(db_path)
    try:
        carried = store.find_conversation("web", "old-token")
        assert (carried.id, carried.mode, carried.last_activity_at) == ("web:old", "bot", START)
        assert store.current_offer("web:old").replies == []
    finally:
        store.close()


def test_a_database_from_a_newer_hub_is_refused(db_path: Path) -> None:
    ConversationStore.open(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "insert into _sqlite_migrations (migration_set, name, applied_at) values ('hub.transcript', 'm999', 'x')"
        )
    with pytest.raises(DatabaseTooNew, match="m999"):
        ConversationStore.open(db_path)


async def test_the_store_thread_keeps_sqlite_off_the_event_loop(db_path: Path) -> None:
    db = await StoreThread.open(db_path)
    try:
        conversation = await db(lambda s: s.start_conversation("web", "t"))
        thread = await db(lambda s: threading.current_thread())
        assert thread is not threading.main_thread() and thread.name.startswith("hub-store")
        assert (await db(lambda s: s.find_conversation("web", "t"))) == conversation
    finally:
        await db.close()
