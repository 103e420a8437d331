"""The LINE channel (Messaging API): a signed webhook in, the reply and push APIs out.

Settings: LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN (without a secret the channel is off), and
LINE_API_BASE_URL (default LINE's own; tests point it at a fake). Webhook URL: https://<hub>/channels/line/webhook.
The rich menu is created by `python -m channels.line rich-menu`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from channels.line.settings import LineSettings

if TYPE_CHECKING:
    from channels.line.channel import LineChannel

WEBHOOK_PATH = "/channels/line/webhook"


def create(env: Mapping[str, str]) -> LineChannel:
    """The LINE channel from its settings; ChannelOff without a secret, ChannelSettingsError when one is wrong."""
    settings = LineSettings.from_env(env)
    # line-bot-sdk takes a second or two to import: only a hub that serves LINE pays for it.
    from channels.line.channel import LineChannel

    return LineChannel(settings)
