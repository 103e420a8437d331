"""Starts the engine (Rasa), the action server and the hub on loopback, restarts any that dies, and stops them together.

``python -m bot.launcher`` is what ``make run`` calls; the end-to-end tests use ``Stack``. ENGINE_PROCESSES engine
processes (default: one per core) share the tracker store; the hub routes each conversation to one of them.
Only the standard library is used, so it runs from either environment.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE_PYTHON = ROOT / ".venv" / "engine" / "bin" / "python"
ENGINE_BIN = ROOT / ".venv" / "engine" / "bin"
HUB_PYTHON = ROOT / ".venv" / "hub" / "bin" / "python"
LOOPBACK = "127.0.0.1"
ENGINE_PROCESSES = "ENGINE_PROCESSES"
# Variables the launcher sets for some children only; a value inherited from the caller's shell never leaks
# to the others (the action server in particular must not see the engine's token).
OWN_VARIABLES = frozenset(
    {
        "ENGINE_TOKEN",
        "ENGINE_URL",
        "ENGINE_TIMEOUT",
        "ACTION_ENDPOINT_URL",
        "ACTIONS_URL",
        "TRACKER_DB",
        "HUB_HOST",
        "HUB_PORT",
        "DATA_DIR",
        "SANIC_HOST",
    }
)
# The LINE channel's settings, passed on to the hub only (neither Rasa nor the action server needs LINE's secrets).
LINE_VARIABLES = ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_API_BASE_URL")


# The channels `make run` serves unless HUB_CHANNELS says otherwise; one without its secrets is reported off.
RUN_CHANNELS = "web,widget,kiosk,line"


class StackError(RuntimeError):
    """A process of the stack did not start or became unhealthy."""


@dataclass
class Ports:
    """The loopback ports of the three processes."""

    engine: int = 5005
    actions: int = 5055
    hub: int = 8080
    # The second, third… engine processes' ports, when there are several.
    more_engines: tuple[int, ...] = ()

    @property
    def engines(self) -> tuple[int, ...]:
        """Every engine process's port, the first one first."""
        return (self.engine, *self.more_engines)

    @classmethod
    def free(cls, engines: int = 1) -> Ports:
        """Loopback ports nobody listens on now, so test suites and benchmarks can run side by side."""
        sockets = [socket.socket() for _ in range(2 + engines)]
        try:
            for sock in sockets:
                sock.bind((LOOPBACK, 0))
            actions, hub, engine, *more = (int(sock.getsockname()[1]) for sock in sockets)
        finally:
            for sock in sockets:
                sock.close()
        return cls(engine=engine, actions=actions, hub=hub, more_engines=tuple(more))

    @classmethod
    def in_a_row(cls, engine: int, actions: int, hub: int, engines: int) -> Ports:
        """The given ports, with the further engines on the ports after the first engine's."""
        return cls(engine=engine, actions=actions, hub=hub, more_engines=tuple(range(engine + 1, engine + engines)))


def engine_processes(env: Mapping[str, str], cores: int | None) -> int:
    """How many engine processes to run: ENGINE_PROCESSES, or one per core; raises StackError naming the fix."""
    raw = env.get(ENGINE_PROCESSES, "").strip()
    if not raw:
        return max(1, cores or 1)
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 32:
        raise StackError(
            f"{ENGINE_PROCESSES} is {raw!r}: set it to a number of engine processes from 1 to 32, such as 2"
        )
    return int(raw)


def engine_name(number: int) -> str:
    """The supervisor's name for the n-th engine process (from 1): engine, engine-2, engine-3…"""
    return "engine" if number == 1 else f"engine-{number}"


@dataclass
class Backoff:
    """How long to wait before restarting a child that died: doubling from `first` up to `limit`.

    The wait starts again from `first` once the child has stayed healthy for `stable_after` seconds, so a
    crash a day later is not punished for a crash loop that was fixed in the meantime.
    """

    first: float = 1.0
    limit: float = 30.0
    stable_after: float = 60.0
    failures: int = 0

    def next_delay(self) -> float:
        """The wait before the next restart; each call counts one more failure."""
        delay = min(self.first * 2**self.failures, self.limit)
        self.failures += 1
        return delay

    def healthy_for(self, seconds: float) -> None:
        """Note that the child has been healthy for this long; forgive past failures when it is long enough."""
        if seconds >= self.stable_after:
            self.failures = 0


