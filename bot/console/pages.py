"""The console's server-rendered pages: log-in, queue, ticket, statistics and accounts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.console.api import helpdesk_of, tickets_json, visible_ticket
from bot.console.helpdesk import booking_json, entry_json, shown_text, statistics_json, ticket_json
from bot.console.keys import CANNED_REPLIES, CLOCK, SETTINGS, STORE, TEMPLATES
from bot.console.passwords import MIN_LENGTH, WeakPassword
from bot.console.security import (
    COOKIE,
    CSRF_FIELD,
    PREFIX,
    account_of,
    allow,
    clear_session_cookie,
    session_of,
    set_session_cookie,
)
from bot.console.store import ROLES, AccountExists, AccountNotFound, LogInRefused

ROLE_NAMES = {"admin": "管理者", "staff": "職員", "volunteer": "ボランティア"}
CHANNEL_NAMES = {"web": "ウェブ", "widget": "ウィジェット", "line": "LINE", "kiosk": "キオスク"}
REASON_NAMES = {
    "asked": "本人が希望",
    "step_failed": "手順でつまずいた",
    "not_understood": "ことばが通じない",
    "too_hard": "難しいと言った",
    "unclaimed": "待ち時間切れ",
    "callback": "電話での相談を希望",
}
WAITING_BUCKETS = (
    ("1分未満", 60.0),
    ("1分から5分", 300.0),
    ("5分から15分", 900.0),
    ("15分から30分", 1800.0),
    ("30分以上", float("inf")),
)
STATE_NAMES = {"waiting": "待ち", "claimed": "対応中", "with_bot": "ボットに戻した", "resolved": "解決"}


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """Render a page; every value is escaped by the template engine unless a template says otherwise."""
    session = session_of(request)
    page = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(
            account=session.account if session else None,
            csrf_token=session.csrf_token if session else "",
            csrf_field=CSRF_FIELD,
            prefix=PREFIX,
            role_names=ROLE_NAMES,
            channel_names=CHANNEL_NAMES,
            reason_names=REASON_NAMES,
            state_names=STATE_NAMES,
            **context,
        )
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8", status=status)


def home_of(role: str) -> str:
    return PREFIX + ("accounts" if role == "admin" else "queue")


async def login_form(request: web.Request) -> web.StreamResponse:
    """The log-in page; it starts an anonymous session to carry the form's CSRF token."""
    session = session_of(request)
    if session is not None and session.account is not None:
        raise web.HTTPSeeOther(home_of(session.account.role))
    return await _login_page(request, error=None, status=200)


async def login(request: web.Request) -> web.StreamResponse:
    """Check name and password; on success a new session id replaces the anonymous one."""
    form = await request.post()
    name, password = form.get("name"), form.get("password")
    if not isinstance(name, str) or not isinstance(password, str):
        raise web.HTTPBadRequest(text="名前とパスワードを入れてください。")
    settings = request.app[SETTINGS]
    previous = request.cookies.get(COOKIE)
    try:
        session = await request.app[STORE](
            lambda s: s.log_in(
                name,
                password,
                previous_session=previous,
                lockout_after=settings.lockout_after,
                lockout_for=settings.lockout_for,
            )
        )
    except LogInRefused as error:
        return await _login_page(request, error=str(error), status=401)
    assert session.account is not None
    response = web.HTTPSeeOther(home_of(session.account.role))
    set_session_cookie(request, response, session.id)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session on the server and forget the cookie."""
    session = session_of(request)
    if session is not None:
        await request.app[STORE](lambda s: s.end_session(session.id))
    response = web.HTTPSeeOther(PREFIX + "login")
    clear_session_cookie(response)
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    """Send each role to its first page."""
    session = session_of(request)
    if session is None or session.account is None:
        raise web.HTTPSeeOther(PREFIX + "login")
    raise web.HTTPSeeOther(home_of(session.account.role))


@allow("staff", "volunteer")
async def queue(request: web.Request) -> web.Response:
    """Open tickets with waiting time, channel, reason and the procedure step reached."""
    role = account_of(request).role
    tickets = await helpdesk_of(request).queue(routed_to="volunteer" if role == "volunteer" else None)
    return render(request, "queue.html", tickets=tickets_json(request, tickets))


@allow("staff", "volunteer")
async def ticket(request: web.Request) -> web.Response:
    """One ticket: its transcript (kept up to date by ticket.js), reply box, canned replies, notes and actions."""
    found = await visible_ticket(request)
    helpdesk = helpdesk_of(request)
    role = account_of(request).role
    entries = await helpdesk.transcript(found.id)
    notes = await helpdesk.notes(found.id)
    return render(
        request,
        "ticket.html",
        ticket=ticket_json(found, role, request.app[CLOCK].now()),
        entries=[entry_json(entry, role) for entry in entries],
        notes=[{"author": a, "text": shown_text(role, t), "at": at.isoformat()} for a, t, at in notes],
        canned_replies=request.app[CANNED_REPLIES],
    )


@allow("staff", "volunteer")
async def bookings(request: web.Request) -> web.Response:
    """Volunteer sessions booked and still to come: venue, time and the resident's channel."""
    booked = await helpdesk_of(request).bookings()
    return render(request, "bookings.html", bookings=[booking_json(booking, slot) for booking, slot in booked])


