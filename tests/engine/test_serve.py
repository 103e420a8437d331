"""Starting the engine: the token leaves the environment, bad settings stop it early, logs carry no resident text."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine.serve import REMOVED, ServeError, check_settings, take_token, without_resident_text

ROOT = Path(__file__).resolve().parents[2]
TEXT = "暗証番号を忘れました"


def test_the_token_is_taken_out_of_the_environment() -> None:
    environ = {"ENGINE_TOKEN": " s3cret ", "PATH": "/usr/bin"}
    assert take_token(environ) == "s3cret"
    assert environ == {"PATH": "/usr/bin"}


@pytest.mark.parametrize("environ", [{}, {"ENGINE_TOKEN": ""}, {"ENGINE_TOKEN": "  "}])
def test_a_missing_token_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ServeError, match="ENGINE_TOKEN is not set"):
        take_token(environ)


def settings(tmp_path: Path, **changes: object) -> argparse.Namespace:
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "mynaguide-0123.tar.gz").write_bytes(b"")
    values: dict[str, object] = {
        "interface": "127.0.0.1",
        "port": 5005,
        "model": tmp_path / "models",
        "endpoints": ROOT / "endpoints.yml",
        "credentials": ROOT / "credentials.yml",
    }
    values.update(changes)
    return argparse.Namespace(**values)


def test_usable_settings_pass(tmp_path: Path) -> None:
    check_settings(settings(tmp_path))
    check_settings(settings(tmp_path, interface="::1"))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"interface": "0.0.0.0"}, "--interface"),
        ({"interface": "192.168.1.10"}, "--interface"),
        ({"interface": "localhost.example"}, "--interface"),
        ({"port": 0}, "--port"),
        ({"port": 70000}, "--port"),
        ({"endpoints": Path("missing.yml")}, "--endpoints"),
        ({"credentials": Path("missing.yml")}, "--credentials"),
        ({"model": Path("no-models-here")}, "make model"),
    ],
)
def test_unusable_settings_name_the_option(tmp_path: Path, change: dict[str, object], named: str) -> None:
    with pytest.raises(ServeError, match=named):
        check_settings(settings(tmp_path, **change))


def test_resident_text_is_blanked_in_log_events() -> None:
    event = {"event": "rest.message.received.failure", "text": TEXT, "user_text": TEXT, "sender_id": "web:1"}
    assert without_resident_text(None, "error", event) == {
        "event": "rest.message.received.failure",
        "text": REMOVED,
        "user_text": REMOVED,
        "sender_id": "web:1",
    }


def run_engine(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.engine.serve", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_engine_does_not_start_without_a_token() -> None:
    environ = {name: value for name, value in os.environ.items() if name != "ENGINE_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.engine.serve"],
        cwd=ROOT,
        env={**environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "ENGINE_TOKEN is not set" in result.stderr


def test_the_engine_does_not_start_on_a_public_interface() -> None:
    result = run_engine("--interface", "0.0.0.0", env={"ENGINE_TOKEN": "t"})
    assert result.returncode == 2
    assert "--interface" in result.stderr and "loopback" in result.stderr


def test_rasa_log_events_carry_no_resident_text_once_configured() -> None:
    # Rasa's REST channel logs this very event with the text when handling a message fails.
    script = (
        "import structlog\n"
        "from bot.engine.serve import configure_logging\n"
        "configure_logging()\n"
        f"structlog.get_logger().error('rest.message.received.failure', text={TEXT!r}, sender_id='web:1')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "DEBUG"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "rest.message.received.failure" in output
    # Rasa renders events as JSON, where Japanese text is escaped.
    assert TEXT not in output and json.dumps(TEXT).strip('"') not in output


@pytest.mark.parametrize("interface", ["10.0.0.5", "192.168.1.10", "fd00::5"])
def test_a_private_interface_is_taken_only_when_asked_for(tmp_path: Path, interface: str) -> None:
    with pytest.raises(ServeError, match="--private-network"):
        check_settings(settings(tmp_path, interface=interface))
    check_settings(settings(tmp_path, interface=interface, private_network=True))


@pytest.mark.parametrize("interface", ["0.0.0.0", "8.8.8.8", "::"])
def test_a_public_or_wildcard_interface_is_refused_even_on_a_private_network(tmp_path: Path, interface: str) -> None:
    with pytest.raises(ServeError, match="--interface"):
        check_settings(settings(tmp_path, interface=interface, private_network=True))
