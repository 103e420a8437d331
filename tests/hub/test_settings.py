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
    ],
)
def test_bad_values_name_the_variable_and_the_fix(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as error:
        HubSettings.from_env({"ENGINE_TOKEN": "t", **env} if variable != "ENGINE_TOKEN" else env)
    assert str(error.value).startswith(variable)
    assert "set it to" in str(error.value)