@allow("admin", "staff")
async def statistics(request: web.Request) -> web.Response:
    """Charts (drawn by statistics.js from the API) over tables that carry the same numbers."""
    stats = statistics_json(await helpdesk_of(request).statistics(days=30))
    return render(request, "statistics.html", stats=stats, waiting_buckets=waiting_buckets(stats["waiting_seconds"]))


def waiting_buckets(waits: list[float]) -> list[tuple[str, int]]:
    """Claim waits counted in the ranges the chart and its table show."""
    counts = [0] * len(WAITING_BUCKETS)
    for seconds in waits:
        index = next(i for i, (_, upper) in enumerate(WAITING_BUCKETS) if seconds < upper)
        counts[index] += 1
    return [(label, count) for (label, _), count in zip(WAITING_BUCKETS, counts, strict=True)]


@allow("admin")
async def accounts(request: web.Request) -> web.Response:
    """The accounts list and the form to add one."""
    return await _accounts_page(request, message=None, error=None, status=200)


@allow("admin")
async def create_account(request: web.Request) -> web.Response:
    """Add an account from the form; a weak password or a taken name is said on the page."""
    form = await request.post()
    name, raw_role, password = form.get("name"), form.get("role"), form.get("password")
    role = next((r for r in ROLES if r == raw_role), None)
    if not isinstance(name, str) or role is None or not isinstance(password, str):
        return await _accounts_page(request, message=None, error="名前と役割とパスワードを入れてください。", status=400)
    actor = account_of(request).name
    try:
        await request.app[STORE](lambda s: s.create_account(name, role, password, actor=actor))
    except (AccountExists, WeakPassword, ValueError) as error:
        return await _accounts_page(request, message=None, error=str(error), status=400)
    return await _accounts_page(request, message=f"{name.strip()} を追加しました。", error=None, status=201)


@allow("admin")
async def toggle_account(request: web.Request) -> web.Response:
    """Disable or re-enable an account from the accounts page."""
    name = request.match_info["name"]
    disabled = request.match_info["action"] == "disable"
    actor = account_of(request).name
    if name == actor:
        return await _accounts_page(request, message=None, error="自分のアカウントは止められません。", status=409)
    try:
        await request.app[STORE](lambda s: s.set_disabled(name, disabled, actor=actor))
    except AccountNotFound:
        raise web.HTTPNotFound(text="そのアカウントはありません。") from None
    done = "止めました" if disabled else "使えるようにしました"
    return await _accounts_page(request, message=f"{name} を{done}。", error=None, status=200)


async def _accounts_page(request: web.Request, *, message: str | None, error: str | None, status: int) -> web.Response:
    listed = await request.app[STORE](lambda s: s.accounts())
    recent = await request.app[STORE](lambda s: s.audit_log(limit=50))
    return render(
        request,
        "accounts.html",
        status=status,
        accounts=listed,
        audit=recent,
        roles=ROLES,
        min_length=MIN_LENGTH,
        message=message,
        error=error,
    )


async def _login_page(request: web.Request, *, error: str | None, status: int) -> web.Response:
    session = session_of(request)
    if session is None or request.method == "POST":
        session = await request.app[STORE](lambda s: s.start_anonymous_session())
    response = render(request, "login.html", status=status, error=error, login_csrf=session.csrf_token)
    set_session_cookie(request, response, session.id)
    return response
