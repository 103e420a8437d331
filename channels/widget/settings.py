"""The widget's settings from the environment, checked when the hub starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from yarl import URL

from channels import ChannelSettingsError

ORIGINS_VARIABLE = "WIDGET_ALLOWED_ORIGINS"


@dataclass(frozen=True)
class WidgetSettings:
    """Which city pages may open the widget's WebSocket, besides the pages the hub serves itself."""

    allowed_origins: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WidgetSettings:
        """Read WIDGET_ALLOWED_ORIGINS: origins such as https://www.city.example.lg.jp, separated by commas."""
        raw = env.get(ORIGINS_VARIABLE, "").strip()
        origins = [part.strip() for part in raw.split(",") if part.strip()]
        return cls(frozenset(_origin(value, raw) for value in origins))


def normal_origin(value: str) -> str | None:
    """An origin as scheme://host:port in lower case, or None when the value is not an http(s) origin."""
    try:
        url = URL(value)
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/") or url.query_string:
        return None
    if url.user or url.fragment:
        return None
    return f"{url.scheme}://{url.host.lower()}:{url.port}"


def _origin(value: str, raw: str) -> str:
    origin = normal_origin(value)
    if origin is None:
        raise ChannelSettingsError(
            f"{ORIGINS_VARIABLE} is {raw!r}: {value!r} is not an origin; list the city pages that embed the widget "
            "as scheme://host[:port] separated by commas, such as https://www.city.example.lg.jp"
        )
    return origin
