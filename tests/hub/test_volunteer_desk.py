"""Booking a volunteers' session in the chat, through the real hub app and web channel, on a fixed clock."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.city import JAPAN, load_city
from bot.hub import volunteer_desk
from bot.hub.app import create_app
from bot.hub.bookings import AlreadyBooked, SlotFull
from bot.hub.keys import HELPDESK, STORE
from bot.hub.store import ConversationStore
from bot.hub.volunteer_desk import BOOKED, CANCELLED, FULL, REMEMBER_PINS, REMINDER
from bot.plain_japanese import check_turn
from tests.hub.fake_engine import FakeEngine

MESSAGES = "/channels/web/messages"
# Friday evening: the example city's next sessions are Saturday at the library (1 seat) and Wednesday at 中央公民館.
FRIDAY_EVENING = datetime(2026, 12, 4, 18, 0, tzinfo=JAPAN).astimezone(timezone.utc)
LIBRARY_SATURDAY = "図書館 12/5(土)13:30"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def hub(aiohttp_client: AiohttpClient, fake_engine: FakeEngine, tmp_path: Path) -> TestClient[Any, Any]:
    app = create_app(fake_engine.hub_settings(tmp_path / "var"), env={}, clock=Clock(FRIDAY_EVENING))
    # The guide's answer to a request for in-person help: its own words, and the signal the hub books on.
    fake_engine.answer = [
        {"recipient_id": "x", "text": "会って、ゆっくり教えてもらえる場所があります。"},
        {"recipient_id": "x", "custom": {"event": "volunteer_booking"}},
    ]
    return await aiohttp_client(app)


async def post(client: TestClient[Any, Any], body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(MESSAGES, json=body)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def ask_for_a_session(client: TestClient[Any, Any], session: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"text": "スマホ教室を予約したい"}
    if session:
        body["session"] = session
    return await post(client, body)


async def tap(client: TestClient[Any, Any], answer: dict[str, Any], title: str) -> dict[str, Any]:
    offered = {b["title"]: b["payload"] for b in answer["messages"][-1]["quick_replies"]}
    assert title in offered, list(offered)
    return await post(client, {"payload": offered[title], "session": answer["session"]})


def texts(answer: dict[str, Any]) -> list[str]:
    return [m["text"] for m in answer["messages"]]


def buttons(answer: dict[str, Any]) -> list[str]:
    return [b["title"] for b in answer["messages"][-1]["quick_replies"]]


async def test_a_resident_books_a_session_and_gets_place_time_and_what_to_bring(hub: TestClient[Any, Any]) -> None:
    offer = await ask_for_a_session(hub)
    assert buttons(offer)[0] == LIBRARY_SATURDAY and buttons(offer)[-1] == "予約しない"
    assert all(len(title) <= 20 for title in buttons(offer))  # fits a LINE quick reply
    booked = await tap(hub, offer, LIBRARY_SATURDAY)
    said = texts(booked)
    assert said[0] == BOOKED
    assert "12月5日（土）13時30分から" in said[1] and "図書館 1階 おはなし室" in said[1]
    assert REMEMBER_PINS in said
    assert buttons(booked) == ["予約をとりけす", "メニュー"]
    assert not check_turn(said)  # plain Japanese limits of one turn
    # Asking again shows the booking rather than booking twice.
    again = await ask_for_a_session(hub, booked["session"])
    assert texts(again)[0] == "相談会の予約があります。" and buttons(again)[0] == "予約をとりけす"


async def test_two_residents_taking_the_last_seat_at_once_get_one_seat(hub: TestClient[Any, Any]) -> None:
    first, second = await asyncio.gather(ask_for_a_session(hub), ask_for_a_session(hub))
    results = await asyncio.gather(tap(hub, first, LIBRARY_SATURDAY), tap(hub, second, LIBRARY_SATURDAY))
    outcomes = sorted(texts(result)[0] for result in results)
    assert outcomes == sorted([BOOKED, FULL])
    full = next(result for result in results if texts(result)[0] == FULL)
    assert LIBRARY_SATURDAY not in buttons(full)  # only times with seats left are offered
    assert await hub.app[STORE](lambda s: s.bookings.seats_taken("toshokan@2026-12-05T13:30")) == 1
    ((booking, slot),) = await hub.app[HELPDESK].bookings()
    assert slot is not None and slot.venue.name == "みどり市立図書館" and booking.channel == "web"


def test_two_processes_taking_the_last_seat_at_once_get_one_seat(tmp_path: Path) -> None:
    sessions = load_city().volunteer_sessions
    assert sessions is not None
    slot = sessions.slot("toshokan@2026-12-05T13:30", FRIDAY_EVENING)
    assert slot is not None
    path = tmp_path / "hub.db"
    setup = ConversationStore.open(path)
    ids = [setup.start_conversation("web", f"token-{n}").id for n in range(6)]
    setup.close()
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def take_seat(conversation_id: str) -> None:
        store = ConversationStore.open(path)  # a connection of its own, as a second hub process has
        try:
            barrier.wait()
            store.bookings.book(conversation_id, "web", slot)
            outcomes.append("booked")
        except SlotFull:
            outcomes.append("full")
        finally:
            store.close()

    threads = [threading.Thread(target=take_seat, args=(cid,)) for cid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", *["full"] * (len(ids) - 1)]


async def test_cancelling_gives_the_seat_back_and_a_double_tap_is_harmless(hub: TestClient[Any, Any]) -> None:
    booked = await tap(hub, await ask_for_a_session(hub), LIBRARY_SATURDAY)
    cancelled = await tap(hub, booked, "予約をとりけす")
    assert texts(cancelled) == [CANCELLED]
    assert await hub.app[STORE](lambda s: s.bookings.seats_taken("toshokan@2026-12-05T13:30")) == 0
    twice = await post(
        hub, {"payload": booked["messages"][-1]["quick_replies"][0]["payload"], "session": booked["session"]}
    )
    assert "前のご案内" in texts(twice)[0]
    offer = await tap(hub, cancelled, "べつの日を予約")
    assert LIBRARY_SATURDAY in buttons(offer)
    other = await ask_for_a_session(hub)
    assert LIBRARY_SATURDAY in buttons(other)


async def test_not_booking_goes_back_to_the_menu(hub: TestClient[Any, Any], fake_engine: FakeEngine) -> None:
    offer = await ask_for_a_session(hub)
    fake_engine.answer = None
    declined = await tap(hub, offer, "予約しない")
    assert texts(declined) == [volunteer_desk.NOT_BOOKED, "echo: /show_menu"]


async def test_the_day_before_residents_on_push_channels_are_reminded_once(
    aiohttp_client: AiohttpClient, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    clock = Clock(FRIDAY_EVENING)
    client = await aiohttp_client(create_app(fake_engine.hub_settings(tmp_path / "var"), env={}, clock=clock))
    fake_engine.answer = [
        {"recipient_id": "x", "custom": {"event": "volunteer_booking"}},
        {"recipient_id": "x", "text": "…"},
    ]
    offer = await ask_for_a_session(client)
    booked = await tap(client, offer, "中央公民館 12/9(水)10:00")
    helpdesk = client.app[HELPDESK]
    assert await helpdesk.send_reminders(["web"]) == 0  # not the day before yet
    assert await helpdesk.send_reminders([]) == 0
    clock.now = datetime(2026, 12, 8, 9, 0, tzinfo=JAPAN)
    assert await helpdesk.send_reminders(["line"]) == 0  # only channels that push, and this booking is on web
    assert await helpdesk.send_reminders(["web"]) == 1
    assert await helpdesk.send_reminders(["web"]) == 0  # once
    response = await client.get(MESSAGES, headers={"Authorization": f"Bearer {booked['session']}"})
    reminder = await response.json()
    assert texts(reminder)[0] == REMINDER and "12月9日（水）10時から" in texts(reminder)[1]
    assert buttons(reminder) == ["予約をとりけす"]


def test_a_resident_holds_one_booking_at_a_time(tmp_path: Path) -> None:
    sessions = load_city().volunteer_sessions
    assert sessions is not None
    first, second = sessions.upcoming(FRIDAY_EVENING)[:2]
    store = ConversationStore.open(tmp_path / "hub.db", clock=lambda: FRIDAY_EVENING)
    conversation = store.start_conversation("web", "token")
    store.bookings.book(conversation.id, "web", first)
    with pytest.raises(AlreadyBooked):
        store.bookings.book(conversation.id, "web", second)
    store.close()
