"""A console mounted at /console/ in front of the in-memory helpdesk, on a clock the tests move."""

from __future__ import annotations

import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.console.app import create_console
from bot.console.settings import ConsoleSettings
from bot.console.store import ConsoleStore, Role
from tests.console.helpdesk_double import T0, HelpdeskDouble

PASSWORDS: dict[Role, str] = {
    "admin": "kanri-sha-no-himitsu-2026",
    "staff": "shokuin-no-himitsu-2026",
    "volunteer": "borantia-no-himitsu-2026",
}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class MovableClock:
    """Now, as the console sees it; tests move it forward."""

    moment: datetime = T0

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def helpdesk() -> HelpdeskDouble:
    return HelpdeskDouble.with_two_tickets()


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
def console_settings(tmp_path: Path, accounts_file: Path) -> ConsoleSettings:
    settings = ConsoleSettings(data_dir=tmp_path / "var", insecure_cookies=True)
    settings.data_dir.mkdir(parents=True)
    shutil.copy(accounts_file, settings.database_path)
    return settings


MakeClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest_asyncio.fixture
async def make_client(
    aiohttp_client: AiohttpClient, console_settings: ConsoleSettings, helpdesk: HelpdeskDouble, clock: MovableClock
) -> MakeClient:
    """A fresh browser (its own cookie jar) on one console app shared by the test."""
    parent = web.Application()
    parent.add_subapp("/console/", create_console(console_settings, lambda: helpdesk, clock))
    first = await aiohttp_client(parent)
    unused = [first]

    async def new_client() -> TestClient[Any, Any]:
        if unused:
            return unused.pop()
        return await aiohttp_client(first.server)

    return new_client


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


async def logged_in(make_client: MakeClient, role: Role | None) -> tuple[TestClient[Any, Any], str]:
    """A client logged in with this role (None: anonymous) and its session's CSRF token."""
    client = await make_client()
    if role is None:
        return client, ""
    response = await log_in(client, f"{role}1", PASSWORDS[role])
    assert response.status == 303, await response.text()
    me = await client.get("/console/api/me")
    return client, (await me.json())["csrf_token"]
