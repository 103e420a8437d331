"""The console's accounts store: Argon2id hashes, and what the database keeps of a session."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.console.store import ConsoleStore


def test_passwords_are_kept_as_argon2id_hashes_and_sessions_as_hashes(tmp_path: Path) -> None:
    path = tmp_path / "console.db"
    store = ConsoleStore.open(path)
    try:
        store.create_account("yamada", "staff", "yamada-san-no-aikotoba", actor="test")
        session = store.log_in(
            "yamada",
            "yamada-san-no-aikotoba",
            previous_session=None,
            lockout_after=5,
            lockout_for=timedelta(minutes=15),
        )
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        (stored,) = db.execute("SELECT password_hash FROM accounts").fetchone()
        session_keys = [row[0] for row in db.execute("SELECT id_hash FROM sessions")]
    assert stored.startswith("$argon2id$") and "aikotoba" not in stored
    assert session.id not in session_keys and len(session_keys) == 1
