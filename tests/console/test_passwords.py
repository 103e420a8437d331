"""Passwords after the first one: each person changes their own, an admin resets another's, on the real hub."""

from __future__ import annotations

import sqlite3
from typing import Any

from aiohttp.test_utils import TestClient

from bot.hub.keys import SETTINGS
from tests.console.conftest import CSRF_INPUT, PASSWORDS, Desk, log_in, logged_in
from tests.console.test_security import session_cookie

NEW = "atarashii-aikotoba-2026"


def change(current: str, new: str = NEW, repeat: str | None = None) -> dict[str, str]:
    return {"current": current, "new": new, "repeat": new if repeat is None else repeat}


def console_db_text(desk: Desk) -> bytes:
    """Everything the console's database files hold, as bytes (the file and its write-ahead log)."""
    path = desk.hub.app[SETTINGS].data_dir / "console.db"
    with sqlite3.connect(path) as db:
        dumped = "\n".join(db.iterdump()).encode()
    return dumped + path.read_bytes() + path.with_name("console.db-wal").read_bytes()


async def audited(desk: Desk) -> set[tuple[str, str, str]]:
    admin, _ = await logged_in(desk, "admin")
    entries = (await (await admin.get("/console/api/audit")).json())["entries"]
    return {(e["actor"], e["action"], e["target"]) for e in entries}


