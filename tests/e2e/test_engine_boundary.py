"""The engine is reachable only on loopback and only with its token, which only the engine and the hub hold;
the tracker names the resident's real channel; no log holds what a resident typed, even when things fail."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.launcher import Stack
from tests.e2e.conftest import Resident, post_json


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
    # The tracker file is in WAL mode: the latest rows may still be in its write-ahead log.
    tracker = b"".join(path.read_bytes() for path in stack.data_dir.glob("tracker.db*"))
    assert b"5829 1735 6640" not in tracker and b"582917356640" not in tracker
    for log in (stack.data_dir / "logs").glob("*.log"):
        text = log.read_text(errors="replace")
        assert "5829 1735" not in text and "7391" not in text, log.name


def process_group(leader: int) -> list[int]:
    """The live processes of a child's process group (the child and anything it started)."""
    members = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == leader and fields[0] != "Z":
            members.append(int(proc.name))
    return members


def test_the_token_is_on_no_command_line(stack: Stack) -> None:
    for name, process in stack.processes.items():
        for pid in process_group(process.pid):
            assert stack.token.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes(), name


def test_the_action_server_does_not_hold_the_token(stack: Stack) -> None:
    token = f"ENGINE_TOKEN={stack.token}".encode()
    # The hub needs the token: reading its environment shows the check can see one.
    assert token in Path(f"/proc/{stack.processes['hub'].pid}/environ").read_bytes()
    members = process_group(stack.processes["actions"].pid)
    assert members
    for pid in members:
        assert stack.token.encode() not in Path(f"/proc/{pid}/environ").read_bytes()


def test_the_tracker_names_the_channel_the_resident_used(stack: Stack) -> None:
    resident = Resident(stack.hub_url)
    resident.say("こんにちは")
    with sqlite3.connect(stack.data_dir / "hub.db") as hub_db:
        conversations = [row[0] for row in hub_db.execute("select id from conversations")]
    with sqlite3.connect(stack.data_dir / "tracker.db") as tracker_db:
        rows = tracker_db.execute("select sender_id, data from events where type_name = 'user'").fetchall()
    channels = {json.loads(data)["input_channel"] for sender, data in rows if sender in conversations}
    assert channels == {"web"}


def escaped_forms(text: str) -> list[str]:
    """The text as it would appear in a log: as typed, or JSON-escaped as Rasa's structured logs write it."""
    return [text, json.dumps(text).strip('"'), json.dumps(text, ensure_ascii=False).strip('"')]


def assert_no_log_holds(stack: Stack, *texts: str) -> None:
    for log in (stack.data_dir / "logs").glob("*.log"):
        content = log.read_text(errors="replace")
        for text in texts:
            for form in escaped_forms(text):
                assert form not in content, f"{log.name} holds what the resident typed"


def send_through_the_hub(stack: Stack, text: str, session: str | None = None) -> None:
    """One message through the web channel; the answer (an apology when something is down) is not checked here."""
    body = {"text": text} if session is None else {"text": text, "session": session}
    status, _ = post_json(f"{stack.hub_url}/channels/web/messages", body)
    assert status < 500 or status == 503, status


def test_no_resident_text_in_the_logs_when_the_action_server_is_down(stack: Stack) -> None:
    engine_log = stack.data_dir / "logs" / "engine.log"
    logged_before = engine_log.stat().st_size
    marker = "富士見台三丁目の田中はなこ"
    stack.kill("actions")
    send_through_the_hub(stack, f"マイナポータルにログインしたいです。{marker}です")
    stack.wait_healthy("actions", timeout=120)
    new_lines = engine_log.read_bytes()[logged_before:].decode(errors="replace")
    assert "Failed to run custom action" in new_lines, "the message did not reach the engine while actions was down"
    assert_no_log_holds(stack, marker)


def test_no_resident_text_in_the_logs_when_the_tracker_store_fails(stack: Stack) -> None:
    engine_log = stack.data_dir / "logs" / "engine.log"
    resident = Resident(stack.hub_url)
    resident.say("こんにちは")
    logged_before = engine_log.stat().st_size
    marker = "緑ヶ丘五丁目の佐藤じろう"
    # A write lock on the tracker makes the engine fail to save the next turn after SQLite's busy timeout. The
    # first row it fails to write is the resident's message, which SQLAlchemy's error quotes in its parameters
    # (cut in the middle when long, so whether the text itself shows depends on the lengths around it).
    with sqlite3.connect(stack.data_dir / "tracker.db", timeout=30, isolation_level=None) as tracker_db:
        tracker_db.execute("begin immediate")
        try:
            send_through_the_hub(stack, f"暗証番号を忘れました。{marker}です", session=resident.session)
        finally:
            tracker_db.execute("rollback")
    new_lines = engine_log.read_bytes()[logged_before:].decode(errors="replace")
    assert "database is locked" in new_lines, "the engine did not fail as the test meant it to"
    assert "[parameters:" not in new_lines, "the database error quotes the row it failed to write"
    assert_no_log_holds(stack, marker)
