"""Callbacks through the real hub app and the web channel: the number goes into the ticket and nowhere else."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.hub.core import ResidentMessage, Session
from bot.hub.handoff import Helpdesk
from bot.hub.keys import CORE, HELPDESK, STORE
from bot.hub.wording import CALLBACK_ASK_NUMBER, CALLBACK_CANCELLED, CALLBACK_NUMBER_UNCLEAR, STAFF_JOINED
from tests.hub.fake_engine import FakeEngine
from tests.hub.test_handoff import (
    SATURDAY_NIGHT,
    Start,
    engine_heard,
    fetch,
    guide_hands_over,
    say,
    start_hub,
    tap,
)

__all__ = ["start_hub"]  # the fixture, shared with the handoff tests
NUMBER = "090-1234-5678"


def everything_kept(data_dir: Path) -> bytes:
    """Every byte the hub wrote under its data directory (SQLite files, WAL, logs)."""
    return b"".join(path.read_bytes() for path in data_dir.rglob("*") if path.is_file())


async def test_outside_hours_a_resident_leaves_a_number_and_staff_see_it_until_they_resolve(
    start_hub: Start, fake_engine: FakeEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = await start_hub(now=SATURDAY_NIGHT)
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    answer = await say(client, None, "人と話したい")
    session = answer["session"]
    said = [m["text"] for m in answer["messages"]]
    # The guide's words on when the desk opens stand; the hub adds the offer of a call.
    assert any("0000-00-0000" in text for text in said)
    assert [b["title"] for b in answer["messages"][-1]["quick_replies"]] == ["電話してほしい"]

    asked = await tap(client, session, answer, "電話してほしい")
    assert [m["text"] for m in asked["messages"]][-1] == CALLBACK_ASK_NUMBER
    fake_engine.answer = None
    heard = len(fake_engine.received)
    taken = await say(client, session, f"{NUMBER}です")
    texts = [m["text"] for m in taken["messages"]]
    assert "5678" in texts[0] and NUMBER not in "".join(texts)
    assert len(fake_engine.received) == heard  # the number never went to the engine

    (ticket,) = await helpdesk.queue()
    assert (ticket.kind, ticket.callback_phone, ticket.reason) == ("callback", "09012345678", "step_failed")
    assert ticket.procedure == "portal_login"
    transcript = " ".join(entry.text for entry in await helpdesk.transcript(ticket.id))
    # Only the confirmation's last four digits are in the transcript; the whole number is not, nor in any log.
    assert "1234" not in transcript and "09012345678" not in transcript
    assert "5678" not in caplog.text and "1234" not in caplog.text

    # The resident goes on with the bot meanwhile.
    back = await tap(client, session, taken, "案内にもどる")
    assert engine_heard(fake_engine)[-1] == "/handoff_returned" and back["messages"]
    # Staff claim it without a word in the chat, cannot chat on it, and the number goes when it is resolved.
    await helpdesk.claim(ticket.id, "sato")
    assert STAFF_JOINED not in await fetch(client, session)
    with pytest.raises(ValueError, match="phone call"):
        await helpdesk.reply(ticket.id, "sato", "お電話します")
    assert b"09012345678" in everything_kept(tmp_path / "var")
    closed = await helpdesk.resolve(ticket.id, "sato")
    assert closed.callback_phone is None and closed.state == "resolved"
    assert b"09012345678" not in everything_kept(tmp_path / "var")


async def test_a_waiting_resident_nobody_claims_can_ask_for_a_call_instead(
    start_hub: Start, fake_engine: FakeEngine
) -> None:
    client, clock = await start_hub()
    helpdesk: Helpdesk = client.app[HELPDESK]
    guide_hands_over(fake_engine)
    session = (await say(client, None, "人と話したい"))["session"]
    clock.now += timedelta(minutes=6)
    assert await helpdesk.tell_unclaimed() == 1
    told = await client.get("/channels/web/messages", headers={"Authorization": f"Bearer {session}"})
    asked = await tap(client, session, await told.json(), "電話してほしい")
    # A PIN or half a number is not taken: asked again, and the digits are not kept.
    unclear = await say(client, session, "1234")
    assert [m["text"] for m in unclear["messages"]] == [CALLBACK_NUMBER_UNCLEAR]
    del asked
    taken = await say(client, session, "０９０－１２３４－５６７８")
    assert "5678" in taken["messages"][0]["text"]
    (ticket,) = await helpdesk.queue()
    assert ticket.kind == "callback" and ticket.callback_phone == "09012345678"
    (entry,) = [e for e in await helpdesk.transcript(ticket.id) if e.sender == "resident" and "＊" in e.text]
    assert "1234" not in entry.text
    # A callback is not a resident waiting in the chat: no second "nobody is free", nobody counted in the line.
    clock.now += timedelta(minutes=30)
    assert await helpdesk.tell_unclaimed() == 0
    assert await helpdesk._db(lambda s: s.tickets.waiting_count()) == 0


async def test_writing_something_else_instead_of_a_number_goes_on_with_the_bot(
    start_hub: Start, fake_engine: FakeEngine
) -> None:
    client, _ = await start_hub(now=SATURDAY_NIGHT)
    guide_hands_over(fake_engine)
    answer = await say(client, None, "人と話したい")
    await tap(client, answer["session"], answer, "電話してほしい")
    fake_engine.answer = None
    moved_on = await say(client, answer["session"], "やっぱり自分でやってみます")
    assert [m["text"] for m in moved_on["messages"]] == [CALLBACK_CANCELLED, "echo: やっぱり自分でやってみます"]
    assert await client.app[HELPDESK].queue() == []
    # And 「やめる」 stops the question too.
    guide_hands_over(fake_engine)
    again = await say(client, answer["session"], "人と話したい")
    asked = await tap(client, answer["session"], again, "電話してほしい")
    fake_engine.answer = None
    stopped = await tap(client, answer["session"], asked, "やめる")
    assert stopped["messages"][0]["text"] == CALLBACK_CANCELLED
    assert engine_heard(fake_engine)[-1] == "/handoff_returned"
    assert await client.app[HELPDESK].queue() == []


async def test_a_number_given_with_the_platforms_message_id_is_known_as_answered(
    start_hub: Start, fake_engine: FakeEngine
) -> None:
    client, _ = await start_hub(now=SATURDAY_NIGHT)
    guide_hands_over(fake_engine)
    answer = await say(client, None, "人と話したい")
    await tap(client, answer["session"], answer, "電話してほしい")
    core = client.app[CORE]
    conversation = await core.find("web", Session(answer["session"]))
    message = ResidentMessage("web", Session(answer["session"]), text=NUMBER, platform_message_id="m-phone")
    await core.handle(message)
    # A platform that delivers the same message again (LINE after a crash) finds it answered, not to be read again.
    assert await client.app[STORE](lambda s: s.answered_after(conversation.id, "m-phone"))
