"""The whole live handoff on the real stack: the real guide hands over, staff answer from the console's API,
and the bot resumes at the same step. Its own stack, on a city whose desk is always staffed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from bot.hub.wording import HANDED_OVER, STAFF_ENDED, STAFF_JOINED
from bot.launcher import Stack
from tests.e2e.conftest import ROOT, Resident, city_file, post_json, running_stack

PASSWORD = "kakunin-no-tame-no-pasuwado"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PROGRESS = re.compile(r"手順 (\d+)つめ（全部で(\d+)）")


@pytest.fixture(scope="module")
def staffed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("staffed")
    with running_stack(directory, city_file(directory, desk_open=None), CONSOLE_INSECURE_COOKIES="1") as stack:
        yield stack


@dataclass
class Console:
    """A browser session of the console, driven through its JSON API."""

    base: str
    opener: urllib.request.OpenerDirector
    csrf: str = ""

    @classmethod
    def log_in(cls, hub_url: str, name: str, password: str) -> Console:
        cookies = urllib.request.HTTPCookieProcessor(CookieJar())
        console = cls(f"{hub_url}/console", urllib.request.build_opener(cookies))
        with console.opener.open(f"{console.base}/login", timeout=30) as page:
            match = CSRF_FIELD.search(page.read().decode())
        assert match, "no CSRF field on the log-in page"
        form = urllib.parse.urlencode({"csrf_token": match.group(1), "name": name, "password": password}).encode()
        with console.opener.open(f"{console.base}/login", data=form, timeout=30) as answer:
            assert answer.status == 200  # after the redirect to the queue
        console.csrf = console.api("GET", "me")["csrf_token"]
        return console

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(
            f"{self.base}/api/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf},
        )
        with self.opener.open(request, timeout=60) as response:
            return json.loads(response.read() or b"null")


def fetch(stack: Stack, resident: Resident) -> list[str]:
    """What came for the resident since their last message (staff replies, the bot resuming), as their chat shows it."""
    request = urllib.request.Request(
        f"{stack.hub_url}/channels/web/messages", headers={"Authorization": f"Bearer {resident.session}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        messages = json.loads(response.read())["messages"]
    if messages:
        resident.messages = messages  # the buttons now on offer are on the newest message
    return [m["text"] for m in messages]


def test_resident_to_staff_and_back_to_the_same_step(staffed: Stack) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "bot.console", "create-admin", "kanri"],
        input=f"{PASSWORD}\n",
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATA_DIR": str(staffed.data_dir)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    admin = Console.log_in(staffed.hub_url, "kanri", PASSWORD)
    admin.api("POST", "accounts", {"name": "sato", "role": "staff", "password": PASSWORD})
    staff = Console.log_in(staffed.hub_url, "sato", PASSWORD)

    resident = Resident(staffed.hub_url)
    resident.say("マイナポータルにログインしたいです")
    if "iPhone" in resident.buttons:
        resident.press("iPhone")
    texts = resident.press("できました")
    step = PROGRESS.search(texts[-1])
    assert step, texts
    texts = resident.press("人と話したい")
    assert texts[0].startswith(HANDED_OVER), texts
    assert resident.buttons == ["ボットにもどる"]

    (ticket,) = staff.api("GET", "tickets")["tickets"]
    assert ticket["state"] == "waiting" and ticket["procedure"] == "portal_login"
    assert ticket["step"] == int(step.group(1))
    staff.api("POST", f"tickets/{ticket['id']}/claim")
    staff.api("POST", f"tickets/{ticket['id']}/messages", {"text": "職員の佐藤です。どこで止まっていますか。"})
    assert resident.session is not None
    assert fetch(staffed, resident) == [STAFF_JOINED, "職員の佐藤です。どこで止まっていますか。"]

    status, answer = post_json(
        f"{staffed.hub_url}/channels/web/messages",
        {"text": "ログインのボタンがみつかりません。暗証番号は4321です", "session": resident.session},
    )
    assert status == 200 and all("ログイン" not in m["text"] for m in answer["messages"])  # the bot stays quiet
    transcript = staff.api("GET", f"tickets/{ticket['id']}/transcript")
    typed = [e["text"] for e in transcript["entries"] if e["sender"] == "resident"][-1]
    assert typed.startswith("ログインのボタンがみつかりません") and "4321" not in typed

    staff.api("POST", f"tickets/{ticket['id']}/back-to-bot")
    back = fetch(staffed, resident)
    assert back[0] == STAFF_ENDED
    resumed = PROGRESS.search(back[-1])
    assert resumed and resumed.group(1) == step.group(1), back
    texts = resident.press("できました")
    moved = PROGRESS.search(texts[-1])
    assert moved and int(moved.group(1)) == int(step.group(1)) + 1
    assert staff.api("GET", "tickets")["tickets"] == []
    for path in Path(staffed.data_dir).rglob("*"):
        if path.is_file():
            assert "は4321".encode() not in path.read_bytes(), path
