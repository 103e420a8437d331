"""The console's JSON API for admins' accounts and everyone's own password, under /console/api/."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.console.api import json_body
from bot.console.keys import SESSION, SETTINGS, STORE
from bot.console.passwords import WeakPassword
from bot.console.security import account_of, allow, json_error, set_session_cookie
from bot.console.store import ROLES, Account, AccountExists, AccountNotFound, Session, WrongPassword


@allow("admin")
async def list_accounts(request: web.Request) -> web.Response:
    """Every console account with its role (never a password hash)."""
    accounts = await request.app[STORE](lambda s: s.accounts())
    return web.json_response({"accounts": [account_json(a) for a in accounts]})


@allow("admin")
async def create_account(request: web.Request) -> web.Response:
    """Add an account: `{"name", "role", "password"}`; weak passwords are refused with a reason."""
    body = await json_body(request)
    name, role, password = body.get("name"), body.get("role"), body.get("password")
    if not isinstance(name, str) or role not in ROLES or not isinstance(password, str):
        return json_error(400, f"send name, role ({', '.join(ROLES)}) and password")
    actor = account_of(request).name
    try:
        account = await request.app[STORE](lambda s: s.create_account(name, role, password, actor=actor))
    except AccountExists as error:
        return json_error(409, str(error))
    except (WeakPassword, ValueError) as error:
        return json_error(400, str(error))
    return web.json_response(account_json(account), status=201)


@allow("admin")
async def set_account_disabled(request: web.Request) -> web.Response:
    """Disable (ending its sessions) or re-enable an account: `{"disabled": true|false}`."""
    body = await json_body(request)
    disabled = body.get("disabled")
    if not isinstance(disabled, bool):
        return json_error(400, 'send {"disabled": true} or {"disabled": false}')
    name = request.match_info["name"]
    actor = account_of(request).name
    if name == actor:
        return json_error(409, "you cannot disable your own account")
    try:
        account = await request.app[STORE](lambda s: s.set_disabled(name, disabled, actor=actor))
    except AccountNotFound:
        return json_error(404, "no such account")
    return web.json_response(account_json(account))


@allow("admin", "staff", "volunteer")
async def change_password(request: web.Request) -> web.Response:
    """Change your own password: `{"current", "new", "repeat"}`. Every other session of yours ends; this one
    goes on under a new id (a new cookie) and a new CSRF token, which the answer gives."""
    body = await json_body(request)
    fields = [body.get(key) for key in ("current", "new", "repeat")]
    if not all(isinstance(field, str) for field in fields):
        return json_error(400, 'send {"current": …, "new": …, "repeat": …}')
    current, new, repeat = (str(field) for field in fields)
    try:
        session = await new_password_session(request, current, new, repeat)
    except (WrongPassword, WeakPassword) as error:
        return json_error(400, str(error))
    assert session.account is not None
    response = web.json_response(
        {"name": session.account.name, "role": session.account.role, "csrf_token": session.csrf_token}
    )
    set_session_cookie(request, response, session.id)
    return response


async def new_password_session(request: web.Request, current: str, new: str, repeat: str) -> Session:
    """Change the logged-in account's password; the request carries the new session from here on."""
    name = account_of(request).name
    settings = request.app[SETTINGS]
    session = await request.app[STORE](
        lambda s: s.change_password(
            name, current, new, repeat, lockout_after=settings.lockout_after, lockout_for=settings.lockout_for
        )
    )
    request[SESSION] = session
    return session


@allow("admin")
async def reset_password(request: web.Request) -> web.Response:
    """Set another account's password and end its sessions: `{"password": …}`, or `{}` for a generated one,
    which this answer shows once (it is kept nowhere but as a hash)."""
    body = await json_body(request)
    password = body.get("password")
    if password is not None and not isinstance(password, str):
        return json_error(400, 'send {"password": "…"}, or {} for a generated password')
    try:
        chosen = await reset_password_of(request, request.match_info["name"], password or None)
    except AccountNotFound:
        return json_error(404, "no such account")
    except (WeakPassword, PermissionError) as error:
        return json_error(409 if isinstance(error, PermissionError) else 400, str(error))
    generated = not password
    return web.json_response(
        {"name": request.match_info["name"], "generated": generated, "password": chosen if generated else None}
    )


async def reset_password_of(request: web.Request, name: str, password: str | None) -> str:
    """An admin resets another account's password (generated when None); raise PermissionError for their own."""
    actor = account_of(request).name
    if name == actor:
        raise PermissionError("自分のパスワードは「パスワードを変える」で変えてください。")
    return await request.app[STORE](lambda s: s.reset_password(name, password, actor=actor))


@allow("admin")
async def audit_log(request: web.Request) -> web.Response:
    """The newest audit entries: who, what, which target, when."""
    entries = await request.app[STORE](lambda s: s.audit_log())
    return web.json_response(
        {
            "entries": [
                {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target} for e in entries
            ]
        }
    )


def account_json(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "role": account.role,
        "disabled": account.disabled,
        "locked_until": account.locked_until.isoformat() if account.locked_until else None,
        "created_at": account.created_at.isoformat(),
    }
