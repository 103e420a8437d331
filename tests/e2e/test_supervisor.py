"""A child that dies is restarted by the launcher's supervisor; SIGTERM to the launcher still stops every child."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.launcher import ROOT, Ports, Stack, engine_processes
from tests.e2e.conftest import Resident
from tests.e2e.test_conversations import begin, progress


def is_gone(pid: int) -> bool:
    """Whether the process no longer exists (or is a zombie nobody reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def restart_lines(stack: Stack, name: str) -> list[str]:
    log = stack.data_dir / "logs" / "supervisor.log"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [
        line for line in lines if re.search(rf"supervisor: {name} was killed by SIGKILL; restarting in \d+ s", line)
    ]


def test_a_killed_action_server_comes_back_healthy(stack: Stack) -> None:
    logged_before = len(restart_lines(stack, "actions"))
    killed = stack.kill("actions")
    restarted = stack.wait_healthy("actions", timeout=120)
    assert restarted != killed and is_gone(killed)
    assert len(restart_lines(stack, "actions")) == logged_before + 1
    # The guide's steps come from the action server: a procedure opens again.
    resident = Resident(stack.hub_url)
    assert progress(begin(resident, "portal_login"))[0] == 1


def test_a_killed_engine_comes_back_and_the_conversation_goes_on(stack: Stack) -> None:
    resident = Resident(stack.hub_url)
    begin(resident, "bank_account")
    number, total = progress(resident.press("できました"))
    killed = stack.kill("engine")
    restarted = stack.wait_healthy("engine", timeout=300)
    assert restarted != killed and is_gone(killed)
    assert restart_lines(stack, "engine")
    # The tracker lives in SQLite: the restarted engine knows where the resident was.
    assert progress(resident.press("できました")) == (number + 1, total)


def launcher_children(launcher_pid: int) -> set[int]:
    """Process ids whose parent is the launcher."""
    children = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == launcher_pid:
            children.add(int(proc.name))
    return children


def processes_of(data_dir: Path, ports: Ports) -> list[int]:
    """Every live process on the machine started for this data directory or on these ports."""
    marks = [str(data_dir).encode(), f" {ports.engine} ".encode(), f" {ports.actions} ".encode()]
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or is_gone(int(proc.name)):
            continue
        try:
            seen = (proc / "cmdline").read_bytes().replace(b"\0", b" ") + b" " + (proc / "environ").read_bytes()
        except OSError:
            continue
        if any(mark in seen for mark in marks):
            found.append(int(proc.name))
    return found


def test_sigterm_stops_every_child_even_while_one_is_being_restarted(tmp_path: Path) -> None:
    ports = Ports.free()
    command = [
        sys.executable, "-m", "bot.launcher", "--data-dir", str(tmp_path), "--hub-port", str(ports.hub),
        "--engine-port", str(ports.engine), "--actions-port", str(ports.actions),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    launcher = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert launcher.stdout is not None
        output = []
        for line in launcher.stdout:
            output.append(line)
            if "Ctrl-C stops everything" in line or line.startswith("error:"):
                break
        assert "Ctrl-C stops everything" in output[-1], "".join(output)
        children = launcher_children(launcher.pid)
        # The action server, the hub and one engine per core (ENGINE_PROCESSES).
        assert len(children) == 2 + engine_processes(env, os.cpu_count()), children
        assert set(processes_of(tmp_path, ports)) >= children
        # Kill one child so that the supervisor is between a death and a restart when SIGTERM arrives.
        actions = next(pid for pid in children if b"actions" in Path(f"/proc/{pid}/cmdline").read_bytes())
        os.killpg(actions, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not (tmp_path / "logs" / "supervisor.log").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (tmp_path / "logs" / "supervisor.log").exists(), "the supervisor did not notice the death"
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=60) == 0
        assert processes_of(tmp_path, ports) == [], "processes outlived the launcher"
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        for pid in processes_of(tmp_path, ports):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(autouse=True)
def _all_healthy_afterwards(request: pytest.FixtureRequest) -> Iterator[None]:
    """Leave the shared stack whole for the tests that run after these."""
    yield
    if "stack" in request.fixturenames:
        stack = request.getfixturevalue("stack")
        for name in ("actions", "engine", "hub"):
            stack.wait_healthy(name, timeout=300)
