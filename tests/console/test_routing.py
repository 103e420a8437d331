"""Routing tickets between staff and volunteers through the console's API and pages, on the real hub.

Ticket 1 starts with staff, ticket 2 with volunteers (tests/console/conftest.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from bot.hub.keys import STORE
from bot.hub.store import ConversationStore
from bot.hub.tickets import HandoffRequest
from tests.console.conftest import Desk, logged_in


async def send(client: TestClient[Any, Any], csrf: str, ticket_id: int, body: Any) -> Any:
    return await client.post(f"/console/api/tickets/{ticket_id}/route", json=body, headers={"X-CSRF-Token": csrf})


async def listed(client: TestClient[Any, Any]) -> dict[int, str]:
    """The ticket ids this account's queue lists, with where each is routed."""
    tickets = (await (await client.get("/console/api/tickets")).json())["tickets"]
    return {t["id"]: t["routed_to"] for t in tickets}


async def test_staff_send_a_ticket_to_volunteers_and_take_it_back(desk: Desk) -> None:
    staff, staff_csrf = await logged_in(desk, "staff")
    volunteer, volunteer_csrf = await logged_in(desk, "volunteer")
    assert await listed(volunteer) == {2: "volunteer"}
    response = await send(staff, staff_csrf, 1, {"to": "volunteer"})
    assert response.status == 200 and (await response.json())["routed_to"] == "volunteer"
    assert await listed(volunteer) == {1: "volunteer", 2: "volunteer"}
    assert (
        await volunteer.post("/console/api/tickets/1/claim", headers={"X-CSRF-Token": volunteer_csrf})
    ).status == 200
    reply = {"text": "スマホの画面を見ながら、いっしょにやりましょう。"}
    headers = {"X-CSRF-Token": volunteer_csrf}
    assert (await volunteer.post("/console/api/tickets/1/messages", json=reply, headers=headers)).status == 201
    assert reply["text"] in await desk.resident_reads()
    # Staff take it back: the volunteer loses it, and it waits for staff again.
    taken = await send(staff, staff_csrf, 1, {"to": "staff"})
    assert taken.status == 200
    assert (await taken.json())["state"] == "waiting" and (await taken.json())["claimed_by"] is None
    assert await listed(volunteer) == {2: "volunteer"}
    assert (await volunteer.get("/console/api/tickets/1")).status == 403
    assert (await volunteer.post("/console/api/tickets/1/messages", json=reply, headers=headers)).status == 403
    assert (await staff.post("/console/api/tickets/1/claim", headers={"X-CSRF-Token": staff_csrf})).status == 200
    admin, _ = await logged_in(desk, "admin")
    done = {
        (e["actor"], e["action"], e["target"])
        for e in (await (await admin.get("/console/api/audit")).json())["entries"]
    }
    assert {("staff1", "ticket.route_volunteer", "ticket:1"), ("staff1", "ticket.route_staff", "ticket:1")} <= done


async def test_a_claimed_ticket_is_released_when_it_changes_hands(desk: Desk) -> None:
    staff, csrf = await logged_in(desk, "staff")
    headers = {"X-CSRF-Token": csrf}
    assert (await staff.post("/console/api/tickets/1/claim", headers=headers)).status == 200
    moved = await (await send(staff, csrf, 1, {"to": "volunteer"})).json()
    assert (moved["state"], moved["claimed_by"], moved["claimed_at"]) == ("waiting", None, None)
    # Whoever held it no longer answers in the resident's chat.
    refused = await staff.post("/console/api/tickets/1/messages", json={"text": "まだ私です"}, headers=headers)
    assert refused.status == 409
    # Sent where it already is, nothing changes (a claim stands).
    assert (await staff.post("/console/api/tickets/2/claim", headers=headers)).status == 200
    same = await (await send(staff, csrf, 2, {"to": "volunteer"})).json()
    assert (same["state"], same["claimed_by"]) == ("claimed", "staff1")


