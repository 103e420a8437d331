"""Who is asking and may they: sessions from the cookie, CSRF on every change, roles, and safe response headers."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web

from bot.console.keys import SESSION, SETTINGS, STORE
from bot.console.store import Account, Role, Session

PREFIX = "/console/"
COOKIE = "console_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Scripts, styles and charts come only from the hub itself; nothing inline, no frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_api(request: web.Request) -> bool:
    """Whether the request is for the JSON API (answers in JSON) rather than a page."""
    return (request.match_info.route.name or "").startswith("api.")


def session_of(request: web.Request) -> Session | None:
    """The request's live session, or None."""
    return request.get(SESSION)


def account_of(request: web.Request) -> Account:
    """The logged-in account; only for handlers behind `allow`."""
    session = session_of(request)
    assert session is not None and session.account is not None
    return session.account


def json_error(status: int, message: str) -> web.Response:
    """An API error answer, always `{"error": …}`."""
    return web.json_response({"error": message}, status=status)


def set_session_cookie(request: web.Request, response: web.StreamResponse, session_id: str) -> None:
    """HttpOnly, SameSite=Strict, Secure unless CONSOLE_INSECURE_COOKIES=1, scoped to the console."""
    response.set_cookie(
        COOKIE,
        session_id,
        path=PREFIX,
        httponly=True,
        samesite="Strict",
        secure=not request.app[SETTINGS].insecure_cookies,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    """Tell the browser to forget the session cookie."""
    response.del_cookie(COOKIE, path=PREFIX)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No caching of pages or API answers, no framing, no sniffing, and the content security policy."""
    try:
        response = await handler(request)
    except web.HTTPException as exception:
        _add_security_headers(request, exception)
        raise
    _add_security_headers(request, response)
    return response


def _add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.path.startswith(PREFIX + "static/"):
        response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def sessions_and_csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the session named by the cookie; refuse a change without the session's CSRF token."""
    session_id = request.cookies.get(COOKIE)
    session = None
    if session_id:
        settings = request.app[SETTINGS]
        session = await request.app[STORE](lambda s: s.session(session_id, settings.idle_timeout))
    if session is not None:
        request[SESSION] = session
    if request.method not in SAFE_METHODS and not request.path.startswith(PREFIX + "static/"):
        if session is None:
            if is_api(request):
                return json_error(401, "log in first")
            raise web.HTTPSeeOther(PREFIX + "login")
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent and request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            field = form.get(CSRF_FIELD, "")
            sent = field if isinstance(field, str) else ""
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            return json_error(403, "the CSRF token is missing or wrong: reload the page and try again")
    return await handler(request)


def allow(*roles: Role) -> Callable[[Handler], Handler]:
    """Only these roles: anonymous gets 401 (API) or the log-in page, another role 403."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            session = session_of(request)
            if session is None or session.account is None:
                if is_api(request):
                    return json_error(401, "log in first")
                raise web.HTTPSeeOther(PREFIX + "login")
            if session.account.role not in roles:
                if is_api(request):
                    return json_error(403, "your role may not do this")
                raise web.HTTPForbidden(text="この画面は、あなたの役割では使えません。")
            return await handler(request)

        return guarded

    return decorate
