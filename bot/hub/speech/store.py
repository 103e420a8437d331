"""The audio cache: synthesised speech as files on disk, indexed in SQLite by (text, voice, speed).

The index says which file holds which text in which voice and at which speed; the files hold the audio. A
file is written before its row, so a row always points at a whole file. Safe to share between threads.
Entries made ahead of time (`fixed`) stay; other text comes from whoever calls the speech endpoint, so at most
`spoken_limit` of those are kept, the oldest dropped first, and the disk cannot be filled from outside.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database, Migrations

from bot.hub.speech.voices import Audio, Speed

BUSY_TIMEOUT_MS = 5000
# Texts not made ahead of time kept at once: about 300 MB of speech at 24 kHz.
SPOKEN_LIMIT = 2000
EXTENSIONS = {"audio/mpeg": "mp3", "audio/wav": "wav"}
speech_migrations = Migrations("hub.speech")


@speech_migrations()
def m001_audio(db: Database) -> None:
    db.table("audio").create(
        {
            "key": str,
            "text": str,
            "voice": str,
            "speed": str,
            "content_type": str,
            "file": str,
            "fixed": bool,
            "created_at": str,
        },
        pk="key",
        not_null={"text", "voice", "speed", "content_type", "file", "fixed", "created_at"},
    )
    db.table("audio").create_index(["fixed", "created_at"])


@dataclass(frozen=True)
class CachedAudio:
    """Audio found in the cache, with the key that names it (an ETag for browsers)."""

    audio: Audio
    key: str


def cache_key(text: str, voice: str, speed: Speed) -> str:
    """The name of one text said by one voice at one speed."""
    return hashlib.sha256(f"{voice}\n{speed}\n{text}".encode()).hexdigest()


class AudioCache:
    """Speech already synthesised, in a directory: `index.db` and one file per entry."""

    def __init__(self, directory: Path, db: Database, spoken_limit: int = SPOKEN_LIMIT) -> None:
        self.directory = directory
        self._db = db
        self._spoken_limit = spoken_limit
        self._lock = threading.Lock()

    @classmethod
    def open(cls, directory: Path, spoken_limit: int = SPOKEN_LIMIT) -> AudioCache:
        """Open (or create) the cache in this directory, with WAL on and its migrations applied."""
        directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(directory / "index.db", timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        db = Database(conn)
        try:
            db.enable_wal()
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            speech_migrations.apply(db)
        except BaseException:
            db.close()
            raise
        return cls(directory, db, spoken_limit)

    def close(self) -> None:
        """Close the index."""
        self._db.close()

    def get(self, text: str, voice: str, speed: Speed) -> CachedAudio | None:
        """The audio for this text, voice and speed, or None when it was never made (or its file is gone)."""
        key = cache_key(text, voice, speed)
        with self._lock:
            rows = list(self._db.query("select content_type, file from audio where key = ?", [key]))
        if not rows:
            return None
        try:
            data = (self.directory / rows[0]["file"]).read_bytes()
        except FileNotFoundError:
            return None
        return CachedAudio(Audio(data, rows[0]["content_type"], voice), key)

    def put(self, text: str, speed: Speed, audio: Audio, *, fixed: bool = False) -> CachedAudio:
        """Keep this audio for the text at the speed, under the voice that made it; `fixed`: made ahead of time."""
        key = cache_key(text, audio.voice, speed)
        name = f"{key}.{EXTENSIONS.get(audio.content_type, 'bin')}"
        partial = self.directory / f"{name}.{threading.get_ident()}.part"
        partial.write_bytes(audio.data)
        partial.replace(self.directory / name)
        row = {
            "key": key,
            "text": text,
            "voice": audio.voice,
            "speed": speed,
            "content_type": audio.content_type,
            "file": name,
            "fixed": fixed,
            "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        }
        with self._lock:
            self._db.table("audio").upsert(row, pk="key")
            dropped = [] if fixed else self._drop_beyond_limit()
        for old in dropped:
            (self.directory / old).unlink(missing_ok=True)
        return CachedAudio(audio, key)

    def _drop_beyond_limit(self) -> list[str]:
        rows = list(
            self._db.query(
                "select key, file from audio where not fixed order by created_at desc limit -1 offset ?",
                [self._spoken_limit],
            )
        )
        with self._db.conn:
            self._db.conn.executemany("delete from audio where key = ?", [(row["key"],) for row in rows])
        return [row["file"] for row in rows]

    def count(self) -> int:
        """How many entries the index holds."""
        with self._lock:
            return self._db.table("audio").count
