"""Working a ticket through the console's API on the real hub: live transcript, replies, phone numbers, accounts."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console.store import ConsoleStore
from bot.hub.keys import CITY, STORE
from bot.hub.store import ConversationStore
from bot.hub.tickets import HandoffRequest
from bot.phone_numbers import PHONE_HIDDEN
from tests.console.conftest import Desk, logged_in

ROOT = Path(__file__).resolve().parents[2]


async def test_a_waiting_transcript_request_returns_when_the_resident_writes(desk: Desk) -> None:
    client, csrf = await logged_in(desk, "staff")
    first = await (await client.get("/console/api/tickets/1/transcript")).json()
    after, version = first["after"], first["version"]
    waiting = asyncio.create_task(
        client.get(f"/console/api/tickets/1/transcript?after={after}&version={version}&wait=20")
    )
    await asyncio.sleep(0.2)
    assert not waiting.done()
    assert (await client.post("/console/api/tickets/1/claim", headers={"X-CSRF-Token": csrf})).status == 200
    await desk.resident_says("画面が白いままです")
    answer = await (await asyncio.wait_for(waiting, 10)).json()
    texts = [entry["text"] for entry in answer["entries"]]
    assert (texts and texts[-1] == "画面が白いままです") or "画面が白いままです" in texts or answer["entries"]
    follow = await (await client.get(f"/console/api/tickets/1/transcript?after={answer['after']}")).json()
    everything = texts + [entry["text"] for entry in follow["entries"]]
    assert "画面が白いままです" in everything


async def test_a_staff_reply_reaches_the_resident_on_their_channel(desk: Desk) -> None:
    client, csrf = await logged_in(desk, "staff")
    headers = {"X-CSRF-Token": csrf}
    assert (await client.post("/console/api/tickets/1/claim", headers=headers)).status == 200
    sent = await client.post("/console/api/tickets/1/messages", json={"text": "どの画面ですか。"}, headers=headers)
    assert sent.status == 201
    assert (await sent.json())["sender"] == "staff"
    assert "どの画面ですか。" in await desk.resident_reads()


async def test_replying_to_a_ticket_not_claimed_is_a_conflict_with_the_reason(desk: Desk) -> None:
    client, csrf = await logged_in(desk, "staff")
    sent = await client.post(
        "/console/api/tickets/1/messages", json={"text": "こんにちは"}, headers={"X-CSRF-Token": csrf}
    )
    assert sent.status == 409
    assert "claim" in (await sent.json())["error"]


@pytest.mark.parametrize("text", ["", "   ", "あ" * 1001])
async def test_an_empty_or_too_long_reply_is_refused(desk: Desk, text: str) -> None:
    client, csrf = await logged_in(desk, "staff")
    headers = {"X-CSRF-Token": csrf}
    await client.post("/console/api/tickets/1/claim", headers=headers)
    await desk.resident_reads()
    sent = await client.post("/console/api/tickets/1/messages", json={"text": text}, headers=headers)
    assert sent.status in (400, 413)
    assert await desk.resident_reads() == []


async def test_volunteers_never_see_a_residents_phone_number(desk: Desk) -> None:
    def resident_leaves_a_number(store: ConversationStore) -> None:
        ticket = store.tickets.ticket(2)
        text = "折り返しは090-1234-5678にお願いします"
        store.record_resident_message(ticket.conversation_id, text, pin_context=False)

    await desk.hub.app[STORE](resident_leaves_a_number)
    volunteer, _ = await logged_in(desk, "volunteer")
    shown = await (await volunteer.get("/console/api/tickets/2/transcript")).json()
    page = await (await volunteer.get("/console/tickets/2")).text()
    assert "090-1234-5678" not in str(shown) and "090-1234-5678" not in page
    assert f"折り返しは{PHONE_HIDDEN}にお願いします" in [entry["text"] for entry in shown["entries"]]
    staff, _ = await logged_in(desk, "staff")
    shown = await (await staff.get("/console/api/tickets/2/transcript")).json()
    assert "折り返しは090-1234-5678にお願いします" in [entry["text"] for entry in shown["entries"]]


async def test_staff_see_a_callbacks_number_and_volunteers_never_do(desk: Desk) -> None:
    def both_ask_for_a_call(store: ConversationStore) -> None:
        for ticket_id in (1, 2):
            ticket = store.tickets.ticket(ticket_id)
            request = HandoffRequest("asked", ticket.procedure)
            store.tickets.ask_for_callback(ticket.conversation_id, "web", request, "09012345678")

    await desk.hub.app[STORE](both_ask_for_a_call)
    staff, csrf = await logged_in(desk, "staff")
    ticket = await (await staff.get("/console/api/tickets/1")).json()
    assert (ticket["kind"], ticket["callback_phone"]) == ("callback", "09012345678")
    page = await (await staff.get("/console/tickets/1")).text()
    assert 'href="tel:09012345678"' in page
    assert "電話で折り返し" in await (await staff.get("/console/queue")).text()
    volunteer, _ = await logged_in(desk, "volunteer")
    # A volunteer's ticket that became a callback went to staff, number and all.
    assert (await (await volunteer.get("/console/api/tickets")).json())["tickets"] == []
    hidden = await volunteer.get("/console/tickets/2")
    assert hidden.status in (403, 404) and "09012345678" not in await hidden.text()
    assert (await (await staff.get("/console/api/tickets/2")).json())["routed_to"] == "staff"
    # Staff answer a callback by phone, not in the chat; resolving it drops the number.
    headers = {"X-CSRF-Token": csrf}
    assert (await staff.post("/console/api/tickets/1/claim", headers=headers)).status == 200
    refused = await staff.post("/console/api/tickets/1/messages", json={"text": "お電話します"}, headers=headers)
    assert refused.status == 409
    assert (await staff.post("/console/api/tickets/1/resolve", headers=headers)).status == 200
    assert (await (await staff.get("/console/api/tickets/1")).json())["callback_phone"] is None


@pytest.mark.parametrize(
    "password",
    ["short-pw", "password1234", "PASSWORD1234 ", "aaaaaaaaaaaaaaa", "Yamada-Hanako"],
)
async def test_weak_passwords_are_refused(desk: Desk, password: str) -> None:
    admin, csrf = await logged_in(desk, "admin")
    body = {"name": "yamada-hanako", "role": "staff", "password": password}
    response = await admin.post("/console/api/accounts", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status == 400
    names = [a["name"] for a in (await (await admin.get("/console/api/accounts")).json())["accounts"]]
    assert "yamada-hanako" not in names


async def test_an_admin_adds_an_account_that_can_then_log_in(desk: Desk) -> None:
    admin, csrf = await logged_in(desk, "admin")
    body = {"name": "sato", "role": "volunteer", "password": "sato-san-no-aikotoba"}
    response = await admin.post("/console/api/accounts", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status == 201
    assert (await response.json())["role"] == "volunteer"
    again = await admin.post("/console/api/accounts", json=body, headers={"X-CSRF-Token": csrf})
    assert again.status == 409


async def test_a_disabled_account_loses_its_sessions(desk: Desk) -> None:
    staff, _ = await logged_in(desk, "staff")
    admin, csrf = await logged_in(desk, "admin")
    response = await admin.post(
        "/console/api/accounts/staff1/disabled", json={"disabled": True}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 200
    assert (await staff.get("/console/api/me")).status == 401


def test_create_admin_reads_the_password_from_stdin_never_argv(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bot.console", "create-admin", "kanri"]
    done = subprocess.run(command, input="yoi-pasuwado-desu-2026\n", env=env, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    weak = subprocess.run([*command[:-1], "kanri2"], input="password1234\n", env=env, capture_output=True, text=True)
    assert weak.returncode == 2
    store = ConsoleStore.open(tmp_path / "console.db")
    try:
        assert [(a.name, a.role) for a in store.accounts()] == [("kanri", "admin")]
    finally:
        store.close()


async def test_a_waiting_long_poll_answers_at_once_when_the_hub_stops(desk: Desk) -> None:
    client, _ = await logged_in(desk, "staff")
    first = await (await client.get("/console/api/tickets/1/transcript")).json()
    query = f"after={first['after']}&version={first['version']}&wait=25"
    waiting = asyncio.create_task(client.get(f"/console/api/tickets/1/transcript?{query}"))
    changes = asyncio.create_task(client.get(f"/console/api/changes?version={first['version']}&wait=25"))
    await asyncio.sleep(0.3)
    assert not waiting.done() and not changes.done()
    await desk.hub.app.on_shutdown.send(desk.hub.app)
    answer = await (await asyncio.wait_for(waiting, 5)).json()
    assert answer["entries"] == []
    assert (await (await asyncio.wait_for(changes, 5)).json())["version"] == first["version"]


async def test_staff_and_volunteers_see_the_booked_volunteer_sessions(desk: Desk) -> None:
    sessions = desk.hub.app[CITY].volunteer_sessions
    assert sessions is not None, "the example city lists volunteer sessions"
    slot = sessions.upcoming(desk.clock())[0]

    def book(store: ConversationStore) -> None:
        conversation = store.start_conversation("web", "booking-resident")
        store.bookings.book(conversation.id, "web", slot)

    await desk.hub.app[STORE](book)
    volunteer, _ = await logged_in(desk, "volunteer")
    (booked,) = (await (await volunteer.get("/console/api/bookings")).json())["bookings"]
    assert booked["venue"] == slot.venue.name and booked["minutes"] == slot.minutes
    assert booked["starts_at"] == slot.starts_at.isoformat()
    page = await (await volunteer.get("/console/bookings")).text()
    assert slot.venue.name in page and slot.starts_at.strftime("%Y-%m-%d %H:%M") in page
