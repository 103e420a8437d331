"""The console's configuration, read from the hub's environment and checked at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.hub.settings import SettingsError

DEFAULT_IDLE_MINUTES = 30
DEFAULT_CANNED_REPLIES = Path(__file__).resolve().parents[2] / "config" / "console_replies.yml"


@dataclass(frozen=True)
class ConsoleSettings:
    """Where the accounts live, how cookies are sent and how long an idle session lasts."""

    data_dir: Path = Path("var")
    insecure_cookies: bool = False
    idle_timeout: timedelta = timedelta(minutes=DEFAULT_IDLE_MINUTES)
    canned_replies_path: Path = DEFAULT_CANNED_REPLIES
    # Failed log-ins in a row before an account is locked, and for how long.
    lockout_after: int = 5
    lockout_for: timedelta = timedelta(minutes=15)

    @property
    def database_path(self) -> Path:
        """The console's own SQLite file: accounts, sessions and the audit log, apart from residents' data."""
        return self.data_dir / "console.db"

    @classmethod
    def from_env(cls, env: Mapping[str, str], data_dir: Path) -> ConsoleSettings:
        """Read CONSOLE_INSECURE_COOKIES and CONSOLE_IDLE_MINUTES; an empty variable counts as unset."""
        return cls(data_dir=data_dir, insecure_cookies=_insecure_cookies(env), idle_timeout=_idle_timeout(env))


def _insecure_cookies(env: Mapping[str, str]) -> bool:
    raw = env.get("CONSOLE_INSECURE_COOKIES", "").strip()
    if raw not in ("", "0", "1"):
        raise SettingsError(
            f"CONSOLE_INSECURE_COOKIES is {raw!r}: "
            "set it to 1 only for plain-HTTP use on this machine, or leave it unset"
        )
    return raw == "1"


def _idle_timeout(env: Mapping[str, str]) -> timedelta:
    raw = env.get("CONSOLE_IDLE_MINUTES", "").strip()
    if not raw:
        return timedelta(minutes=DEFAULT_IDLE_MINUTES)
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 480:
        raise SettingsError(f"CONSOLE_IDLE_MINUTES is {raw!r}: set it to a number of minutes from 1 to 480, such as 30")
    return timedelta(minutes=int(raw))
