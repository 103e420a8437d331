"""The LINE channel's settings, read from the environment and checked when the hub starts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from yarl import URL

from channels import ChannelOff, ChannelSettingsError

LINE_API = URL("https://api.line.me")
LINE_DATA_API = URL("https://api-data.line.me")
_SECRET = re.compile("[0-9a-f]{32}")


@dataclass(frozen=True)
class LineSettings:
    """The channel secret (checks webhook signatures), the access token (calls the API) and where the API is."""

    channel_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    api_url: URL = LINE_API
    data_api_url: URL = LINE_DATA_API

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LineSettings:
        """Raise ChannelOff without a secret, ChannelSettingsError when a value is there but unusable."""
        secret = env.get("LINE_CHANNEL_SECRET", "").strip()
        token = env.get("LINE_CHANNEL_ACCESS_TOKEN", "").strip()
        if not secret:
            raise ChannelOff(
                "LINE_CHANNEL_SECRET is not set: set it and LINE_CHANNEL_ACCESS_TOKEN "
                "(LINE Developers console, Messaging API channel) to switch LINE on"
            )
        if not _SECRET.fullmatch(secret):
            raise ChannelSettingsError(
                f"LINE_CHANNEL_SECRET has {len(secret)} characters: copy the 32-character channel secret "
                "from the LINE Developers console (Basic settings)"
            )
        if not token or any(char.isspace() for char in token):
            raise ChannelSettingsError(
                "LINE_CHANNEL_ACCESS_TOKEN is not set or has spaces: issue a long-lived channel access token "
                "in the LINE Developers console (Messaging API tab) and set it"
            )
        api_url = _api_url(env)
        # A test or a proxy gives one base URL for both of LINE's hosts.
        data_api_url = LINE_DATA_API if api_url == LINE_API else api_url
        return cls(secret, token, api_url, data_api_url)


def _api_url(env: Mapping[str, str]) -> URL:
    raw = env.get("LINE_API_BASE_URL", "").strip()
    if not raw:
        return LINE_API
    try:
        url = URL(raw)
    except ValueError:
        url = URL()
    if url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        raise ChannelSettingsError(
            f"LINE_API_BASE_URL is {raw!r}: set it to a base URL with http:// or https://, such as {LINE_API}, "
            "or leave it out to use LINE's own"
        )
    return url.with_path(url.path.rstrip("/"))
