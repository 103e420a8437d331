"""Handoff latency through the console: a resident's message to the console, and a staff reply to the resident.

Starts the real hub (its console, real SQLite, real HTTP on loopback) in front of the fake engine, which only opens
the tickets: once a person has the conversation the engine is out of the path. A logged-in console holds the
transcript long-poll (`?wait=`) the ticket page uses while the resident writes on the web channel; a staff reply is
posted through the console API while the resident's chat asks for new messages every 5 ms (the plain web channel
is pulled; the widget and LINE are pushed by the outbox). Writes bench/results/console.json. `make bench` runs it.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.console.store import ConsoleStore  # noqa: E402
from tests.console.conftest import HANDOFF  # noqa: E402
from tests.console.live_desk import LiveDesk  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "console.json"
TICKETS = 10
ROUNDS_PER_TICKET = 10
PASSWORD = "bench-shokuin-no-aikotoba"
RESIDENT_POLL_SECONDS = 0.005


class Console:
    """A staff member's browser: cookies, the CSRF token, JSON calls."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""

    def log_in(self, name: str, password: str) -> None:
        page = self.opener.open(self.base + "/console/login", timeout=30).read().decode()
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, "no CSRF field on the log-in page"
        form = urllib.parse.urlencode({"csrf_token": match.group(1), "name": name, "password": password}).encode()
        self.opener.open(self.base + "/console/login", data=form, timeout=30).read()
        self.csrf = self.get("me")["csrf_token"]

    def get(self, path: str, timeout: float = 30) -> Any:
        return json.loads(self.opener.open(f"{self.base}/console/api/{path}", timeout=timeout).read())

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.base}/console/api/{path}",
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf},
            method="POST",
        )
        return json.loads(self.opener.open(request, timeout=30).read())


def resident_to_console(desk: LiveDesk, console: Console, ticket_id: int, session: str, text: str) -> float:
    """Seconds from the resident's POST to the console's long-poll answering with the message."""
    start = console.get(f"tickets/{ticket_id}/transcript")
    answer: dict[str, Any] = {}
    arrived = threading.Event()
    arrived_at = [0.0]

    def follow() -> None:
        after, version = start["after"], start["version"]
        while True:
            data = console.get(f"tickets/{ticket_id}/transcript?after={after}&version={version}&wait=20", timeout=60)
            after, version = data["after"], data["version"]
            if any(entry["text"] == text for entry in data["entries"]):
                arrived_at[0] = time.perf_counter()
                answer.update(data)
                arrived.set()
                return

    follower = threading.Thread(target=follow)
    follower.start()
    time.sleep(0.05)  # the long-poll is waiting, as the ticket page's is
    sent_at = time.perf_counter()
    desk.resident_says(text, session)
    assert arrived.wait(30), "the resident's message never reached the console"
    follower.join()
    return arrived_at[0] - sent_at


def staff_to_resident(desk: LiveDesk, console: Console, ticket_id: int, session: str, text: str) -> float:
    """Seconds from the console's POST of a reply to the resident's chat having it."""
    desk.resident_reads(session)
    sent_at = time.perf_counter()
    console.post(f"tickets/{ticket_id}/messages", {"text": text})
    deadline = sent_at + 30
    while time.perf_counter() < deadline:
        if text in desk.resident_reads(session):
            return time.perf_counter() - sent_at
        time.sleep(RESIDENT_POLL_SECONDS)
    raise AssertionError("the staff reply never reached the resident")


def summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "count": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[max(0, int(len(ms) * 0.95) - 1)], 1),
        "max_ms": round(ms[-1], 1),
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        accounts = Path(work) / "accounts.db"
        store = ConsoleStore.open(accounts)
        store.create_account("bench-staff", "staff", PASSWORD, actor="bench")
        store.close()
        desk = LiveDesk(Path(work) / "var", accounts)
        desk.start()
        try:
            console = Console(desk.url)
            console.log_in("bench-staff", PASSWORD)
            inbound: list[float] = []
            outbound: list[float] = []
            for number in range(TICKETS):
                desk.hand_over_next(HANDOFF)
                session = desk.resident_says("ログインできません")["session"]
                ticket_id = max(t["id"] for t in console.get("tickets")["tickets"])
                console.post(f"tickets/{ticket_id}/claim")
                for turn in range(ROUNDS_PER_TICKET):
                    inbound.append(resident_to_console(desk, console, ticket_id, session, f"画面{number}-{turn}です"))
                    outbound.append(staff_to_resident(desk, console, ticket_id, session, f"返信{number}-{turn}です"))
        finally:
            desk.stop()
    results = {
        "resident_to_console": summary(inbound),
        "staff_to_resident": summary(outbound),
        "method": "real hub and console on loopback, fake engine (not in the path after handoff); "
        f"{TICKETS} tickets x {ROUNDS_PER_TICKET} rounds; console long-poll; resident pulls every "
        f"{RESIDENT_POLL_SECONDS * 1000:.0f} ms",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
