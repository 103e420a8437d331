"""The launcher's restart back-off, and which child gets which secret and setting.

The supervisor restarting real processes is tested end to end in tests/e2e/test_supervisor.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.launcher import OWN_VARIABLES, Backoff, Ports, Stack, StackError, engine_processes


def test_backoff_doubles_from_one_second_up_to_thirty() -> None:
    backoff = Backoff()
    assert [backoff.next_delay() for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_backoff_starts_again_after_the_child_stayed_healthy_long_enough() -> None:
    backoff = Backoff(stable_after=60)
    for _ in range(4):
        backoff.next_delay()
    backoff.healthy_for(59)
    assert backoff.next_delay() == 16
    backoff.healthy_for(60)
    assert backoff.next_delay() == 1


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    # Whatever the caller's shell exports under the launcher's own names must not reach the wrong child.
    for name in OWN_VARIABLES:
        monkeypatch.setenv(name, f"inherited-{name}")
    return Stack(data_dir=tmp_path, ports=Ports(engine=15005, actions=15055, hub=15080), token="t0ken-for-test")


def test_the_engine_token_reaches_the_engine_and_the_hub_only(stack: Stack) -> None:
    environments = stack.environments()
    assert environments["engine"]["ENGINE_TOKEN"] == "t0ken-for-test"
    assert environments["hub"]["ENGINE_TOKEN"] == "t0ken-for-test"
    assert not any("t0ken-for-test" in value for value in environments["actions"].values())


def test_no_command_line_carries_the_token(stack: Stack) -> None:
    for command in stack.commands().values():
        assert not any("t0ken-for-test" in argument for argument in command), command


def test_each_child_gets_its_own_settings_and_none_inherited(stack: Stack) -> None:
    environments = stack.environments()
    assert environments["hub"]["ACTIONS_URL"] == "http://127.0.0.1:15055"
    assert environments["hub"]["ENGINE_URL"] == "http://127.0.0.1:15005"
    assert environments["engine"]["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:15055/webhook"
    assert environments["actions"]["SANIC_HOST"] == "127.0.0.1"
    for env in environments.values():
        assert not any(value.startswith("inherited-") for value in env.values()), env
    # Everything else the caller has (PATH, HOME, a LINE secret for the hub) still passes through.
    assert all(env["PATH"] == os.environ["PATH"] for env in environments.values())


def test_several_engines_share_the_tracker_and_the_hub_knows_them_all(tmp_path: Path) -> None:
    stack = Stack(data_dir=tmp_path, ports=Ports.in_a_row(engine=15005, actions=15055, hub=15080, engines=3))
    assert stack.names == ("actions", "engine", "engine-2", "engine-3", "hub")
    environments, commands = stack.environments(), stack.commands()
    assert environments["hub"]["ENGINE_URL"] == "http://127.0.0.1:15005,http://127.0.0.1:15006,http://127.0.0.1:15007"
    assert {environments[name]["TRACKER_DB"] for name in ("engine", "engine-2", "engine-3")} == {
        str(tmp_path / "tracker.db")
    }
    ports = [commands[name][commands[name].index("--port") + 1] for name in ("engine", "engine-2", "engine-3")]
    assert ports == ["15005", "15006", "15007"]
    assert set(stack.health_urls()) == set(stack.names)


@pytest.mark.parametrize(("value", "cores", "expected"), [("", 2, 2), ("", None, 1), ("3", 2, 3), (" 1 ", 8, 1)])
def test_engine_processes_default_to_one_per_core(value: str, cores: int | None, expected: int) -> None:
    assert engine_processes({"ENGINE_PROCESSES": value}, cores) == expected


@pytest.mark.parametrize("value", ["0", "two", "-1", "33", "1.5"])
def test_a_wrong_engine_processes_is_named_with_the_fix(value: str) -> None:
    with pytest.raises(StackError, match=r"ENGINE_PROCESSES is .*from 1 to 32"):
        engine_processes({"ENGINE_PROCESSES": value}, 2)