@dataclass
class Child:
    """One supervised process: how to start it, how to tell it is healthy, and its current state."""

    name: str
    command: list[str]
    env: dict[str, str] = field(repr=False)
    health_url: str = field(repr=False)
    log_path: Path
    backoff: Backoff = field(default_factory=Backoff)
    process: subprocess.Popen[bytes] | None = None
    restart_at: float | None = None
    healthy_since: float | None = None

    def spawn(self) -> None:
        """Start the process in its own process group, appending its output to its log file."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.restart_at = None
        self.healthy_since = None

    def is_healthy(self) -> bool:
        """Whether the process runs and answers its health check (the engine: with a model loaded)."""
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(self.health_url, timeout=3) as response:
                body = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            # The hub answers 503 while the engine is down: the hub itself is serving, which is what counts here.
            error.close()
            return self.name == "hub"
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return not self.name.startswith("engine") or bool(isinstance(body, dict) and body.get("model_file"))


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send a signal to the process's whole group; a group that is already gone is fine."""
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _exit_description(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with {returncode}"


@dataclass
class Stack:
    """The engine, action server and hub as supervised child processes sharing one data directory."""

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    hub_host: str = LOOPBACK
    engine_timeout: float = 10.0
    endpoints: str = "endpoints.yml"
    poll_interval: float = 0.5
    children: dict[str, Child] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _supervisor: threading.Thread | None = field(default=None, repr=False)

    @property
    def engine_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.engine}"

    @property
    def engine_urls(self) -> dict[str, str]:
        """Each engine process's base URL by its name."""
        return {engine_name(n): f"http://{LOOPBACK}:{port}" for n, port in enumerate(self.ports.engines, start=1)}

    @property
    def names(self) -> tuple[str, ...]:
        """The children's names: the action server, every engine, the hub."""
        return ("actions", *self.engine_urls, "hub")

    @property
    def actions_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.actions}"

    @property
    def hub_url(self) -> str:
        return f"http://{self.hub_host}:{self.ports.hub}"

    @property
    def processes(self) -> dict[str, subprocess.Popen[bytes]]:
        """The children's current processes (a child waiting to be restarted has none)."""
        with self._lock:
            return {name: child.process for name, child in self.children.items() if child.process is not None}

    @property
    def supervising(self) -> bool:
        """Whether the background supervisor is running."""
        return self._supervisor is not None and self._supervisor.is_alive()

    def environments(self) -> dict[str, dict[str, str]]:
        """Each child's environment: what all need, plus only the settings and secrets that child uses."""
        not_shared = OWN_VARIABLES.union(LINE_VARIABLES)
        common = {name: value for name, value in os.environ.items() if name not in not_shared}
        common.update(
            {
                "PYTHONPATH": str(ROOT),
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                # Rasa's pinned libraries warn about their own deprecations on every start.
                "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::PendingDeprecationWarning",
            }
        )
        # bot.engine.serve takes ENGINE_TOKEN out of its own environment before Rasa starts. Every engine
        # process uses the same tracker database: the hub sends each conversation to one of them.
        engine = {
            **common,
            "ENGINE_TOKEN": self.token,
            "ACTION_ENDPOINT_URL": f"{self.actions_url}/webhook",
            "TRACKER_DB": str(self.data_dir / "tracker.db"),
        }
        return {
            # The action server binds to SANIC_HOST (rasa-sdk has no option for it).
            "actions": {**common, "SANIC_HOST": LOOPBACK},
            **{name: dict(engine) for name in self.engine_urls},
            "hub": {
                **common,
                "ENGINE_URL": ",".join(self.engine_urls.values()),
                "ENGINE_TOKEN": self.token,
                "ENGINE_TIMEOUT": str(self.engine_timeout),
                "ACTIONS_URL": self.actions_url,
                "HUB_HOST": self.hub_host,
                "HUB_PORT": str(self.ports.hub),
                "DATA_DIR": str(self.data_dir),
                # `make run` lists LINE too, so that without its secrets the hub says in one line that it is off.
                "HUB_CHANNELS": os.environ.get("HUB_CHANNELS", "").strip() or RUN_CHANNELS,
                **{name: os.environ[name] for name in LINE_VARIABLES if name in os.environ},
            },
        }

    def commands(self) -> dict[str, list[str]]:
        """Each child's command line; no secret is ever on one (any local user can read them with `ps`)."""
        engines = {
            name: [str(ENGINE_PYTHON), "-m", "bot.engine.serve", "--interface", LOOPBACK,
                   "--port", url.rsplit(":", 1)[1], "--model", str(ROOT / "models"),
                   "--endpoints", self.endpoints, "--credentials", "credentials.yml"]
            for name, url in self.engine_urls.items()
        }  # fmt: skip
        return {
            "actions": [str(ENGINE_BIN / "rasa"), "run", "actions", "--actions", "actions",
                        "-p", str(self.ports.actions), "--quiet"],
            **engines,
            "hub": [str(HUB_PYTHON), "-m", "bot.hub"],
        }  # fmt: skip

    def health_urls(self) -> dict[str, str]:
        """Where each child answers when it is ready."""
        return {
            "actions": f"{self.actions_url}/health",
            **{name: f"{url}/status?token={self.token}" for name, url in self.engine_urls.items()},
            "hub": f"{self.hub_url}/health",
        }

    def start(self, wait_seconds: float = 240.0) -> None:
        """Start all three, wait until each answers its health check, then supervise them in the background."""
        if self.supervising:
            raise StackError("the stack is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        environments, commands, health_urls = self.environments(), self.commands(), self.health_urls()
        with self._lock:
            self.children = {
                name: Child(name, commands[name], environments[name], health_urls[name], logs / f"{name}.log")
                for name in self.names
            }
            for child in self.children.values():
                child.spawn()
        deadline = time.monotonic() + wait_seconds
        for child in self.children.values():
            while not child.is_healthy():
                assert child.process is not None
                if child.process.poll() is not None:
                    raise StackError(
                        f"{child.name} {_exit_description(child.process.returncode)}; see {child.log_path}"
                    )
                if time.monotonic() > deadline:
                    raise StackError(f"{child.name} did not become healthy in time; see {child.log_path}")
                time.sleep(0.5)
            child.healthy_since = time.monotonic()
        self._stopping = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
        self._supervisor.start()

    def kill(self, name: str) -> int:
        """SIGKILL a child's whole process group, as a crash would, and return the killed process id."""
        with self._lock:
            process = self.children[name].process
        if process is None:
            raise StackError(f"{name} is not running")
        os.killpg(process.pid, signal.SIGKILL)
        return process.pid

    def wait_healthy(self, name: str, timeout: float) -> int:
        """Wait until a child runs and answers its health check; return its process id."""
        child = self.children[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = child.process
            if process is not None and child.is_healthy():
                return process.pid
            time.sleep(0.2)
        raise StackError(f"{name} did not become healthy within {timeout:g} s; see {child.log_path}")

    def stop(self) -> None:
        """Stop supervising, then stop every child process, politely first."""
        if self._supervisor is not None:
            self._stopping.set()
            self._supervisor.join()
            self._supervisor = None
        with self._lock:
            running = [child.process for child in self.children.values() if child.process is not None]
            for child in self.children.values():
                child.process = None
        for process in running:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()

    def wait(self) -> None:
        """Block while the stack is supervised (until Ctrl-C or SIGTERM raise KeyboardInterrupt)."""
        while self.supervising:
            time.sleep(1)
        raise StackError(f"the supervisor stopped unexpectedly; see {self.data_dir}/logs/")

    def _supervise(self) -> None:
        while not self._stopping.wait(self.poll_interval):
            for child in list(self.children.values()):
                self._tend(child)

    def _tend(self, child: Child) -> None:
        """Restart a child that died, once its back-off has passed, and notice when it is healthy again."""
        now = time.monotonic()
        with self._lock:
            if self._stopping.is_set():
                return
            process = child.process
            if process is None:
                if child.restart_at is not None and now >= child.restart_at:
                    child.spawn()
                    assert child.process is not None
                    self._report(f"{child.name} restarted (pid {child.process.pid})")
                return
            if process.poll() is not None:
                # Whatever the dead process left in its group (it may hold the port) goes with it.
                _signal_group(process, signal.SIGKILL)
                delay = child.backoff.next_delay()
                child.process, child.healthy_since, child.restart_at = None, None, now + delay
                self._report(
                    f"{child.name} {_exit_description(process.returncode)}; restarting in {delay:g} s "
                    f"(failure {child.backoff.failures} in a row; see {child.log_path})"
                )
                return
        if child.healthy_since is None:
            if child.is_healthy():
                child.healthy_since = time.monotonic()
                if child.backoff.failures:
                    self._report(f"{child.name} is healthy again")
        else:
            child.backoff.healthy_for(now - child.healthy_since)

    def _report(self, line: str) -> None:
        """One plain line on the console and in logs/supervisor.log."""
        stamped = f"{time.strftime('%Y-%m-%d %H:%M:%S')} supervisor: {line}"
        print(stamped, file=sys.stderr, flush=True)
        with (self.data_dir / "logs" / "supervisor.log").open("a", encoding="utf-8") as log:
            log.write(stamped + "\n")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def channels_off(hub_url: str) -> dict[str, str]:
    """The channels the running hub left off, with the reason each gives (from its /health/details)."""
    try:
        with urllib.request.urlopen(f"{hub_url}/health/details", timeout=5) as response:
            details = json.loads(response.read())
    except urllib.error.HTTPError as error:  # 503 while the engine is down still lists the channels
        details = json.loads(error.read() or b"{}")
    except (OSError, ValueError):
        return {}
    off = details.get("channels", {}).get("off", {}) if isinstance(details, dict) else {}
    return {str(name): str(reason) for name, reason in off.items()} if isinstance(off, dict) else {}


def main(argv: list[str] | None = None) -> int:
    """Run the whole product on this machine until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var")
    parser.add_argument("--hub-host", default=os.environ.get("HUB_HOST", LOOPBACK))
    parser.add_argument("--hub-port", type=int, default=int(os.environ.get("HUB_PORT", "8080")))
    parser.add_argument("--engine-port", type=int, default=5005, help="the first engine's; the others follow it")
    parser.add_argument("--actions-port", type=int, default=5055)
    args = parser.parse_args(argv)
    try:
        engines = engine_processes(os.environ, os.cpu_count())
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    ports = Ports.in_a_row(engine=args.engine_port, actions=args.actions_port, hub=args.hub_port, engines=engines)
    stack = Stack(data_dir=args.data_dir.resolve(), ports=ports, hub_host=args.hub_host)
    # Stop the children on Ctrl-C and on SIGTERM alike, even when started with SIGINT ignored
    # (as a background job of a non-interactive shell is).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    print(
        f"starting {engines} engine process(es), the action server and the hub (the engine takes about a minute)…",
        flush=True,
    )
    status = 0
    try:
        stack.start()
        print(f"hub:     {stack.hub_url}  (health: {stack.hub_url}/health)")
        print(f'web chat API: POST {stack.hub_url}/channels/web/messages  {{"text": "こんにちは"}}')
        print(f"chat widget demo page: {stack.hub_url}/demo/")
        print(f"voice kiosk (a tablet or PC at city hall): {stack.hub_url}/kiosk/")
        print(f"helpdesk console: {stack.hub_url}/console/")
        print("  (first admin: .venv/hub/bin/python -m bot.console create-admin NAME)")
        print(f"engines: {', '.join(stack.engine_urls.values())} (loopback only, token required)")
        for name, reason in channels_off(stack.hub_url).items():
            print(f"channel {name} is off: {reason}")
        print("a process that dies is restarted; Ctrl-C stops everything.", flush=True)
        stack.wait()
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        status = 1
    finally:
        # A second Ctrl-C while stopping must not leave children running without their parent.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
