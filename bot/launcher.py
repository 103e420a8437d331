"""Starts the engine (Rasa), the action server and the hub on loopback, and stops them together.

``python -m bot.launcher`` is what ``make run`` calls; the end-to-end tests use ``Stack``.
Only the standard library is used, so it runs from either environment.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE_BIN = ROOT / ".venv" / "engine" / "bin"
HUB_PYTHON = ROOT / ".venv" / "hub" / "bin" / "python"
LOOPBACK = "127.0.0.1"


class StackError(RuntimeError):
    """A process of the stack did not start or became unhealthy."""


@dataclass
class Ports:
    """The loopback ports of the three processes."""

    engine: int = 5005
    actions: int = 5055
    hub: int = 8080


@dataclass
class Stack:
    """The engine, action server and hub as child processes sharing one data directory."""

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    hub_host: str = LOOPBACK
    engine_timeout: float = 10.0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def engine_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.engine}"

    @property
    def hub_url(self) -> str:
        return f"http://{self.hub_host}:{self.ports.hub}"

    def environment(self) -> dict[str, str]:
        """Environment shared by the three processes."""
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "SANIC_HOST": LOOPBACK,
                # Rasa's pinned libraries warn about their own deprecations on every start.
                "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::PendingDeprecationWarning",
                "ACTION_ENDPOINT_URL": f"http://{LOOPBACK}:{self.ports.actions}/webhook",
                "TRACKER_DB": str(self.data_dir / "tracker.db"),
                "ENGINE_URL": self.engine_url,
                "ACTIONS_URL": f"http://{LOOPBACK}:{self.ports.actions}",
                "ENGINE_TOKEN": self.token,
                "ENGINE_TIMEOUT": str(self.engine_timeout),
                "HUB_HOST": self.hub_host,
                "HUB_PORT": str(self.ports.hub),
                "DATA_DIR": str(self.data_dir),
            }
        )
        return env

    def start(self, wait_seconds: float = 240.0) -> None:
        """Start all three and wait until each answers its health check."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        commands = {
            "actions": [str(ENGINE_BIN / "rasa"), "run", "actions", "--actions", "actions",
                        "-p", str(self.ports.actions), "--quiet"],
            "engine": [str(ENGINE_BIN / "rasa"), "run", "--enable-api", "--auth-token", self.token,
                       "-i", LOOPBACK, "-p", str(self.ports.engine), "--model", str(ROOT / "models"),
                       "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
            "hub": [str(HUB_PYTHON), "-m", "bot.hub"],
        }  # fmt: skip
        for name, command in commands.items():
            log = (logs / f"{name}.log").open("ab")
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + wait_seconds
        checks = {
            "actions": f"http://{LOOPBACK}:{self.ports.actions}/health",
            "engine": f"{self.engine_url}/status?token={self.token}",
            "hub": f"{self.hub_url}/health",
        }
        for name, url in checks.items():
            self._wait_until_healthy(name, url, deadline)

    def _wait_until_healthy(self, name: str, url: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}; see {self.data_dir}/logs/{name}.log")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    body = json.loads(response.read() or b"{}")
                    if name != "engine" or body.get("model_file"):
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.5)
        raise StackError(f"{name} did not become healthy in time; see {self.data_dir}/logs/{name}.log")

    def stop(self) -> None:
        """Stop every child process, politely first."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def watch(self) -> None:
        """Block until a child exits or Ctrl-C, then stop them all."""
        try:
            while all(process.poll() is None for process in self.processes.values()):
                time.sleep(1)
            exited = [name for name, process in self.processes.items() if process.poll() is not None]
            print(f"stopped: {', '.join(exited)} exited; see {self.data_dir}/logs/", file=sys.stderr)
        except KeyboardInterrupt:
            print("\nstopping…")
        finally:
            self.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the whole product on this machine until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var")
    parser.add_argument("--hub-host", default=os.environ.get("HUB_HOST", LOOPBACK))
    parser.add_argument("--hub-port", type=int, default=int(os.environ.get("HUB_PORT", "8080")))
    parser.add_argument("--engine-port", type=int, default=5005)
    parser.add_argument("--actions-port", type=int, default=5055)
    args = parser.parse_args(argv)
    ports = Ports(engine=args.engine_port, actions=args.actions_port, hub=args.hub_port)
    stack = Stack(data_dir=args.data_dir.resolve(), ports=ports, hub_host=args.hub_host)
    # Stop the children on Ctrl-C and on SIGTERM alike, even when started with SIGINT ignored
    # (as a background job of a non-interactive shell is).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    print("starting the engine, the action server and the hub (the engine takes about a minute)…")
    try:
        stack.start()
    except (StackError, KeyboardInterrupt) as error:
        stack.stop()
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"hub:     {stack.hub_url}  (health: {stack.hub_url}/health)")
    print(f'web chat API: POST {stack.hub_url}/channels/web/messages  {{"text": "こんにちは"}}')
    print(f"engine:  {stack.engine_url} (loopback only, token required)")
    print("Ctrl-C stops everything.")
    stack.watch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
