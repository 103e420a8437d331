"""The engine is reachable only on loopback and only with its token; the hub reports its health."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.launcher import Stack


def listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses listening on a TCP port, read from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


def test_engine_api_refuses_requests_without_the_token(stack: Stack) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{stack.engine_url}/status", timeout=10)
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.urlopen(f"{stack.engine_url}/status?token=wrong", timeout=10)
    assert wrong.value.code == 401
    with urllib.request.urlopen(f"{stack.engine_url}/status?token={stack.token}", timeout=10) as answer:
        assert json.loads(answer.read())["model_file"]


@pytest.mark.parametrize("port_name", ["engine", "actions"])
def test_engine_processes_listen_on_loopback_only(stack: Stack, port_name: str) -> None:
    addresses = listening_addresses(getattr(stack.ports, port_name))
    assert addresses, "nothing listens on the port"
    # 0100007F is 127.0.0.1 in /proc's byte order; anything else (0.0.0.0, ::) is public.
    assert addresses == {"0100007F"}, addresses


def test_public_health_says_up_and_details_cover_every_process(stack: Stack) -> None:
    with urllib.request.urlopen(f"{stack.hub_url}/health", timeout=10) as answer:
        assert json.loads(answer.read()) == {"status": "up"}
    with urllib.request.urlopen(f"{stack.hub_url}/health/details", timeout=10) as answer:
        details = json.loads(answer.read())
    assert details["engine"]["up"] is True and details["engine"]["model"].endswith(".tar.gz")
    assert details["actions"] == {"up": True}


def test_personal_numbers_never_reach_the_tracker_or_logs(stack: Stack) -> None:
    from tests.e2e.conftest import Resident

    resident = Resident(stack.hub_url)
    resident.say("マイナンバーは 5829 1735 6640 です。暗証番号は 7391 です")
    with sqlite3.connect(stack.data_dir / "hub.db") as hub_db:
        conversations = [row[0] for row in hub_db.execute("select id from conversations")]
    user_texts = []
    for conversation in conversations:
        url = f"{stack.engine_url}/conversations/{conversation}/tracker?token={stack.token}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            events = json.loads(answer.read())["events"]
        user_texts += [event["text"] for event in events if event["event"] == "user"]
    assert any("番号を消しました" in text for text in user_texts)
    for text in user_texts:
        assert "5829" not in text and "6640" not in text and "7391" not in text, text
    tracker = (stack.data_dir / "tracker.db").read_bytes()
    assert b"5829 1735 6640" not in tracker and b"582917356640" not in tracker
    for log in (stack.data_dir / "logs").glob("*.log"):
        text = log.read_text(errors="replace")
        assert "5829 1735" not in text and "7391" not in text, log.name