async def test_a_callback_never_goes_to_volunteers(desk: Desk) -> None:
    def ask_for_a_call(store: ConversationStore) -> None:
        ticket = store.tickets.ticket(1)
        request = HandoffRequest("asked", ticket.procedure)
        store.tickets.ask_for_callback(ticket.conversation_id, "web", request, "09012345678")

    await desk.hub.app[STORE](ask_for_a_call)
    staff, csrf = await logged_in(desk, "staff")
    refused = await send(staff, csrf, 1, {"to": "volunteer"})
    assert refused.status == 409 and "phone call" in (await refused.json())["error"]
    assert (await (await staff.get("/console/api/tickets/1")).json())["routed_to"] == "staff"
    volunteer, _ = await logged_in(desk, "volunteer")
    assert await listed(volunteer) == {2: "volunteer"}
    page = await (await staff.get("/console/tickets/1")).text()
    assert 'id="route" data-to="volunteer" hidden' in page


async def test_volunteers_pass_a_ticket_on_to_staff_but_never_route_to_volunteers(desk: Desk) -> None:
    staff, staff_csrf = await logged_in(desk, "staff")
    volunteer, csrf = await logged_in(desk, "volunteer")
    assert (await send(volunteer, csrf, 1, {"to": "volunteer"})).status == 403  # not theirs to see
    assert (await send(volunteer, csrf, 2, {"to": "volunteer"})).status == 403
    page = await (await volunteer.get("/console/tickets/2")).text()
    assert 'id="route" data-to="staff"' in page and "職員に戻す" in page
    assert (await send(volunteer, csrf, 2, {"to": "staff"})).status == 200
    assert await listed(volunteer) == {}
    assert (await listed(staff))[2] == "staff"
    # Once with staff, a volunteer's page has no button to send it anywhere: they cannot open it at all.
    assert (await volunteer.get("/console/tickets/2")).status == 403
    assert "ボランティアに回す" in await (await staff.get("/console/tickets/2")).text()
    assert (await send(staff, staff_csrf, 2, {"to": "volunteer"})).status == 200


async def test_an_open_ticket_page_learns_at_once_where_its_ticket_went(desk: Desk) -> None:
    staff, csrf = await logged_in(desk, "staff")
    volunteer, _ = await logged_in(desk, "volunteer")

    async def waiting_transcript(client: TestClient[Any, Any], ticket_id: int) -> asyncio.Task[Any]:
        first = await (await client.get(f"/console/api/tickets/{ticket_id}/transcript")).json()
        query = f"after={first['after']}&version={first['version']}&wait=20"
        task = asyncio.create_task(client.get(f"/console/api/tickets/{ticket_id}/transcript?{query}"))
        await asyncio.sleep(0.2)
        assert not task.done()
        return task

    staff_page = await waiting_transcript(staff, 1)
    volunteer_page = await waiting_transcript(volunteer, 2)
    assert (await send(staff, csrf, 1, {"to": "volunteer"})).status == 200
    answer = await (await asyncio.wait_for(staff_page, 5)).json()
    assert answer["entries"] == [] and answer["ticket"]["routed_to"] == "volunteer"
    # Staff taking back the volunteer's ticket: the volunteer's page is told it may no longer look.
    assert not volunteer_page.done()
    assert (await send(staff, csrf, 2, {"to": "staff"})).status == 200
    assert (await asyncio.wait_for(volunteer_page, 5)).status == 403


async def test_routing_anywhere_but_staff_or_volunteers_is_refused(desk: Desk) -> None:
    staff, csrf = await logged_in(desk, "staff")
    for body in ({}, {"to": "admin"}, {"to": ["volunteer"]}, {"to": None}, ["volunteer"]):
        assert (await send(staff, csrf, 1, body)).status == 400, body
    assert (await listed(staff))[1] == "staff"


async def test_a_closed_ticket_cannot_be_routed(desk: Desk) -> None:
    staff, csrf = await logged_in(desk, "staff")
    assert (await staff.post("/console/api/tickets/1/resolve", headers={"X-CSRF-Token": csrf})).status == 200
    refused = await send(staff, csrf, 1, {"to": "volunteer"})
    assert refused.status == 409 and "resolved" in (await refused.json())["error"]


async def test_the_queue_says_where_each_ticket_is_routed(desk: Desk) -> None:
    staff, _ = await logged_in(desk, "staff")
    page = await (await staff.get("/console/queue")).text()
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert ["<td>職員</td>" in rows[0], "<td>ボランティア</td>" in rows[1]] == [True, True]
    assert [t["routed_to"] for t in (await (await staff.get("/console/api/tickets")).json())["tickets"]] == [
        "staff",
        "volunteer",
    ]
