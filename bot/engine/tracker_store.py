"""The engine's tracker store: Rasa's SQL store, private in its errors and lighter per turn."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)


class PrivateSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore with SQLAlchemy's `hide_parameters` on, and a turn's reads and writes trimmed.

    When a write fails (a locked or full disk), SQLAlchemy's error quotes the row it could not insert, which
    holds the resident's message; Rasa logs that error word for word. With the parameters hidden the log keeps
    the statement and the cause only.

    Per turn Rasa reads the session's events as ORM objects and writes new ones one ORM object at a time;
    here the same query reads only the `data` column and new events go in as one multi-row insert. The rows,
    their order and what is read back are Rasa's. A SQLite file is in WAL mode, so several engine processes on
    one machine can read while one writes (one engine per conversation, see bot/hub/engine_ring.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine.hide_parameters = True
        if self.engine.dialect.name == "sqlite":
            self._keep_sqlite_connections_open()

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
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data).all()]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

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
