"""The hub's configuration, read once from the environment and checked at start-up."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yarl import URL

DEFAULT_ENGINE_URL = URL("http://127.0.0.1:5005")
DEFAULT_ACTIONS_URL = URL("http://127.0.0.1:5055")
DEFAULT_CHANNELS = ("web", "widget")
# How long a resident waits for a person before the hub offers other ways (seconds).
DEFAULT_HANDOFF_WAIT_LIMIT = 300.0
DEFAULT_RETENTION_DAYS = 90


class SettingsError(ValueError):
    """A configuration variable is missing or has a value the hub cannot use."""


@dataclass(frozen=True)
class HubSettings:
    """Where the hub listens, where the engine is, which channels it serves and what it keeps for how long."""

    engine_token: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8080
    engine_url: URL = DEFAULT_ENGINE_URL
    actions_url: URL = DEFAULT_ACTIONS_URL
    data_dir: Path = Path("var")
    engine_timeout: float = 10.0
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    retention_days: int = DEFAULT_RETENTION_DAYS
    handoff_wait_limit: float = DEFAULT_HANDOFF_WAIT_LIMIT
    # Every engine process when there are several (ENGINE_URL lists them, separated by commas); empty: engine_url.
    engine_urls: tuple[URL, ...] = ()

    @property
    def engines(self) -> tuple[URL, ...]:
        """The engines' base URLs: all of ENGINE_URL's, or engine_url alone."""
        return self.engine_urls or (self.engine_url,)

    @property
    def database_path(self) -> Path:
        """The hub's SQLite file, separate from the engine's tracker store."""
        return self.data_dir / "hub.db"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> HubSettings:
        """Read the settings from environment variables; an empty variable counts as unset."""
        return cls(
            engine_token=_engine_token(env),
            host=_value(env, "HUB_HOST") or "127.0.0.1",
            port=_port(env),
            engine_url=_base_url(
                {"ENGINE_URL": _value(env, "ENGINE_URL").split(",")[0]}, "ENGINE_URL", DEFAULT_ENGINE_URL
            ),
            actions_url=_base_url(env, "ACTIONS_URL", DEFAULT_ACTIONS_URL),
            data_dir=Path(_value(env, "DATA_DIR") or "var"),
            engine_timeout=_engine_timeout(env),
            channels=_channels(env),
            retention_days=_retention_days(env),
            handoff_wait_limit=_handoff_wait_limit(env),
            engine_urls=_engine_urls(env),
        )


def _value(env: Mapping[str, str], name: str) -> str:
    """The variable's value without surrounding whitespace, or "" when it is unset."""
    return env.get(name, "").strip()


def _engine_token(env: Mapping[str, str]) -> str:
    token = _value(env, "ENGINE_TOKEN")
    if not token:
        raise SettingsError(
            "ENGINE_TOKEN is not set: set it to the token the engine was started with "
            "(rasa run --enable-api --auth-token ...)"
        )
    return token


def _port(env: Mapping[str, str]) -> int:
    raw = _value(env, "HUB_PORT")
    if not raw:
        return 8080
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"HUB_PORT is {raw!r}: set it to a port number from 1 to 65535, such as 8080")
    return int(raw)


def _base_url(env: Mapping[str, str], name: str, default: URL) -> URL:
    raw = _value(env, name)
    if not raw:
        return default
    try:
        url = URL(raw)
    except ValueError:
        url = URL()
    if url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        raise SettingsError(
            f"{name} is {raw!r}: set it to a base URL with http:// or https:// and no query, such as {default}"
        )
    return url.with_path(url.path.rstrip("/"))


def _channels(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = _value(env, "HUB_CHANNELS")
    if not raw:
        return DEFAULT_CHANNELS
    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    if not names or not all(name.isascii() and name.isidentifier() and name.islower() for name in names):
        raise SettingsError(f"HUB_CHANNELS is {raw!r}: set it to channel names separated by commas, such as web,line")
    return names


def _retention_days(env: Mapping[str, str]) -> int:
    raw = _value(env, "RETENTION_DAYS")
    if not raw:
        return DEFAULT_RETENTION_DAYS
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 3650:
        raise SettingsError(f"RETENTION_DAYS is {raw!r}: set it to a number of days from 1 to 3650, such as 90")
    return int(raw)


def _handoff_wait_limit(env: Mapping[str, str]) -> float:
    raw = _value(env, "HANDOFF_WAIT_LIMIT")
    if not raw:
        return DEFAULT_HANDOFF_WAIT_LIMIT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 1 <= seconds <= 86400:
        raise SettingsError(
            f"HANDOFF_WAIT_LIMIT is {raw!r}: set it to the seconds a resident waits for staff before being offered "
            "other ways, from 1 to 86400, such as 300"
        )
    return seconds


def _engine_timeout(env: Mapping[str, str]) -> float:
    raw = _value(env, "ENGINE_TIMEOUT")
    if not raw:
        return 10.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"ENGINE_TIMEOUT is {raw!r}: set it to a number of seconds greater than 0, such as 10")
    return seconds


def _engine_urls(env: Mapping[str, str]) -> tuple[URL, ...]:
    """Each base URL of ENGINE_URL when it lists several engines separated by commas."""
    raw = _value(env, "ENGINE_URL")
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) < 2:
        return ()
    if not all(parts):
        raise SettingsError(f"ENGINE_URL is {raw!r}: separate the engines' base URLs with single commas")
    urls = tuple(_base_url({"ENGINE_URL": part}, "ENGINE_URL", DEFAULT_ENGINE_URL) for part in parts)
    if len(set(urls)) != len(urls):
        raise SettingsError(f"ENGINE_URL is {raw!r}: list each engine once")
    return urls
