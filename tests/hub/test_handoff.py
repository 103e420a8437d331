"""Live handoff through the real hub app and the plain web channel, with the fake engine and a fixed clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.city import JAPAN
from bot.hub.app import create_app
from bot.hub.handoff import RESUME_AFTER_STAFF, VOLUNTEER_REQUEST, Helpdesk
from bot.hub.keys import HELPDESK, STORE
from bot.hub.tickets import TicketStateError
from bot.hub.wording import (
    FEEDBACK_QUESTION,
    FEEDBACK_THANKS,
    HANDED_OVER,
    LEAVE_QUEUE_DONE,
    PASSED_ON,
    REDACTION_NOTICE,
    STAFF_ENDED,
    STAFF_JOINED,
    UNCLAIMED,
)
from tests.hub.fake_engine import FakeEngine

MESSAGES = "/channels/web/messages"
# The example city's desk: weekdays 8:30–17:15 in Japan, closed on public holidays.
MONDAY_MORNING = datetime(2026, 11, 30, 10, 0, tzinfo=JAPAN).astimezone(timezone.utc)
SATURDAY_NIGHT = datetime(2026, 11, 28, 22, 30, tzinfo=JAPAN).astimezone(timezone.utc)
HANDOFF = {
    "event": "handoff",
    "reason": "step_failed",
    "procedure": "portal_login",
    "procedure_title": "マイナポータルにログインする",
    "step": 3,
    "step_count": 6,
    "step_title": "アプリの「ログイン」を押します。",
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


Start = Callable[..., Awaitable[tuple[TestClient[Any, Any], Clock]]]


@pytest.fixture
def start_hub(aiohttp_client: AiohttpClient, fake_engine: FakeEngine, tmp_path: Path) -> Start:
    async def start(now: datetime = MONDAY_MORNING, **settings: Any) -> tuple[TestClient[Any, Any], Clock]:
        clock = Clock(now)
        app = create_app(fake_engine.hub_settings(tmp_path / "var", **settings), env={}, clock=clock)
        return await aiohttp_client(app), clock

    return start


def guide_hands_over(fake_engine: FakeEngine, signal: dict[str, Any] = HANDOFF) -> None:
    """The engine answers as the guide does when it offers a person: its contact list, and the handoff signal."""
    fake_engine.answer = [
        {"recipient_id": "x", "text": "うまくいかないようですね。職員に相談すると安心です。"},
        {"recipient_id": "x", "text": "みどり市役所 市民課 マイナンバー窓口\n電話：0000-00-0000"},
        {"recipient_id": "x", "custom": signal},
    ]


async def say(client: TestClient[Any, Any], session: str | None, text: str) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if session:
        body["session"] = session
    response = await client.post(MESSAGES, json=body)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def tap(client: TestClient[Any, Any], session: str, answer: dict[str, Any], title: str) -> dict[str, Any]:
    buttons = answer["messages"][-1]["quick_replies"]
    payload = next(b["payload"] for b in buttons if b["title"] == title)
    response = await client.post(MESSAGES, json={"payload": payload, "session": session})
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def fetch(client: TestClient[Any, Any], session: str) -> list[str]:
    response = await client.get(MESSAGES, headers={"Authorization": f"Bearer {session}"})
    assert response.status == 200
    return [m["text"] for m in (await response.json())["messages"]]


def engine_heard(fake_engine: FakeEngine) -> list[str]:
    return [body["message"] for body in fake_engine.received]


async def test_the_whole_round_trip_from_bot_to_staff_and_back(start_hub: Start, fake_engine: FakeEngine) -> None:
    client, _ = await start_hub()
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    answer = await say(client, None, "ログインで3回失敗しました")
    session = answer["session"]
    said = [m["text"] for m in answer["messages"]]
    # The hub says what happens next instead of the guide's list of phone numbers.
    assert said[0].startswith(HANDED_OVER) and not any("0000-00-0000" in text for text in said)
    assert [b["title"] for b in answer["messages"][-1]["quick_replies"]] == ["ボットにもどる"]
    (ticket,) = await helpdesk.queue()
    assert ticket.state == "waiting" and ticket.channel == "web" and ticket.reason == "step_failed"
    assert ticket.summary == (
        "「マイナポータルにログインする」 手順 3/6「アプリの「ログイン」を押します。」"
        "（同じ手順で2回うまくいかなかった）"
    )

    # While a person has it, the resident's words go to the console, never to the bot.
    fake_engine.answer = None
    heard = len(fake_engine.received)
    seen = helpdesk.version
    waiting = await say(client, answer["session"], "まだですか？暗証番号は1234です")
    # The hub's notice that the number was removed, and once that the words reached staff; the bot stays quiet.
    assert [m["text"] for m in waiting["messages"]] == [REDACTION_NOTICE, PASSED_ON]
    again = await say(client, answer["session"], "よろしくお願いします")
    assert again["messages"] == []
    assert len(fake_engine.received) == heard
    assert helpdesk.version != seen
    transcript = await helpdesk.transcript(ticket.id)
    typed = [entry.text for entry in transcript if entry.sender == "resident"][-2]
    assert typed.startswith("まだですか") and "1234" not in typed

    claimed = await helpdesk.claim(ticket.id, "sato")
    assert claimed.state == "claimed" and claimed.claimed_by == "sato"
    entry = await helpdesk.reply(ticket.id, "sato", "職員の佐藤です。どの画面で止まっていますか？")
    assert entry.sender == "staff"
    assert await fetch(client, session) == [STAFF_JOINED, "職員の佐藤です。どの画面で止まっていますか？"]
    await say(client, session, "ログインのボタンを押しても動きません")
    after = await helpdesk.transcript(ticket.id, after=entry.id)
    assert [(e.sender, e.text) for e in after] == [("resident", "ログインのボタンを押しても動きません")]

    back = await helpdesk.back_to_bot(ticket.id, "sato")
    assert back.state == "with_bot"
    assert engine_heard(fake_engine)[-1] == RESUME_AFTER_STAFF
    assert await fetch(client, session) == [STAFF_ENDED, f"echo: {RESUME_AFTER_STAFF}"]
    await say(client, session, "できました")
    assert engine_heard(fake_engine)[-1] == "できました"
    assert await helpdesk.queue() == []


async def test_staff_cannot_take_a_ticket_twice_or_reply_without_it(start_hub: Start, fake_engine: FakeEngine) -> None:
    client, _ = await start_hub()
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    await say(client, None, "人と話したい")
    (ticket,) = await helpdesk.queue()
    with pytest.raises(TicketStateError, match="claim it"):
        await helpdesk.reply(ticket.id, "sato", "こんにちは")
    await helpdesk.claim(ticket.id, "sato")
    with pytest.raises(TicketStateError, match="by sato"):
        await helpdesk.claim(ticket.id, "suzuki")
    with pytest.raises(TicketStateError, match="empty"):
        await helpdesk.reply(ticket.id, "sato", "   ")
    # A PIN typed by staff by mistake never reaches the resident or the store.
    entry = await helpdesk.reply(ticket.id, "sato", "暗証番号 5678 を入れてください")
    assert "5678" not in entry.text


async def test_outside_hours_the_guide_answers_and_no_ticket_waits(start_hub: Start, fake_engine: FakeEngine) -> None:
    client, _ = await start_hub(now=SATURDAY_NIGHT)
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    answer = await say(client, None, "人と話したい")
    said = [m["text"] for m in answer["messages"]]
    assert any("0000-00-0000" in text for text in said) and not said[0].startswith(HANDED_OVER)
    assert await helpdesk.queue() == []
    fake_engine.answer = None
    await say(client, answer["session"], "やっぱり自分でやってみます")
    assert engine_heard(fake_engine)[-1] == "やっぱり自分でやってみます"
    stats = await helpdesk.statistics()
    assert [(s.procedure, s.step, s.handoffs) for s in stats.stuck_steps] == [("portal_login", 3, 1)]


async def test_a_public_holiday_counts_as_outside_hours(start_hub: Start, fake_engine: FakeEngine) -> None:
    # 2027-01-11 is 成人の日, a Monday: the example city's desk is closed.
    holiday_morning = datetime(2027, 1, 11, 10, 0, tzinfo=JAPAN).astimezone(timezone.utc)
    client, _ = await start_hub(now=holiday_morning)
    guide_hands_over(fake_engine)
    await say(client, None, "人と話したい")
    assert await client.app[HELPDESK].queue() == []


async def test_nobody_claims_in_time_the_resident_is_told_once_and_can_go_elsewhere(
    start_hub: Start, fake_engine: FakeEngine
) -> None:
    client, clock = await start_hub()
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    session = (await say(client, None, "人と話したい"))["session"]
    assert await helpdesk.tell_unclaimed() == 0
    clock.now += timedelta(minutes=6)
    assert await helpdesk.tell_unclaimed() == 1
    told = await client.get(MESSAGES, headers={"Authorization": f"Bearer {session}"})
    body = await told.json()
    texts = [m["text"] for m in body["messages"]]
    assert texts[0] == UNCLAIMED and "0000-00-0000" in texts[1]
    choices = [b["title"] for b in body["messages"][-1]["quick_replies"]]
    assert choices == ["このまま待つ", "電話してほしい", "相談会の案内", "ボットにもどる"]
    clock.now += timedelta(minutes=6)
    assert await helpdesk.tell_unclaimed() == 0  # said once
    fake_engine.answer = None
    answer = await tap(client, session, body, "相談会の案内")
    assert [m["text"] for m in answer["messages"]] == [LEAVE_QUEUE_DONE, f"echo: {VOLUNTEER_REQUEST}"]
    assert await helpdesk.queue() == []
    (closed,) = await helpdesk.queue(include_closed=True)
    assert closed.state == "with_bot"


async def test_the_resident_can_stop_waiting_and_the_bot_goes_on(start_hub: Start, fake_engine: FakeEngine) -> None:
    client, _ = await start_hub()
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    answer = await say(client, None, "人と話したい")
    fake_engine.answer = None
    back = await tap(client, answer["session"], answer, "ボットにもどる")
    assert [m["text"] for m in back["messages"]] == [LEAVE_QUEUE_DONE, f"echo: {RESUME_AFTER_STAFF}"]
    assert await helpdesk.queue() == []
    # The old button is now stale: tapping it again is answered, not applied.
    again = await client.post(
        MESSAGES, json={"payload": answer["messages"][-1]["quick_replies"][0]["payload"], "session": answer["session"]}
    )
    assert "前のご案内" in (await again.json())["messages"][0]["text"]


async def test_resolving_asks_once_whether_it_helped(start_hub: Start, fake_engine: FakeEngine) -> None:
    # 8:45 on Monday in Japan is still Sunday in UTC: statistics count the day in Japan.
    client, _ = await start_hub(now=datetime(2026, 11, 30, 8, 45, tzinfo=JAPAN).astimezone(timezone.utc))
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    session = (await say(client, None, "人と話したい"))["session"]
    (ticket,) = await helpdesk.queue()
    await helpdesk.claim(ticket.id, "sato")
    await helpdesk.resolve(ticket.id, "sato")
    response = await client.get(MESSAGES, headers={"Authorization": f"Bearer {session}"})
    body = await response.json()
    assert [m["text"] for m in body["messages"]][-2:] == [STAFF_ENDED, FEEDBACK_QUESTION]
    fake_engine.answer = None
    thanks = await tap(client, session, body, "良かった")
    assert thanks["messages"][0]["text"] == FEEDBACK_THANKS
    stats = await helpdesk.statistics()
    assert stats.feedback == {"good": 1, "bad": 0}
    assert stats.handoffs == 1 and stats.conversations == 1 and stats.handoff_rate == 1.0
    assert stats.conversations_per_day == [("2026-11-30", "web", 1)]  # the day in Japan
    assert len(stats.waiting_seconds) == 1
    with pytest.raises(TicketStateError, match="already resolved"):
        await helpdesk.resolve(ticket.id, "sato")


async def test_a_hub_restart_mid_handoff_loses_nothing(
    aiohttp_client: AiohttpClient, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    clock = Clock(MONDAY_MORNING)
    settings = fake_engine.hub_settings(tmp_path / "var")
    first = await aiohttp_client(create_app(settings, env={}, clock=clock))
    guide_hands_over(fake_engine)
    session = (await say(first, None, "人と話したい"))["session"]
    fake_engine.answer = None
    await say(first, session, "スマホの画面が真っ白です")
    await first.close()

    second = await aiohttp_client(create_app(settings, env={}, clock=clock))
    helpdesk: Helpdesk = second.app[HELPDESK]
    (ticket,) = await helpdesk.queue()
    said = [e.text for e in await helpdesk.transcript(ticket.id) if e.sender == "resident"]
    assert said[-1] == "スマホの画面が真っ白です"
    heard = len(fake_engine.received)
    await say(second, session, "まだですか")
    assert len(fake_engine.received) == heard  # still with a person after the restart
    await helpdesk.claim(ticket.id, "sato")
    await helpdesk.reply(ticket.id, "sato", "お待たせしました。")
    assert (await fetch(second, session))[-1] == "お待たせしました。"


async def test_the_console_is_woken_by_a_resident_message(start_hub: Start, fake_engine: FakeEngine) -> None:
    client, _ = await start_hub()
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    session = (await say(client, None, "人と話したい"))["session"]
    seen = helpdesk.version
    assert await helpdesk.wait_for_change(seen, timeout=0.05) == seen  # nothing new: times out
    waiter = asyncio.create_task(helpdesk.wait_for_change(seen, timeout=10))
    await asyncio.sleep(0)
    fake_engine.answer = None
    await say(client, session, "よろしくお願いします")
    assert await asyncio.wait_for(waiter, 5) > seen


async def test_tickets_go_with_the_conversation_when_it_is_purged(start_hub: Start, fake_engine: FakeEngine) -> None:
    client, clock = await start_hub()
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    await say(client, None, "人と話したい")
    (ticket,) = await helpdesk.queue()
    await helpdesk.add_note(ticket.id, "sato", "折り返し希望")
    clock.now += timedelta(days=91)
    removed = await client.app[STORE](lambda s: s.purge(timedelta(days=90)))
    assert removed == 1
    assert await helpdesk.queue(include_closed=True) == []
    assert (await helpdesk.statistics()).stuck_steps == []


async def test_a_resident_who_leaves_the_channel_takes_their_tickets_and_bookings_along(
    start_hub: Start, fake_engine: FakeEngine
) -> None:
    client, _ = await start_hub()
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    await say(client, None, "人と話したい")
    (ticket,) = await helpdesk.queue()
    await helpdesk.add_note(ticket.id, "sato", "折り返し希望")
    store = client.app[STORE]
    await store(lambda s: s.end_conversation(ticket.conversation_id))  # as LINE's unfollow does
    assert await helpdesk.queue(include_closed=True) == []
    assert (await helpdesk.statistics()).stuck_steps == []
