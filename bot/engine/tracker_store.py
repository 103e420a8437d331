"""The engine's tracker store: Rasa's SQL store whose database errors do not quote what a resident typed."""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import SQLTrackerStore


class PrivateSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore with SQLAlchemy's `hide_parameters` on.

    When a write fails (a locked or full disk), SQLAlchemy's error quotes the row it could not insert, which
    holds the resident's message; Rasa logs that error word for word. With the parameters hidden the log keeps
    the statement and the cause only.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine.hide_parameters = True
