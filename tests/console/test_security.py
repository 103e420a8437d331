"""Log-in, sessions, CSRF, lock-out, cookies, headers and the audit log of the console on the real hub."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from yarl import URL

from bot.console.security import COOKIE
from bot.hub.app import create_app
from bot.hub.keys import SETTINGS
from tests.console.conftest import PASSWORDS, Desk, csrf_from, log_in, logged_in


def session_cookie(client: TestClient[Any, Any]) -> str | None:
    cookies = client.session.cookie_jar.filter_cookies(URL(str(client.make_url("/console/api/me"))))
    morsel = cookies.get(COOKIE)
    return morsel.value if morsel else None


async def with_cookie(desk: Desk, value: str) -> TestClient[Any, Any]:
    """A browser that sends this session cookie, as someone who copied it would."""
    client = await desk.browser()
    client.session.cookie_jar.update_cookies({COOKIE: value}, URL(str(client.make_url("/console/"))))
    return client


async def test_changes_without_the_csrf_token_or_with_a_forged_one_are_refused(desk: Desk) -> None:
    client, csrf = await logged_in(desk, "staff")
    for headers in ({}, {"X-CSRF-Token": "forged-" + csrf[7:]}, {"X-CSRF-Token": ""}):
        response = await client.post("/console/api/tickets/1/claim", headers=headers)
        assert response.status == 403
        assert "CSRF" in (await response.json())["error"]
    ticket = await (await client.get("/console/api/tickets/1")).json()
    assert ticket["state"] == "waiting"
    # A form post (log-out) with another session's token leaves the session alive.
    _, other_csrf = await logged_in(desk, "volunteer")
    response = await client.post("/console/logout", data={"csrf_token": other_csrf}, allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/console/api/me")).status == 200
    assert (await client.post("/console/api/tickets/1/claim", headers={"X-CSRF-Token": csrf})).status == 200


async def test_the_log_in_form_needs_its_csrf_token(desk: Desk) -> None:
    client = await desk.browser()
    await csrf_from(client, "/console/login")
    response = await client.post(
        "/console/login", data={"name": "staff1", "password": PASSWORDS["staff"]}, allow_redirects=False
    )
    assert response.status == 403
    assert (await client.get("/console/api/me")).status == 401


async def test_log_in_gives_a_new_session_id_and_the_old_one_is_worth_nothing(desk: Desk) -> None:
    client = await desk.browser()
    await csrf_from(client, "/console/login")
    before = session_cookie(client)
    assert before
    response = await log_in(client, "staff1", PASSWORDS["staff"])
    assert response.status == 303
    after = session_cookie(client)
    assert after and after != before
    assert (await client.get("/console/api/me")).status == 200
    fixated = await with_cookie(desk, before)
    assert (await fixated.get("/console/api/me")).status == 401
    # The anonymous session is gone, not merely anonymous: the log-in page starts a new one for that browser.
    assert (await fixated.get("/console/login")).status == 200
    assert session_cookie(fixated) not in (None, before)


async def test_an_idle_session_ends_and_an_active_one_stays(desk: Desk) -> None:
    client, _ = await logged_in(desk, "staff")
    desk.clock.advance(minutes=29)
    assert (await client.get("/console/api/me")).status == 200
    desk.clock.advance(minutes=29)
    assert (await client.get("/console/api/me")).status == 200
    desk.clock.advance(minutes=31)
    assert (await client.get("/console/api/me")).status == 401
    response = await client.get("/console/queue", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/console/login"


async def test_log_out_ends_the_session_on_the_server(desk: Desk) -> None:
    client, csrf = await logged_in(desk, "staff")
    copied = session_cookie(client)
    assert copied
    response = await client.post("/console/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert response.status == 303
    replayed = await with_cookie(desk, copied)
    assert (await replayed.get("/console/api/me")).status == 401


async def test_repeated_failures_lock_the_account_for_a_while(desk: Desk) -> None:
    client = await desk.browser()
    for _ in range(5):
        assert (await log_in(client, "staff1", "wrong-password-123")).status == 401
    refused = await log_in(client, "staff1", PASSWORDS["staff"])
    assert refused.status == 401
    assert "しばらく" in await refused.text()
    desk.clock.advance(minutes=16)
    assert (await log_in(client, "staff1", PASSWORDS["staff"])).status == 303


async def test_four_failures_then_the_right_password_start_the_count_again(desk: Desk) -> None:
    client = await desk.browser()
    for _ in range(4):
        assert (await log_in(client, "staff1", "wrong-password-123")).status == 401
    assert (await log_in(client, "staff1", PASSWORDS["staff"])).status == 303
    client = await desk.browser()
    for _ in range(4):
        assert (await log_in(client, "staff1", "wrong-password-123")).status == 401
    assert (await log_in(client, "staff1", PASSWORDS["staff"])).status == 303


async def test_cookies_are_http_only_same_site_strict_and_secure_unless_told_otherwise(
    desk: Desk, aiohttp_client: Any, tmp_path: Path
) -> None:
    response = await desk.hub.get("/console/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console/" in cookie
    assert "Secure" not in cookie  # this hub runs with CONSOLE_INSECURE_COOKIES=1
    secure_hub = await aiohttp_client(create_app(desk.engine.hub_settings(tmp_path / "other"), env={}))
    cookie = (await secure_hub.get("/console/login")).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_pages_forbid_framing_inline_scripts_and_caching(desk: Desk) -> None:
    client, _ = await logged_in(desk, "staff")
    for path in ("/console/login", "/console/queue", "/console/tickets/1", "/console/api/tickets"):
        response = await client.get(path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


async def test_a_resident_message_full_of_html_is_shown_as_text(desk: Desk) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)><b>ログイン</b>'
    await desk.resident_says(attack)
    client, _ = await logged_in(desk, "staff")
    page = await (await client.get("/console/tickets/1")).text()
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>ログイン" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    transcript = await (await client.get("/console/api/tickets/1/transcript")).json()
    assert attack in [entry["text"] for entry in transcript["entries"]]


async def test_the_audit_log_says_who_did_what_without_any_text_or_password(desk: Desk) -> None:
    await desk.resident_says("ひみつの相談です")
    client, csrf = await logged_in(desk, "staff")
    headers = {"X-CSRF-Token": csrf}
    assert (await client.post("/console/api/tickets/1/claim", headers=headers)).status == 200
    reply = {"text": "担当のすずきです。ごあんないします"}
    assert (await client.post("/console/api/tickets/1/messages", json=reply, headers=headers)).status == 201
    note = {"text": "ないぶのメモです"}
    assert (await client.post("/console/api/tickets/1/notes", json=note, headers=headers)).status == 201
    await log_in(await desk.browser(), "staff1", "まちがいのパスワード")
    admin, _ = await logged_in(desk, "admin")
    entries = (await (await admin.get("/console/api/audit")).json())["entries"]
    done = {(e["actor"], e["action"], e["target"]) for e in entries}
    assert {
        ("staff1", "login", "account:staff1"),
        ("staff1", "ticket.claim", "ticket:1"),
        ("staff1", "ticket.reply", "ticket:1"),
        ("staff1", "ticket.note", "ticket:1"),
        ("staff1", "login.failed", "account:staff1"),
    } <= done
    page = await (await admin.get("/console/accounts")).text()
    assert "ticket.reply" in page and "ticket:1" in page
    console_db = desk.hub.app[SETTINGS].data_dir / "console.db"
    with sqlite3.connect(console_db) as db:
        dumped = "\n".join(db.iterdump())
    raw = console_db.read_bytes() + console_db.with_name("console.db-wal").read_bytes()
    for secret in ("ひみつの相談", "すずき", "ないぶのメモ", "まちがいのパスワード", PASSWORDS["staff"]):
        assert secret not in dumped and secret.encode() not in raw
