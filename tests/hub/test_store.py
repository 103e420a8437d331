"""The hub's store keeps session tokens hashed, offered replies per turn, and no resident text."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.hub.messages import QuickReply
from bot.hub.store import MIGRATIONS, ConversationNotFound, ConversationStore, DatabaseTooNew


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "hub.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[ConversationStore]:
    opened = ConversationStore.open(db_path)
    yield opened
    opened.close()


def file_bytes(directory: Path) -> bytes:
    """Everything SQLite wrote: the database, its write-ahead log and shared memory file."""
    return b"".join(path.read_bytes() for path in sorted(directory.iterdir()))


def test_open_creates_the_file_in_wal_mode_with_the_schema(store: ConversationStore, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(conversations)")}
        offered = {row[1] for row in conn.execute("PRAGMA table_info(offered_replies)")}
    # No column could hold what a resident typed.
    assert columns == {"id", "channel", "token_hash", "created_at", "last_seen_at"}
    assert offered == {"conversation_id", "position", "title", "payload"}


def test_start_conversation_issues_a_fresh_id_and_token(store: ConversationStore) -> None:
    first, first_token = store.start_conversation("web")
    second, second_token = store.start_conversation("web")
    assert first.id.startswith("web:") and len(first.id) > len("web:") + 20
    assert first.channel == "web"
    assert first.id != second.id and first_token != second_token
    assert len(first_token) >= 43


def test_the_token_finds_its_conversation_and_is_stored_only_hashed(store: ConversationStore, db_path: Path) -> None:
    conversation, token = store.start_conversation("web")
    assert store.conversation_for_token("web", token) == conversation
    stored = file_bytes(db_path.parent)
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored


@pytest.mark.parametrize("channel", ["web", "line"])
def test_an_unknown_token_or_another_channels_token_is_not_found(store: ConversationStore, channel: str) -> None:
    conversation, token = store.start_conversation("web")
    with pytest.raises(ConversationNotFound):
        store.conversation_for_token(channel, token + "x" if channel == "web" else token)
    with pytest.raises(ConversationNotFound):
        store.conversation_for_token("web", conversation.id)


def test_conversations_outlive_the_process(db_path: Path) -> None:
    first = ConversationStore.open(db_path)
    conversation, token = first.start_conversation("web")
    first.remember_offered_replies(conversation.id, [QuickReply("できました", "/affirm")])
    first.close()
    again = ConversationStore.open(db_path)
    try:
        assert again.conversation_for_token("web", token) == conversation
        assert again.offered_payloads(conversation.id) == {"/affirm"}
    finally:
        again.close()


def test_touch_records_when_the_resident_was_last_seen(db_path: Path) -> None:
    start = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
    now = [start]
    store = ConversationStore.open(db_path, clock=lambda: now[0])
    try:
        conversation, token = store.start_conversation("web")
        now[0] = start + timedelta(minutes=5)
        store.touch(conversation.id)
        touched = store.conversation_for_token("web", token)
        assert (touched.created_at, touched.last_seen_at) == (start, start + timedelta(minutes=5))
        with pytest.raises(ConversationNotFound):
            store.touch("web:nobody")
    finally:
        store.close()


def test_offered_replies_are_replaced_each_turn(store: ConversationStore) -> None:
    conversation, _ = store.start_conversation("web")
    other, _ = store.start_conversation("web")
    assert store.offered_payloads(conversation.id) == set()
    store.remember_offered_replies(conversation.id, [QuickReply("はい", "/affirm"), QuickReply("いいえ", "/deny")])
    store.remember_offered_replies(other.id, [QuickReply("最初から", "/restart")])
    assert store.offered_payloads(conversation.id) == {"/affirm", "/deny"}
    store.remember_offered_replies(conversation.id, [QuickReply("続きから", '/resume{"step": 3}')])
    assert store.offered_payloads(conversation.id) == {'/resume{"step": 3}'}
    store.remember_offered_replies(conversation.id, [])
    assert store.offered_payloads(conversation.id) == set()
    assert store.offered_payloads(other.id) == {"/restart"}


def test_replies_for_an_unknown_conversation_are_refused(store: ConversationStore) -> None:
    with pytest.raises(ConversationNotFound):
        store.remember_offered_replies("web:nobody", [QuickReply("はい", "/affirm")])


def test_a_database_from_a_newer_hub_is_refused(db_path: Path) -> None:
    ConversationStore.open(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(DatabaseTooNew, match="newer hub"):
        ConversationStore.open(db_path)
