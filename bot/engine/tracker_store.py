"""The engine's tracker store: Rasa's SQL store, private in its errors and lighter per turn."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

# Conversations whose events an engine keeps between turns (the most recently used); about 1,000 events of a
# long conversation take roughly a megabyte as parsed JSON.
KEPT_CONVERSATIONS = 500


@dataclass
class StoredSession:
    """The rows of one conversation's latest session already read, as Rasa's query would return them."""

    last_row_id: int = 0
    last_row_data: str = ""
    # (timestamp, type name, event as a dict) per row, in row order.
    rows: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)

    def add(self, row_id: int, timestamp: float, type_name: str, data: str) -> None:
        """Keep a newly read row; a session start drops rows older than it, which Rasa's query leaves out."""
        self.last_row_id, self.last_row_data = row_id, data
        self.rows.append((timestamp, type_name, json.loads(data)))
        if type_name == SessionStarted.type_name:
            self.rows = [row for row in self.rows if row[0] >= timestamp]

    def events(self) -> list[dict[str, Any]]:
        """The latest session's events: rows stamped at or after its latest start, or all rows without one."""
        starts = [timestamp for timestamp, type_name, _ in self.rows if type_name == SessionStarted.type_name]
        latest = max(starts, default=None)
        return [data for timestamp, _, data in self.rows if latest is None or timestamp >= latest]


class PrivateSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore with SQLAlchemy's `hide_parameters` on, and a turn's reads and writes trimmed.

    When a write fails (a locked or full disk), SQLAlchemy's error quotes the row it could not insert, which
    holds the resident's message; Rasa logs that error word for word. With the parameters hidden the log keeps
    the statement and the cause only.

    Per turn Rasa reads and parses every event of the session as ORM objects, and writes new ones one ORM
    object at a time; here an engine keeps the parsed events it has read and reads only rows stored since
    (see `_latest_session_events`), and new events go in as one multi-row insert. The rows, their order and
    what is read back are Rasa's. A SQLite file is in WAL mode, so several engine processes on
    one machine can read while one writes (one engine per conversation, see bot/hub/engine_ring.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rasas_engine: Any = self.engine  # type: ignore[has-type]
        rasas_engine.hide_parameters = True
        if rasas_engine.dialect.name == "sqlite":
            self._keep_sqlite_connections_open()
        self._sessions: OrderedDict[str, StoredSession] = OrderedDict()

    def _keep_sqlite_connections_open(self) -> None:
        """Pool SQLite connections (SQLAlchemy 1.4 opens and closes one per session) and put the file in WAL.

        Closing the last connection to a WAL file checkpoints it, which cost as much as the write itself on
        every turn (seen in a profile before this). With WAL, synchronous=NORMAL keeps every committed
        turn when an engine process is killed; only a power cut can lose the last turns.
        """
        import sqlalchemy as sa
        from sqlalchemy.pool import QueuePool

        rasas_engine: Any = self.engine  # type: ignore[has-type]
        url = rasas_engine.url
        rasas_engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=QueuePool, hide_parameters=True, connect_args={"check_same_thread": False}
        )

        @sa.event.listens_for(self.engine, "connect")
        def on_connect(connection: Any, record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        with self.engine.connect():
            pass  # WAL is a property of the file: set it now, before any engine process writes.
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions:
            with self.session_scope() as session:
                query = self._event_query(session, sender_id, fetch_events_from_all_sessions=True)
                events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data).all()]
        else:
            events = self._latest_session_events(sender_id)
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _latest_session_events(self, sender_id: str) -> list[dict[str, Any]]:
        """The latest session's events, reading only the rows stored since this engine last read them.

        Rasa reads and parses every event of the session on every turn, which grows with the conversation. Rows
        are only appended, in id order (one turn of a conversation at a time, under its lock), so the rows
        after the last one read are the only new ones, whichever engine wrote them. The last row read is read
        again and compared: when it changed or is gone (rows rewritten or deleted by hand, such as a test that
        moves a conversation into the past), everything is read again.
        """
        kept = self._sessions.pop(sender_id, None) or StoredSession()
        rows = self._rows_from(sender_id, kept.last_row_id)
        if kept.last_row_id and (not rows or rows[0][0] != kept.last_row_id or rows[0][3] != kept.last_row_data):
            kept = StoredSession()
            rows = self._rows_from(sender_id, 0)
        for row_id, timestamp, type_name, data in rows:
            if row_id > kept.last_row_id:
                kept.add(row_id, timestamp, type_name, data)
        self._sessions[sender_id] = kept
        while len(self._sessions) > KEPT_CONVERSATIONS:
            self._sessions.popitem(last=False)
        return kept.events()

    def _rows_from(self, sender_id: str, first_row_id: int) -> list[Any]:
        """The conversation's rows (id, timestamp, type name, data as stored) from `first_row_id` on, in order."""
        with self.session_scope() as session:
            return (
                session.query(self.SQLEvent.id, self.SQLEvent.timestamp, self.SQLEvent.type_name, self.SQLEvent.data)
                .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id >= first_row_id)
                .order_by(self.SQLEvent.id)
                .all()
            )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Write the events of the tracker that are not stored yet, in one statement."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
