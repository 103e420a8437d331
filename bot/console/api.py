"""The console's JSON API under /console/api/: who am I, tickets, transcript, actions, statistics and bookings.

Accounts and passwords are in accounts_api.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.console.helpdesk import (
    HelpdeskLike,
    TicketLike,
    booking_json,
    entry_json,
    may_route,
    may_see,
    shown_text,
    statistics_json,
    ticket_json,
)
from bot.console.keys import CLOCK, HELPDESK, STOPPING, STORE
from bot.console.security import account_of, allow, json_error, session_of

MAX_TEXT = 1000
ROUTES = ("staff", "volunteer")
JSON = "application/json"
# A long-poll holds the request at most this long; the browser asks again at once.
MAX_WAIT_SECONDS = 25.0


def helpdesk_of(request: web.Request) -> HelpdeskLike:
    """The hub's handoff service, or a 503 when it is not running."""
    helpdesk = request.app[HELPDESK].get()
    if helpdesk is None:
        raise web.HTTPServiceUnavailable(
            text='{"error": "the helpdesk service is not running"}', content_type="application/json"
        )
    return helpdesk


async def visible_ticket(request: web.Request) -> TicketLike:
    """The ticket in the URL if this account may see it: 404 when there is none, 403 when not theirs to see."""
    raw = request.match_info["ticket_id"]
    if not raw.isascii() or not raw.isdigit():
        raise web.HTTPNotFound(text='{"error": "no such ticket"}', content_type="application/json")
    try:
        ticket = await helpdesk_of(request).ticket(int(raw))
    except LookupError as error:
        raise web.HTTPNotFound(text='{"error": "no such ticket"}', content_type="application/json") from error
    if not may_see(account_of(request).role, ticket):
        raise web.HTTPForbidden(text='{"error": "your role may not see this ticket"}', content_type="application/json")
    return ticket


