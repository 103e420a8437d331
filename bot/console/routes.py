"""Every URL of the console, relative to where the hub mounts it (/console/)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.console import accounts_api, api, pages

STATIC_DIR = Path(__file__).with_name("static")
# Chart.js comes from npm (`npm ci` installs the version package-lock.json pins); the hub serves it, no CDN.
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR_FILES = {"chart.umd.js": NODE_MODULES / "chart.js" / "dist" / "chart.umd.js"}


def setup_routes(app: web.Application) -> None:
    """Pages, the JSON API (route names start with "api.") and static files."""
    app.router.add_get("/", pages.home, name="home")
    app.router.add_get("/login", pages.login_form, name="login_form")
    app.router.add_post("/login", pages.login, name="login")
    app.router.add_post("/logout", pages.logout, name="logout")
    app.router.add_get("/queue", pages.queue, name="queue")
    app.router.add_get("/tickets/{ticket_id}", pages.ticket, name="ticket")
    app.router.add_get("/bookings", pages.bookings, name="bookings")
    app.router.add_get("/statistics", pages.statistics, name="statistics")
    app.router.add_get("/accounts", pages.accounts, name="accounts")
    app.router.add_get("/city", pages.city, name="city")
    app.router.add_post("/accounts", pages.create_account, name="create_account")
    app.router.add_post("/accounts/{name}/{action:disable|enable}", pages.toggle_account, name="toggle_account")
    app.router.add_post("/accounts/reset-password", pages.reset_password, name="reset_password")
    app.router.add_get("/password", pages.password_form, name="password_form")
    app.router.add_post("/password", pages.change_password, name="change_password")

    app.router.add_get("/api/me", api.me, name="api.me")
    app.router.add_post("/api/me/password", accounts_api.change_password, name="api.change_password")
    app.router.add_get("/api/tickets", api.list_tickets, name="api.tickets")
    app.router.add_get("/api/changes", api.changes, name="api.changes")
    app.router.add_get("/api/tickets/{ticket_id}", api.read_ticket, name="api.ticket")
    app.router.add_get("/api/tickets/{ticket_id}/transcript", api.transcript, name="api.transcript")
    app.router.add_post("/api/tickets/{ticket_id}/claim", api.claim, name="api.claim")
    app.router.add_post("/api/tickets/{ticket_id}/messages", api.post_message, name="api.messages")
    app.router.add_get("/api/tickets/{ticket_id}/notes", api.list_notes, name="api.notes")
    app.router.add_post("/api/tickets/{ticket_id}/notes", api.add_note, name="api.add_note")
    app.router.add_post("/api/tickets/{ticket_id}/back-to-bot", api.back_to_bot, name="api.back_to_bot")
    app.router.add_post("/api/tickets/{ticket_id}/resolve", api.resolve, name="api.resolve")
    app.router.add_post("/api/tickets/{ticket_id}/route", api.route, name="api.route")
    app.router.add_get("/api/statistics", api.statistics, name="api.statistics")
    app.router.add_get("/api/accounts", accounts_api.list_accounts, name="api.accounts")
    app.router.add_post("/api/accounts", accounts_api.create_account, name="api.create_account")
    app.router.add_post("/api/accounts/{name}/disabled", accounts_api.set_account_disabled, name="api.account_disabled")
    app.router.add_post("/api/accounts/{name}/password", accounts_api.reset_password, name="api.reset_password")
    app.router.add_get("/api/audit", accounts_api.audit_log, name="api.audit")
    app.router.add_get("/api/bookings", api.list_bookings, name="api.bookings")
    # Venues, weekly times and the desk's hours come from config/city.yml: /city shows them, read-only.

    app.router.add_get("/static/vendor/{file}", vendor_file, name="vendor")
    app.router.add_static("/static/", STATIC_DIR, name="static")


async def vendor_file(request: web.Request) -> web.StreamResponse:
    """A file from an npm package the console uses (Chart.js), or 404 when `npm ci` has not run."""
    path = VENDOR_FILES.get(request.match_info["file"])
    if path is None or not path.is_file():
        raise web.HTTPNotFound(text="not installed: run npm ci (make install does)")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
