"""Every endpoint for every role: 200/201 or 403 as designed, 401 (API) or the log-in page (pages) anonymously."""

from __future__ import annotations

from typing import Any

import pytest

from bot.console.store import Role
from tests.console.conftest import PASSWORDS, Desk, logged_in

ROLES: tuple[Role | None, ...] = (None, "admin", "staff", "volunteer")
# Ticket 1 is routed to staff, ticket 2 to volunteers (tests/console/conftest.py).
NEW_ACCOUNT = {"name": "shinjin", "role": "staff", "password": "atarashii-shokuin-2026"}
# Stands for the logged-in account's own password in a body (each role has its own).
OWN_PASSWORD = "<own password>"
OWN_CHANGE = {"current": OWN_PASSWORD, "new": "atarashii-aikotoba-2026", "repeat": "atarashii-aikotoba-2026"}
API: list[tuple[str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("GET", "me", None, {"admin": 200, "staff": 200, "volunteer": 200}),
    ("POST", "me/password", OWN_CHANGE, {"admin": 200, "staff": 200, "volunteer": 200}),
    ("GET", "tickets", None, {"admin": 403, "staff": 200, "volunteer": 200}),
    ("GET", "changes?version=1", None, {"admin": 403, "staff": 200, "volunteer": 200}),
    ("GET", "tickets/1", None, {"admin": 403, "staff": 200, "volunteer": 403}),
    ("GET", "tickets/2", None, {"admin": 403, "staff": 200, "volunteer": 200}),
    ("GET", "tickets/1/transcript", None, {"admin": 403, "staff": 200, "volunteer": 403}),
    ("GET", "tickets/2/transcript", None, {"admin": 403, "staff": 200, "volunteer": 200}),
    ("POST", "tickets/1/claim", {}, {"admin": 403, "staff": 200, "volunteer": 403}),
    ("POST", "tickets/2/claim", {}, {"admin": 403, "staff": 200, "volunteer": 200}),
    ("POST", "tickets/1/messages", {"text": "少しお待ちください。"}, {"admin": 403, "staff": 201, "volunteer": 403}),
    ("POST", "tickets/2/messages", {"text": "少しお待ちください。"}, {"admin": 403, "staff": 201, "volunteer": 201}),
    ("GET", "tickets/1/notes", None, {"admin": 403, "staff": 200, "volunteer": 403}),
    ("GET", "tickets/2/notes", None, {"admin": 403, "staff": 200, "volunteer": 200}),
    ("POST", "tickets/1/notes", {"text": "折り返し希望"}, {"admin": 403, "staff": 201, "volunteer": 403}),
    ("POST", "tickets/2/notes", {"text": "折り返し希望"}, {"admin": 403, "staff": 201, "volunteer": 201}),
    ("POST", "tickets/1/back-to-bot", {}, {"admin": 403, "staff": 200, "volunteer": 403}),
    ("POST", "tickets/2/back-to-bot", {}, {"admin": 403, "staff": 200, "volunteer": 200}),
    ("POST", "tickets/1/resolve", {}, {"admin": 403, "staff": 200, "volunteer": 403}),
    ("POST", "tickets/2/resolve", {}, {"admin": 403, "staff": 200, "volunteer": 200}),
    ("POST", "tickets/1/route", {"to": "volunteer"}, {"admin": 403, "staff": 200, "volunteer": 403}),
    ("POST", "tickets/2/route", {"to": "staff"}, {"admin": 403, "staff": 200, "volunteer": 200}),
    ("GET", "statistics", None, {"admin": 200, "staff": 200, "volunteer": 403}),
    ("GET", "accounts", None, {"admin": 200, "staff": 403, "volunteer": 403}),
    ("POST", "accounts", NEW_ACCOUNT, {"admin": 201, "staff": 403, "volunteer": 403}),
    ("POST", "accounts/staff1/disabled", {"disabled": True}, {"admin": 200, "staff": 403, "volunteer": 403}),
    (
        "POST",
        "accounts/staff1/password",
        {"password": "atarashii-shokuin-2026"},
        {"admin": 200, "staff": 403, "volunteer": 403},
    ),
    ("GET", "audit", None, {"admin": 200, "staff": 403, "volunteer": 403}),
    ("GET", "bookings", None, {"admin": 403, "staff": 200, "volunteer": 200}),
]
PAGES: list[tuple[str, dict[str, int]]] = [
    ("queue", {"admin": 403, "staff": 200, "volunteer": 200}),
    ("tickets/1", {"admin": 403, "staff": 200, "volunteer": 403}),
    ("tickets/2", {"admin": 403, "staff": 200, "volunteer": 200}),
    ("statistics", {"admin": 200, "staff": 200, "volunteer": 403}),
    ("bookings", {"admin": 403, "staff": 200, "volunteer": 200}),
    ("accounts", {"admin": 200, "staff": 403, "volunteer": 403}),
    ("password", {"admin": 200, "staff": 200, "volunteer": 200}),
    ("city", {"admin": 200, "staff": 403, "volunteer": 403}),
]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    API,
    ids=[f"{m} {p}" + (f" to {b['to']}" if b and "to" in b else "") for m, p, b, _ in API],
)
async def test_api_answers_each_role_as_designed(
    desk: Desk,
    role: Role | None,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: dict[str, int],
) -> None:
    client, csrf = await logged_in(desk, role)
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    if path.endswith("/messages") and role is not None and expected[role] == 201:
        # Only the one who claimed a ticket may reply on it.
        claimed = await client.post(f"/console/api/{path.replace('messages', 'claim')}", headers=headers)
        assert claimed.status == 200
    if body is not None and body.get("current") == OWN_PASSWORD and role is not None:
        body = {**body, "current": PASSWORDS[role]}
    response = await client.request(method, f"/console/api/{path}", json=body, headers=headers)
    assert response.status == (401 if role is None else expected[role]), await response.text()
    assert response.content_type == "application/json"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[p for p, _ in PAGES])
async def test_pages_answer_each_role_as_designed(
    desk: Desk, role: Role | None, path: str, expected: dict[str, int]
) -> None:
    client, _ = await logged_in(desk, role)
    response = await client.get(f"/console/{path}", allow_redirects=False)
    if role is None:
        assert response.status == 303
        assert response.headers["Location"] == "/console/login"
    else:
        assert response.status == expected[role]


async def test_volunteers_list_only_tickets_routed_to_volunteers(desk: Desk) -> None:
    client, _ = await logged_in(desk, "volunteer")
    tickets = (await (await client.get("/console/api/tickets")).json())["tickets"]
    assert [t["id"] for t in tickets] == [2]
    client, _ = await logged_in(desk, "staff")
    tickets = (await (await client.get("/console/api/tickets")).json())["tickets"]
    assert sorted(t["id"] for t in tickets) == [1, 2]


async def test_the_console_address_without_its_slash_leads_to_it(desk: Desk) -> None:
    response = await desk.hub.get("/console", allow_redirects=False)
    assert response.status == 301 and response.headers["Location"] == "/console/"
