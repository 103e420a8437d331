"""ENGINE_URL naming several engine processes, separated by commas."""

from __future__ import annotations

import pytest
from yarl import URL

from bot.hub.settings import HubSettings, SettingsError

TOKEN = {"ENGINE_TOKEN": "t0ken"}


def test_one_engine_stays_one() -> None:
    settings = HubSettings.from_env({**TOKEN, "ENGINE_URL": "http://127.0.0.1:5005/"})
    assert settings.engines == (URL("http://127.0.0.1:5005"),)
    assert settings.engine_url == URL("http://127.0.0.1:5005")


def test_several_engines_are_all_kept_in_order() -> None:
    env = {**TOKEN, "ENGINE_URL": "http://127.0.0.1:5005, http://127.0.0.1:5006,http://10.0.0.12:5005"}
    settings = HubSettings.from_env(env)
    assert settings.engines == (
        URL("http://127.0.0.1:5005"),
        URL("http://127.0.0.1:5006"),
        URL("http://10.0.0.12:5005"),
    )
    assert settings.engine_url == settings.engines[0]


@pytest.mark.parametrize(
    ("value", "fix"),
    [
        ("http://127.0.0.1:5005,,http://127.0.0.1:5006", "single commas"),
        ("http://127.0.0.1:5005,http://127.0.0.1:5005", "each engine once"),
        ("http://127.0.0.1:5005,ftp://127.0.0.1:5006", "http:// or https://"),
    ],
)
def test_a_wrong_list_names_the_fix(value: str, fix: str) -> None:
    with pytest.raises(SettingsError, match=f"ENGINE_URL is .*{fix}"):
        HubSettings.from_env({**TOKEN, "ENGINE_URL": value})
