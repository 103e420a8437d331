"""The hub's durable inbox that the LINE channel keeps events in: once per event id, in order per sender,
senders side by side, a failing event retried then set aside, handled ids kept only for a while."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio

from bot.hub.inbox import MAX_ATTEMPTS, InboxEvent, InboxWorker
from bot.hub.store import ConversationStore, StoreThread


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[StoreThread]:
    store = await StoreThread.open(tmp_path / "hub.db")
    yield store
    await store.close()


def event(number: int, sender: str = "U1") -> InboxEvent:
    return InboxEvent("line", f"01EV{number:04d}", sender, {"number": number})


async def test_an_event_id_is_kept_once(db: StoreThread) -> None:
    worker = InboxWorker(db, "line", lambda e: asyncio.sleep(0))
    assert await worker.keep(event(1)) is True
    assert await worker.keep(event(1)) is False
    assert await db(lambda s: s.inbox.count_pending("line")) == 1


async def test_events_of_one_sender_are_handled_in_order_and_others_do_not_wait(db: StoreThread) -> None:
    handled: list[tuple[str, int]] = []
    stuck = asyncio.Event()

    async def handle(kept: InboxEvent) -> None:
        if kept.sender_key == "U-slow":
            await stuck.wait()  # a resident whose turn waits on a stalled engine
        handled.append((kept.sender_key, kept.body["number"]))

    worker = InboxWorker(db, "line", handle, poll_seconds=0.05)
    for number in range(3):
        await worker.keep(event(number, "U-slow"))
    for number in range(3, 8):
        await worker.keep(event(number, "U-fast"))
    worker.start()
    try:

        async def five_handled() -> None:
            while len(handled) < 5:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(five_handled(), 20)
        assert handled == [("U-fast", n) for n in range(3, 8)]
        stuck.set()
        await worker.idle()
        assert handled[5:] == [("U-slow", n) for n in range(3)]
    finally:
        await worker.stop()


async def test_an_event_left_unhandled_is_handled_by_the_next_worker(db: StoreThread) -> None:
    started = asyncio.Event()

    async def never_finishes(kept: InboxEvent) -> None:
        started.set()
        await asyncio.Event().wait()

    first = InboxWorker(db, "line", never_finishes)
    await first.keep(event(1))
    first.start()
    await started.wait()
    await first.stop(grace=0.1)  # the hub stopped half-way
    handled: list[int] = []

    async def handle(kept: InboxEvent) -> None:
        handled.append(kept.body["number"])

    second = InboxWorker(db, "line", handle)
    second.start()
    try:
        await second.idle()
    finally:
        await second.stop()
    assert handled == [1]


async def test_a_failing_event_is_retried_then_set_aside(db: StoreThread, caplog: pytest.LogCaptureFixture) -> None:
    tries: list[int] = []

    async def broken(kept: InboxEvent) -> None:
        tries.append(kept.body["number"])
        raise RuntimeError("boom")

    worker = InboxWorker(db, "line", broken, retry_after=0.001)
    await worker.keep(event(1))
    worker.start()
    try:
        await asyncio.wait_for(worker.idle(), 20)
    finally:
        await worker.stop()
    assert tries == [1] * MAX_ATTEMPTS
    assert "set aside" in caplog.text


def test_handled_events_keep_only_their_id_and_are_forgotten_later(tmp_path: Path) -> None:
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    clock = [now]
    store = ConversationStore.open(tmp_path / "hub.db", clock=lambda: clock[0])
    try:
        store.inbox.keep(event(1))
        store.inbox.handled("line", event(1).event_id)
        with sqlite3.connect(tmp_path / "hub.db") as conn:
            assert conn.execute("select body from inbox").fetchall() == [(None,)]
        assert store.inbox.keep(event(1)) is False  # a redelivery the next day is still recognised
        clock[0] = now + timedelta(days=4)
        assert store.inbox.forget_handled() == 1
    finally:
        store.close()