async def wait_for_change(request: web.Request, seen: int, timeout: float) -> int:
    """The helpdesk's long-poll, cut short when the hub is stopping."""
    helpdesk = helpdesk_of(request)
    stopping = request.app[STOPPING]
    if stopping.is_set():
        return seen
    change = asyncio.ensure_future(helpdesk.wait_for_change(seen, timeout))
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait([change, stop], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not change.done():
            change.cancel()
    return change.result() if change.done() and not change.cancelled() else seen


async def audit(request: web.Request, action: str, target: str) -> None:
    """Record the action in the audit log: who, what, which target; never a text."""
    actor = account_of(request).name
    await request.app[STORE](lambda s: s.audit(actor, action, target))


async def text_from(request: web.Request) -> str:
    """The `text` of a JSON body, trimmed; 400 when missing, empty or too long."""
    body = await json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise web.HTTPBadRequest(text='{"error": "send {\\"text\\": \\"…\\"}"}', content_type="application/json")
    if len(text) > MAX_TEXT:
        raise web.HTTPRequestEntityTooLarge(
            MAX_TEXT,
            len(text),
            text='{"error": "text is longer than 1000 characters"}',
            content_type="application/json",
        )
    return text.strip()


def tickets_json(request: web.Request, tickets: Sequence[TicketLike]) -> list[dict[str, Any]]:
    role = account_of(request).role
    now = request.app[CLOCK].now()
    return [ticket_json(ticket, role, now) for ticket in tickets if may_see(role, ticket)]


def wait_seconds(request: web.Request) -> float:
    """The `wait` query parameter, capped; 0 means answer at once."""
    try:
        wait = float(request.query.get("wait", "0"))
    except ValueError:
        wait = 0.0
    return min(max(wait, 0.0), MAX_WAIT_SECONDS) if wait == wait else 0.0


def int_query(request: web.Request, name: str) -> int:
    raw = request.query.get(name, "0")
    return int(raw) if raw.isascii() and raw.isdigit() else 0


@allow("admin", "staff", "volunteer")
async def me(request: web.Request) -> web.Response:
    """Who is logged in, their role, and the CSRF token to send with changes."""
    session = session_of(request)
    assert session is not None and session.account is not None
    return web.json_response(
        {"name": session.account.name, "role": session.account.role, "csrf_token": session.csrf_token}
    )


@allow("staff", "volunteer")
async def list_tickets(request: web.Request) -> web.Response:
    """Open tickets (or every ticket with ?include_closed=1) this account may see, oldest first."""
    role = account_of(request).role
    include_closed = request.query.get("include_closed") == "1"
    routed = "volunteer" if role == "volunteer" else None
    tickets = await helpdesk_of(request).queue(routed_to=routed, include_closed=include_closed)
    return web.json_response({"tickets": tickets_json(request, tickets)})


@allow("staff", "volunteer")
async def changes(request: web.Request) -> web.Response:
    """Long-poll: answers with a new version number once any ticket changes, or the same one after `wait`."""
    seen = int_query(request, "version")
    version = await wait_for_change(request, seen, wait_seconds(request))
    return web.json_response({"version": version})


@allow("staff", "volunteer")
async def read_ticket(request: web.Request) -> web.Response:
    """One ticket."""
    ticket = await visible_ticket(request)
    return web.json_response(ticket_json(ticket, account_of(request).role, request.app[CLOCK].now()))


@allow("staff", "volunteer")
async def transcript(request: web.Request) -> web.Response:
    """Messages after the `after` cursor; with `wait`, held until one arrives, the ticket itself changes (claimed,
    routed, closed) or the wait is over."""
    ticket = await visible_ticket(request)
    helpdesk = helpdesk_of(request)
    role = account_of(request).role
    after = int_query(request, "after")
    # The current version, read before the transcript: a change after this read ends the wait below.
    seen = await helpdesk.wait_for_change(int_query(request, "version"), 0)
    deadline = time.monotonic() + wait_seconds(request)
    before = ticket
    while True:
        entries = await helpdesk.transcript(ticket.id, after=after)
        remaining = deadline - time.monotonic()
        if entries or remaining <= 0:
            break
        version = await wait_for_change(request, seen, remaining)
        if version == seen:
            break
        seen = version
        ticket = await helpdesk.ticket(ticket.id)
        if ticket != before:
            break
    ticket = await helpdesk.ticket(ticket.id)
    if not may_see(role, ticket):
        # Routed away while this page waited (a volunteer's ticket taken back by staff).
        return json_error(403, "this ticket was routed away from your role")
    return web.json_response(
        {
            "ticket": ticket_json(ticket, role, request.app[CLOCK].now()),
            "entries": [entry_json(entry, role) for entry in entries],
            "after": entries[-1].id if entries else after,
            "version": seen,
        }
    )


@allow("staff", "volunteer")
async def claim(request: web.Request) -> web.Response:
    """Take the ticket: from now on this account answers the resident."""
    return await _ticket_action(request, "claim")


@allow("staff", "volunteer")
async def back_to_bot(request: web.Request) -> web.Response:
    """Hand the conversation back to the bot, which resumes at the resident's step."""
    return await _ticket_action(request, "back_to_bot")


@allow("staff", "volunteer")
async def resolve(request: web.Request) -> web.Response:
    """Close the ticket; the resident is asked whether it helped."""
    return await _ticket_action(request, "resolve")


@allow("staff", "volunteer")
async def route(request: web.Request) -> web.Response:
    """Send the ticket to volunteers or to staff: `{"to": "volunteer" | "staff"}` (a claimed one waits again)."""
    ticket = await visible_ticket(request)
    to = (await json_body(request)).get("to")
    if to not in ROUTES:
        return json_error(400, 'send {"to": "volunteer"} or {"to": "staff"}')
    account = account_of(request)
    if not may_route(account.role, to):
        return json_error(403, "volunteers can pass a ticket on to staff only")
    try:
        changed = await helpdesk_of(request).route(ticket.id, to, account.name)
    except ValueError as error:
        return json_error(409, str(error))
    await audit(request, f"ticket.route_{to}", f"ticket:{ticket.id}")
    return web.json_response(ticket_json(changed, account.role, request.app[CLOCK].now()))


@allow("staff", "volunteer")
async def post_message(request: web.Request) -> web.Response:
    """Send a reply to the resident on their channel."""
    ticket = await visible_ticket(request)
    text = await text_from(request)
    account = account_of(request)
    try:
        entry = await helpdesk_of(request).reply(ticket.id, account.name, text)
    except ValueError as error:
        return json_error(409, str(error))
    await audit(request, "ticket.reply", f"ticket:{ticket.id}")
    return web.json_response(entry_json(entry, account.role), status=201)


@allow("staff", "volunteer")
async def list_notes(request: web.Request) -> web.Response:
    """The ticket's internal notes, never shown to the resident."""
    ticket = await visible_ticket(request)
    role = account_of(request).role
    notes = await helpdesk_of(request).notes(ticket.id)
    return web.json_response(
        {"notes": [{"author": a, "text": shown_text(role, t), "at": at.isoformat()} for a, t, at in notes]}
    )


@allow("staff", "volunteer")
async def add_note(request: web.Request) -> web.Response:
    """Add an internal note to the ticket."""
    ticket = await visible_ticket(request)
    text = await text_from(request)
    try:
        await helpdesk_of(request).add_note(ticket.id, account_of(request).name, text)
    except ValueError as error:
        return json_error(409, str(error))
    await audit(request, "ticket.note", f"ticket:{ticket.id}")
    return web.json_response({"ok": True}, status=201)


@allow("admin", "staff")
async def statistics(request: web.Request) -> web.Response:
    """Conversations, handoffs, waits, satisfaction and stuck steps over the last `days` (default 30)."""
    days = int_query(request, "days") or 30
    stats = await helpdesk_of(request).statistics(days=min(days, 366))
    return web.json_response(statistics_json(stats))


@allow("staff", "volunteer")
async def list_bookings(request: web.Request) -> web.Response:
    """Volunteer sessions booked and still to come, soonest first (venue, time, channel)."""
    booked = await helpdesk_of(request).bookings()
    return web.json_response({"bookings": [booking_json(booking, slot) for booking, slot in booked]})


async def _ticket_action(request: web.Request, action: str) -> web.Response:
    ticket = await visible_ticket(request)
    account = account_of(request)
    helpdesk = helpdesk_of(request)
    calls = {"claim": helpdesk.claim, "back_to_bot": helpdesk.back_to_bot, "resolve": helpdesk.resolve}
    try:
        changed = await calls[action](ticket.id, account.name)
    except ValueError as error:
        return json_error(409, str(error))
    await audit(request, f"ticket.{action}", f"ticket:{ticket.id}")
    return web.json_response(ticket_json(changed, account.role, request.app[CLOCK].now()))


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; 400 when it is not one."""
    try:
        body = await request.json()
    except ValueError as error:
        raise web.HTTPBadRequest(text='{"error": "the body is not JSON"}', content_type="application/json") from error
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "the body must be a JSON object"}', content_type="application/json")
    return body
