"""The conversation core with a pushing fake channel and the fake engine: identities, failures, signals, outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from bot.city import load_city
from bot.hub.core import ConversationCore, PlatformUser, ResidentMessage, Session, TurnRefused, UnknownSession
from bot.hub.engine import EngineClient
from bot.hub.messages import BotMessage
from bot.hub.outbox import Outbox, retry_delay
from bot.hub.store import Conversation, StoreThread
from bot.hub.wording import ENGINE_DOWN_NOTICE
from channels import DeliveryFailed, PushChannel
from tests.hub.fake_engine import TOKEN, FakeEngine

LINE_USER = "U4af4980629a0f7f7b2c1c2e0f2e8f1d0"
YES_NO = [{"title": "はい", "payload": "/affirm"}, {"title": "いいえ", "payload": "/deny"}]


@dataclass
class FakePushChannel:
    """A channel that pushes, as LINE will: records what it sent, and fails when told to."""

    name: str = "line"
    sent: list[tuple[str | None, list[str]]] = field(default_factory=list)
    failures: list[DeliveryFailed] = field(default_factory=list)

    def add_routes(self, app: object) -> None:
        """No routes: the tests hand messages to the core directly."""

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((conversation.address, [m.text for m in messages]))


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Hub:
    core: ConversationCore
    outbox: Outbox
    db: StoreThread
    channel: FakePushChannel
    clock: Clock


@pytest_asyncio.fixture
async def make_core(fake_engine: FakeEngine, tmp_path: Path) -> AsyncIterator[object]:
    opened: list[StoreThread] = []
    async with aiohttp.ClientSession() as session:
        engine = EngineClient(session, fake_engine.url, TOKEN, 5.0, actions_url=fake_engine.url)

        async def make(channel: FakePushChannel | None = None, clock: Clock | None = None) -> Hub:
            clock = clock or Clock()
            db = await StoreThread.open(tmp_path / "hub.db", clock=clock)
            opened.append(db)
            channel = channel or FakePushChannel()
            outbox = Outbox(db, {channel.name: channel})
            core = ConversationCore(db, engine, load_city(), reply_timeout=2.0, on_outgoing=outbox.notify)
            return Hub(core, outbox, db, channel, clock)

        yield make
        for db in opened:
            await db.close()


async def test_the_fake_channel_keeps_the_push_contract() -> None:
    assert isinstance(FakePushChannel(), PushChannel)


async def test_a_platform_user_keeps_one_conversation_that_does_not_reveal_them(
    make_core: object, fake_engine: FakeEngine
) -> None:
    hub = await make_core()  # type: ignore[operator]
    first = await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER, LINE_USER), text="こんにちは"))
    second = await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER, LINE_USER), text="カード"))
    assert first.conversation.id == second.conversation.id
    assert LINE_USER not in first.conversation.id and first.session_token is None
    assert {body["sender"] for body in fake_engine.received} == {first.conversation.id}
    assert fake_engine.received[0]["metadata"] == {"channel": "line", "redacted": False}


async def test_two_first_messages_at_once_make_one_conversation(make_core: object, fake_engine: FakeEngine) -> None:
    hub = await make_core()  # type: ignore[operator]
    sender = PlatformUser(LINE_USER, LINE_USER)
    first, second = await asyncio.gather(
        hub.core.handle(ResidentMessage("line", sender, text="こんにちは")),
        hub.core.handle(ResidentMessage("line", sender, text="カードのことです")),
    )
    assert first.conversation.id == second.conversation.id
    assert len({body["sender"] for body in fake_engine.received}) == 1


async def test_push_channels_get_the_answer_through_the_outbox(make_core: object) -> None:
    hub = await make_core()  # type: ignore[operator]
    turn = await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER, LINE_USER), text="こんにちは"))
    assert await hub.outbox.deliver_due() == 1
    assert hub.channel.sent == [(LINE_USER, ["echo: こんにちは"])]
    assert await hub.core.undelivered(turn.conversation) == []
    assert await hub.outbox.deliver_due() == 0


async def test_a_failed_push_is_retried_with_back_off_and_never_dropped(make_core: object) -> None:
    channel = FakePushChannel(failures=[DeliveryFailed("HTTP 500"), DeliveryFailed("HTTP 429")])
    hub = await make_core(channel)  # type: ignore[operator]
    await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER, LINE_USER), text="こんにちは"))
    assert await hub.outbox.deliver_due() == 0
    assert await hub.outbox.deliver_due() == 0  # not due yet: the back-off holds it
    hub.clock.now += retry_delay(0)
    assert await hub.outbox.deliver_due() == 0  # the second failure
    hub.clock.now += retry_delay(1) - timedelta(seconds=1)
    assert await hub.outbox.deliver_due() == 0
    hub.clock.now += timedelta(seconds=1)
    assert await hub.outbox.deliver_due() == 1
    assert channel.sent == [(LINE_USER, ["echo: こんにちは"])]


def test_back_off_doubles_up_to_five_minutes() -> None:
    assert [retry_delay(n).total_seconds() for n in range(10)] == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


async def test_the_outbox_survives_a_hub_restart(make_core: object) -> None:
    channel = FakePushChannel(failures=[DeliveryFailed("connection refused")])
    hub = await make_core(channel)  # type: ignore[operator]
    await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER, LINE_USER), text="こんにちは"))
    assert await hub.outbox.deliver_due() == 0
    await hub.db.close()
    clock = Clock()
    clock.now += timedelta(minutes=1)
    restarted = await make_core(FakePushChannel(), clock)  # type: ignore[operator]
    assert await restarted.outbox.deliver_due() == 1
    assert restarted.channel.sent == [(LINE_USER, ["echo: こんにちは"])]


async def test_the_outbox_worker_delivers_on_its_own(make_core: object) -> None:
    hub = await make_core()  # type: ignore[operator]
    hub.outbox.start()
    try:
        await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER, LINE_USER), text="こんにちは"))
        for _ in range(100):
            if hub.channel.sent:
                break
            await asyncio.sleep(0.02)
        assert hub.channel.sent == [(LINE_USER, ["echo: こんにちは"])]
    finally:
        await hub.outbox.stop()


async def test_an_empty_answer_gives_the_apology_on_every_channel(make_core: object, fake_engine: FakeEngine) -> None:
    hub = await make_core()  # type: ignore[operator]
    fake_engine.answer = []
    turn = await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER, LINE_USER), text="できました"))
    assert turn.outcome == "engine_down"
    texts = [item.message.text for item in turn.messages]
    assert texts[0] == ENGINE_DOWN_NOTICE and load_city().helpdesk.phone in texts[-1]
    await hub.outbox.deliver_due()
    assert hub.channel.sent == [(LINE_USER, texts)]


async def test_an_answer_of_only_signals_is_no_answer(make_core: object, fake_engine: FakeEngine) -> None:
    hub = await make_core()  # type: ignore[operator]
    fake_engine.answer = [{"recipient_id": "x", "custom": {"handoff": {"reason": "asked"}}}]
    turn = await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER), text="人と話したい"))
    assert turn.outcome == "engine_down"
    assert turn.signals == [{"handoff": {"reason": "asked"}}]


async def test_custom_payloads_reach_the_core_and_are_not_shown(make_core: object, fake_engine: FakeEngine) -> None:
    hub = await make_core()  # type: ignore[operator]
    signal = {"handoff": {"reason": "asked", "procedure": "pin_forgot", "step": 2}}
    fake_engine.answer = [
        {"recipient_id": "x", "text": "職員におつなぎします。"},
        {"recipient_id": "x", "custom": signal},
    ]
    turn = await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER), text="人と話したい"))
    assert turn.outcome == "answered" and turn.signals == [signal]
    assert [item.message.text for item in turn.messages] == ["職員におつなぎします。"]


async def test_the_procedure_the_guide_opened_is_kept_on_the_conversation(
    make_core: object, fake_engine: FakeEngine
) -> None:
    hub = await make_core()  # type: ignore[operator]
    fake_engine.answer = [{"recipient_id": "x", "text": "ご案内します。"}]
    turn = await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER), text="こんにちは"))
    assert turn.conversation.procedure is None
    for procedure in ("pin_forgot", "card_lost"):
        fake_engine.answer = [
            {"recipient_id": "x", "text": "ご案内します。"},
            {"recipient_id": "x", "custom": {"event": "procedure_opened", "procedure": procedure}},
        ]
        await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER), text="暗証番号を忘れた"))
        assert (await hub.db(lambda s: s.conversation(turn.conversation.id))).procedure == procedure
    # Other signals, and a malformed one, leave it as it was.
    fake_engine.answer = [
        {"recipient_id": "x", "text": "すみません。"},
        {"recipient_id": "x", "custom": {"event": "fallback", "procedure": "portal_login"}},
        {"recipient_id": "x", "custom": {"event": "procedure_opened", "procedure": 3}},
    ]
    await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER), text="？"))
    assert (await hub.db(lambda s: s.conversation(turn.conversation.id))).procedure == "card_lost"


async def test_quick_replies_repeated_per_message_are_offered_once_on_the_last(
    make_core: object, fake_engine: FakeEngine
) -> None:
    hub = await make_core()  # type: ignore[operator]
    fake_engine.answer = [
        {"recipient_id": "x", "text": "一つめです。", "buttons": YES_NO},
        {"recipient_id": "x", "text": "二つめです。", "buttons": YES_NO},
    ]
    turn = await hub.core.handle(ResidentMessage("line", PlatformUser(LINE_USER), text="はじめ"))
    first, last = (item.message for item in turn.messages)
    assert first.quick_replies == []
    assert [r.title for r in last.quick_replies] == ["はい", "いいえ"]
    assert all(r.payload.startswith("q1.") for r in last.quick_replies)


async def test_a_session_channel_needs_a_known_token_and_text_to_start(make_core: object) -> None:
    hub = await make_core()  # type: ignore[operator]
    with pytest.raises(UnknownSession):
        await hub.core.handle(ResidentMessage("kiosk", Session("no-such-token"), text="こんにちは"))
    with pytest.raises(TurnRefused):
        await hub.core.handle(ResidentMessage("kiosk", Session(None), reply_key="q1.0"))
    turn = await hub.core.handle(ResidentMessage("kiosk", Session(None), text="こんにちは"))
    assert turn.session_token and turn.conversation.id.startswith("kiosk:")


def test_a_message_is_text_or_a_reply_never_both() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ResidentMessage("web", Session(None), text="はい", reply_key="q1.0")
    with pytest.raises(ValueError, match="exactly one"):
        ResidentMessage("web", Session(None))
