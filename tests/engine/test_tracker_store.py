"""The engine's tracker store writes and reads exactly what Rasa's own SQL store does, in a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine.tracker_store import PrivateSQLTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [login_mynaportal]
slots:
  procedure: {type: text, influence_conversation: false, mappings: [{type: custom}]}
"""
)


def first_turn() -> list[Event]:
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("マイナポータルにログインしたいです", {"name": "login_mynaportal", "confidence": 0.9}),
        SlotSet("procedure", "login_mynaportal"),
        BotUttered("スマートフォンの種類を教えてください。"),
        ActionExecuted("action_listen"),
    ]


def second_turn() -> list[Event]:
    return [UserUttered("できました", {"name": "login_mynaportal", "confidence": 0.8}), BotUttered("次へ進みます。")]


def stores(tmp_path: Path) -> tuple[PrivateSQLTrackerStore, SQLTrackerStore]:
    db = str(tmp_path / "tracker.db")
    return PrivateSQLTrackerStore(DOMAIN, dialect="sqlite", db=db), SQLTrackerStore(DOMAIN, dialect="sqlite", db=db)


def test_what_ours_saves_rasa_reads_back_unchanged_turn_after_turn(tmp_path: Path) -> None:
    ours, rasas = stores(tmp_path)
    tracker = DialogueStateTracker.from_events("web:abc", first_turn(), DOMAIN.slots)
    asyncio.run(ours.save(tracker))
    # The next turn starts from the tracker as read back, as Rasa's message processor does.
    next_turn = asyncio.run(ours.retrieve("web:abc"))
    assert next_turn is not None
    for event in second_turn():
        tracker.update(event)
        next_turn.update(event)
    asyncio.run(ours.save(next_turn))
    full = asyncio.run(rasas.retrieve_full_tracker("web:abc"))
    assert full is not None and list(full.events) == list(tracker.events)
    read_by_rasa = asyncio.run(rasas.retrieve("web:abc"))
    read_by_ours = asyncio.run(ours.retrieve("web:abc"))
    assert read_by_rasa is not None and read_by_ours is not None
    assert list(read_by_ours.events) == list(read_by_rasa.events) == list(tracker.events)[1:]
    assert read_by_ours.get_slot("procedure") == "login_mynaportal"
    rows = sqlite3.connect(tmp_path / "tracker.db").execute("SELECT type_name, intent_name, action_name FROM events")
    assert [row for row in rows][:4] == [
        ("action", None, "action_session_start"),
        ("session_started", None, None),
        ("action", None, "action_listen"),
        ("user", "login_mynaportal", None),
    ]


def test_ours_reads_what_rasas_own_store_wrote(tmp_path: Path) -> None:
    ours, rasas = stores(tmp_path)
    tracker = DialogueStateTracker.from_events("web:def", first_turn() + second_turn(), DOMAIN.slots)
    asyncio.run(rasas.save(tracker))
    read = asyncio.run(ours.retrieve_full_tracker("web:def"))
    assert read is not None and list(read.events) == list(tracker.events)
    assert asyncio.run(ours.retrieve("web:nobody")) is None


def test_the_sqlite_file_is_in_wal_mode_for_several_engine_processes(tmp_path: Path) -> None:
    stores(tmp_path)
    mode = sqlite3.connect(tmp_path / "tracker.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_two_engines_taking_turns_read_what_rasa_reads_after_each_turn(tmp_path: Path) -> None:
    # Each engine keeps the rows it has read and reads only newer ones: the other engine's turns and a new
    # session must still come out as Rasa's query returns them.
    first_engine, rasas = stores(tmp_path)
    second_engine = PrivateSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    asyncio.run(first_engine.save(DialogueStateTracker.from_events("web:long", first_turn(), DOMAIN.slots)))

    def new_session() -> list[Event]:
        return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]

    turns = [second_turn] * 4 + [new_session] + [second_turn] * 3
    for number, turn in enumerate(turns):
        engine = (first_engine, second_engine)[number % 2]
        tracker = asyncio.run(engine.retrieve("web:long"))
        assert tracker is not None
        for event in turn():  # made now, so that timestamps follow the turns' order
            tracker.update(event)
        asyncio.run(engine.save(tracker))
        expected = asyncio.run(rasas.retrieve("web:long"))
        assert expected is not None
        for reader in (first_engine, second_engine):
            read = asyncio.run(reader.retrieve("web:long"))
            assert read is not None and list(read.events) == list(expected.events), f"turn {number}"
    assert [event.type_name for event in expected.events][:2] == ["session_started", "action"]


def test_rows_rewritten_behind_the_engines_back_are_read_again(tmp_path: Path) -> None:
    # As tests/e2e/test_conversations.py moves a conversation three days into the past to expire its session.
    ours, rasas = stores(tmp_path)
    asyncio.run(ours.save(DialogueStateTracker.from_events("web:old", first_turn(), DOMAIN.slots)))
    assert asyncio.run(ours.retrieve("web:old")) is not None
    with sqlite3.connect(tmp_path / "tracker.db") as db:
        db.execute(
            "update events set timestamp = timestamp - 259200,"
            " data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - 259200)"
        )
    read, expected = asyncio.run(ours.retrieve("web:old")), asyncio.run(rasas.retrieve("web:old"))
    assert read is not None and expected is not None
    assert [event.timestamp for event in read.events] == [event.timestamp for event in expected.events]
