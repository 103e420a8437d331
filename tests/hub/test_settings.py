"""The hub reads its settings from the environment and refuses unusable ones by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from yarl import URL

from bot.hub.settings import HubSettings, SettingsError


def test_defaults_need_only_the_engine_token() -> None:
    settings = HubSettings.from_env({"ENGINE_TOKEN": "secret-token"})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.engine_url == URL("http://127.0.0.1:5005")
    assert settings.engine_token == "secret-token"
    assert settings.database_path == Path("var") / "hub.db"
    assert settings.engine_timeout == 10.0
    assert settings.actions_url == URL("http://127.0.0.1:5055")
    assert settings.channels == ("web", "widget")
    assert settings.retention_days == 90


def test_every_variable_is_read() -> None:
    settings = HubSettings.from_env(
        {
            "HUB_HOST": "0.0.0.0",
            "HUB_PORT": "18080",
            "ENGINE_URL": "http://127.0.0.1:15005/",
            "ENGINE_TOKEN": "t",
            "DATA_DIR": "/srv/mynaguide",
            "ENGINE_TIMEOUT": "2.5",
        }
    )
    assert (settings.host, settings.port) == ("0.0.0.0", 18080)
    assert settings.engine_url == URL("http://127.0.0.1:15005")
    assert settings.database_path == Path("/srv/mynaguide/hub.db")
    assert settings.engine_timeout == 2.5


def test_channels_and_retention_come_from_the_environment() -> None:
    settings = HubSettings.from_env(
        {
            "ENGINE_TOKEN": "t",
            "HUB_CHANNELS": " web, line ,web",
            "RETENTION_DAYS": "30",
            "ACTIONS_URL": "http://127.0.0.1:6055/",
        }
    )
    assert settings.channels == ("web", "line")
    assert settings.retention_days == 30
    assert settings.actions_url == URL("http://127.0.0.1:6055")


def test_the_token_is_not_shown_in_repr() -> None:
    assert "secret-token" not in repr(HubSettings.from_env({"ENGINE_TOKEN": "secret-token"}))


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "ENGINE_TOKEN"),
        ({"ENGINE_TOKEN": "  "}, "ENGINE_TOKEN"),
        ({"HUB_PORT": "http"}, "HUB_PORT"),
        ({"HUB_PORT": "0"}, "HUB_PORT"),
        ({"HUB_PORT": "70000"}, "HUB_PORT"),
        ({"ENGINE_URL": "127.0.0.1:5005"}, "ENGINE_URL"),
        ({"ENGINE_URL": "ftp://127.0.0.1:5005"}, "ENGINE_URL"),
        ({"ENGINE_URL": "http://127.0.0.1:5005/?token=x"}, "ENGINE_URL"),
        ({"ENGINE_TIMEOUT": "0"}, "ENGINE_TIMEOUT"),
        ({"ENGINE_TIMEOUT": "-1"}, "ENGINE_TIMEOUT"),
        ({"ENGINE_TIMEOUT": "ten"}, "ENGINE_TIMEOUT"),
        ({"ENGINE_TIMEOUT": "inf"}, "ENGINE_TIMEOUT"),
        ({"ACTIONS_URL": "localhost:5055"}, "ACTIONS_URL"),
        ({"HUB_CHANNELS": "web;line"}, "HUB_CHANNELS"),
        ({"HUB_CHANNELS": " , "}, "HUB_CHANNELS"),
        ({"HUB_CHANNELS": "Web"}, "HUB_CHANNELS"),
        ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
        ({"RETENTION_DAYS": "90日"}, "RETENTION_DAYS"),
    ],
)
def test_bad_values_name_the_variable_and_the_fix(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as error:
        HubSettings.from_env({"ENGINE_TOKEN": "t", **env} if variable != "ENGINE_TOKEN" else env)
    assert str(error.value).startswith(variable)
    assert "set it to" in str(error.value)
