"""The real hub (with the fake engine) and its console at /console/, on a clock the tests move.

Each test starts with two tickets: 1, opened by a resident on the web channel whom the guide hands over (routed to
staff), and 2, a second resident's, routed to volunteers.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.city import JAPAN
from bot.console.store import ConsoleStore, Role
from bot.hub.app import create_app
from bot.hub.keys import STORE
from bot.hub.tickets import HandoffRequest
from tests.hub.fake_engine import FakeEngine
from tests.hub.fixtures import fake_engine

__all__ = ["fake_engine"]

# The example city's desk is open then (weekdays 8:30–17:15 in Japan).
MONDAY_MORNING = datetime(2026, 11, 30, 10, 0, tzinfo=JAPAN).astimezone(timezone.utc)
MESSAGES = "/channels/web/messages"
PASSWORDS: dict[Role, str] = {
    "admin": "kanri-sha-no-himitsu-2026",
    "staff": "shokuin-no-himitsu-2026",
    "volunteer": "borantia-no-himitsu-2026",
}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
HANDOFF = {
    "event": "handoff",
    "reason": "step_failed",
    "procedure": "portal_login",
    "procedure_title": "マイナポータルにログインする",
    "step": 3,
    "step_count": 6,
    "step_title": "アプリの「ログイン」を押します。",
}


@dataclass
class MovableClock:
    """Now, for the hub and its console; tests move it forward."""

    moment: datetime = MONDAY_MORNING

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class Desk:
    """The hub under test, a browser maker, and the web session of the resident behind ticket 1."""

    hub: TestClient[Any, Any]
    engine: FakeEngine
    clock: MovableClock
    resident_session: str
    _aiohttp_client: AiohttpClient = field(repr=False)
    _unused: list[TestClient[Any, Any]] = field(default_factory=list, repr=False)

    async def browser(self) -> TestClient[Any, Any]:
        """A fresh client with its own cookie jar, on the same hub."""
        return await self._aiohttp_client(self.hub.server)

    async def resident_says(self, text: str) -> dict[str, Any]:
        """The resident behind ticket 1 writes on the web channel."""
        response = await self.hub.post(MESSAGES, json={"text": text, "session": self.resident_session})
        assert response.status == 200, await response.text()
        return dict(await response.json())

    async def resident_reads(self) -> list[str]:
        """What reached the resident's web chat since they last asked."""
        response = await self.hub.get(MESSAGES, headers={"Authorization": f"Bearer {self.resident_session}"})
        assert response.status == 200
        return [m["text"] for m in (await response.json())["messages"]]


@pytest.fixture(scope="session")
def accounts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One console.db with an account per role, made once: Argon2 is slow on purpose."""
    path = tmp_path_factory.mktemp("accounts") / "console.db"
    store = ConsoleStore.open(path)
    try:
        for role, password in PASSWORDS.items():
            store.create_account(f"{role}1", role, password, actor="test")
    finally:
        store.close()
    return path


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest_asyncio.fixture
async def desk(
    aiohttp_client: AiohttpClient, fake_engine: FakeEngine, tmp_path: Path, accounts_file: Path, clock: MovableClock
) -> Desk:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    shutil.copy(accounts_file, data_dir / "console.db")
    settings = fake_engine.hub_settings(data_dir)
    hub = await aiohttp_client(create_app(settings, env={"CONSOLE_INSECURE_COOKIES": "1"}, clock=clock))
    fake_engine.answer = [
        {"recipient_id": "x", "text": "うまくいかないようですね。職員に相談すると安心です。"},
        {"recipient_id": "x", "custom": HANDOFF},
    ]
    response = await hub.post(MESSAGES, json={"text": "ログインで3回失敗しました"})
    assert response.status == 200, await response.text()
    session = (await response.json())["session"]
    fake_engine.answer = None

    def open_volunteer_ticket(store: Any) -> None:
        conversation = store.start_conversation("web", "second-resident")
        request = HandoffRequest("asked", "portal_login", "マイナポータルにログインする", 1, 6)
        store.tickets.open_ticket(conversation.id, "web", request, "volunteer")

    await hub.app[STORE](open_volunteer_ticket)
    return Desk(hub, fake_engine, clock, session, aiohttp_client)


MakeClient = Callable[[], Awaitable[TestClient[Any, Any]]]


async def csrf_from(client: TestClient[Any, Any], path: str) -> str:
    """The CSRF token in a page's form."""
    response = await client.get(path)
    match = CSRF_INPUT.search(await response.text())
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def log_in(client: TestClient[Any, Any], name: str, password: str) -> Any:
    """Log in through the form, as a browser does; returns the answer without following the redirect."""
    token = await csrf_from(client, "/console/login")
    return await client.post(
        "/console/login", data={"csrf_token": token, "name": name, "password": password}, allow_redirects=False
    )


async def logged_in(desk: Desk, role: Role | None) -> tuple[TestClient[Any, Any], str]:
    """A browser logged in with this role (None: anonymous) and its session's CSRF token."""
    client = await desk.browser()
    if role is None:
        return client, ""
    response = await log_in(client, f"{role}1", PASSWORDS[role])
    assert response.status == 303, await response.text()
    me = await client.get("/console/api/me")
    return client, (await me.json())["csrf_token"]