async def test_changing_ones_password_ends_every_other_session_and_renews_this_one(desk: Desk) -> None:
    here, csrf = await logged_in(desk, "staff")
    elsewhere, _ = await logged_in(desk, "staff")
    before = session_cookie(here)
    response = await here.post(
        "/console/api/me/password", json=change(PASSWORDS["staff"]), headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 200, await response.text()
    new_csrf = (await response.json())["csrf_token"]
    after = session_cookie(here)
    assert after and after != before and new_csrf != csrf
    assert (await here.get("/console/api/me")).status == 200
    assert (await elsewhere.get("/console/api/me")).status == 401
    # The old token went with the old session; the new one works.
    assert (await here.post("/console/api/tickets/1/claim", headers={"X-CSRF-Token": csrf})).status == 403
    assert (await here.post("/console/api/tickets/1/claim", headers={"X-CSRF-Token": new_csrf})).status == 200
    assert (await log_in(await desk.browser(), "staff1", PASSWORDS["staff"])).status == 401
    assert (await log_in(await desk.browser(), "staff1", NEW)).status == 303
    assert ("staff1", "password.change", "account:staff1") in await audited(desk)
    raw = console_db_text(desk)
    assert NEW.encode() not in raw and PASSWORDS["staff"].encode() not in raw


REFUSED_CHANGES = [
    (change("wrong-current-password"), "いまのパスワードがちがいます"),
    (change(PASSWORDS["volunteer"], repeat=NEW + "x"), "確認のため"),
    (change(PASSWORDS["volunteer"], new="password1234"), "よく使われる"),
    (change(PASSWORDS["volunteer"], new="short-pw"), "12文字以上"),
    (change(PASSWORDS["volunteer"], new=PASSWORDS["volunteer"]), "いまと同じ"),
]


async def test_a_refused_change_says_why_and_keeps_the_password_and_session(desk: Desk) -> None:
    # One session for the whole table: fewer wrong current passwords than the lock-out needs.
    client, csrf = await logged_in(desk, "volunteer")
    for body, reason in REFUSED_CHANGES:
        response = await client.post("/console/api/me/password", json=body, headers={"X-CSRF-Token": csrf})
        assert response.status == 400, reason
        assert reason in (await response.json())["error"]
        assert (await client.get("/console/api/me")).status == 200
    assert (await log_in(await desk.browser(), "volunteer1", PASSWORDS["volunteer"])).status == 303


async def test_guessing_the_current_password_locks_the_account_and_ends_the_session(desk: Desk) -> None:
    client, csrf = await logged_in(desk, "staff")
    for _ in range(5):
        wrong = change("guessing-the-password")
        response = await client.post("/console/api/me/password", json=wrong, headers={"X-CSRF-Token": csrf})
        assert response.status == 400
    assert (await client.get("/console/api/me")).status == 401
    assert (await log_in(await desk.browser(), "staff1", PASSWORDS["staff"])).status == 401
    assert ("staff1", "account.lock", "account:staff1") in await audited(desk)


async def test_the_password_page_changes_it_with_the_forms_token(desk: Desk) -> None:
    client, _ = await logged_in(desk, "volunteer")
    page = await (await client.get("/console/password")).text()
    match = CSRF_INPUT.search(page)
    assert match
    form = {"csrf_token": match.group(1), **change(PASSWORDS["volunteer"])}
    forged = await client.post("/console/password", data={**form, "csrf_token": "forged"})
    assert forged.status == 403
    before = session_cookie(client)
    response = await client.post("/console/password", data=form)
    assert response.status == 200
    assert "パスワードを変えました" in await response.text()
    assert session_cookie(client) not in (None, before)
    # The page it answers with already carries the new session's token.
    renewed = CSRF_INPUT.search(await response.text())
    me = await (await client.get("/console/api/me")).json()
    assert renewed and renewed.group(1) == me["csrf_token"]
    wrong = await client.post("/console/password", data={**form, "csrf_token": me["csrf_token"]})
    assert wrong.status == 400 and "いまのパスワードがちがいます" in await wrong.text()


async def reset(admin: TestClient[Any, Any], csrf: str, name: str, body: dict[str, Any]) -> Any:
    return await admin.post(f"/console/api/accounts/{name}/password", json=body, headers={"X-CSRF-Token": csrf})


async def test_an_admin_resets_a_password_ending_the_accounts_sessions(desk: Desk) -> None:
    staff, _ = await logged_in(desk, "staff")
    admin, csrf = await logged_in(desk, "admin")
    response = await reset(admin, csrf, "staff1", {"password": NEW})
    assert response.status == 200
    assert await response.json() == {"name": "staff1", "generated": False, "password": None}
    assert (await staff.get("/console/api/me")).status == 401
    assert (await log_in(await desk.browser(), "staff1", PASSWORDS["staff"])).status == 401
    assert (await log_in(await desk.browser(), "staff1", NEW)).status == 303
    assert (await admin.get("/console/api/me")).status == 200
    assert ("admin1", "password.reset", "account:staff1") in await audited(desk)
    assert NEW.encode() not in console_db_text(desk)


async def test_a_generated_password_is_shown_once_and_works(desk: Desk) -> None:
    admin, csrf = await logged_in(desk, "admin")
    response = await reset(admin, csrf, "volunteer1", {})
    answer = await response.json()
    assert response.status == 200 and answer["generated"] is True
    generated = answer["password"]
    assert (await log_in(await desk.browser(), "volunteer1", generated)).status == 303
    page = await admin.post(
        "/console/accounts/reset-password", data={"csrf_token": csrf, "name": "volunteer1", "password": ""}
    )
    shown = await page.text()
    assert page.status == 200 and "volunteer1 の新しいパスワード" in shown
    assert generated not in shown  # a new one each time
    assert "volunteer1 の新しいパスワード" not in await (await admin.get("/console/accounts")).text()
    assert generated.encode() not in console_db_text(desk)


REFUSED_RESETS: list[tuple[str, dict[str, Any], int]] = [
    ("admin1", {"password": NEW}, 409),  # one's own: changed on the password page, with the current one
    ("nobody", {"password": NEW}, 404),
    ("staff1", {"password": "password1234"}, 400),
    ("staff1", {"password": 1234}, 400),
]


async def test_a_reset_is_refused_for_oneself_an_unknown_account_or_a_weak_password(desk: Desk) -> None:
    staff, _ = await logged_in(desk, "staff")
    admin, csrf = await logged_in(desk, "admin")
    for name, body, status in REFUSED_RESETS:
        assert (await reset(admin, csrf, name, body)).status == status, (name, body)
    assert (await staff.get("/console/api/me")).status == 200
    assert (await admin.get("/console/api/me")).status == 200
    assert (await log_in(await desk.browser(), "staff1", PASSWORDS["staff"])).status == 303
