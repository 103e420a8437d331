"""The LINE channel (Messaging API): a signed webhook in, the reply and push APIs out.

Settings: LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN (without a secret the channel is off), and
LINE_API_BASE_URL (default LINE's own; tests point it at a fake). Webhook URL: https://<hub>/channels/line/webhook.
The rich menu is created by `python -m channels.line rich-menu`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from aiohttp import web

from bot.hub.inbox import InboxWorker
from bot.hub.keys import CORE, STORE
from bot.hub.messages import BotMessage
from bot.hub.store import Conversation
from channels.line.api import LineApi
from channels.line.delivery import LineDelivery
from channels.line.inbound import NAME, LineEvents
from channels.line.settings import LineSettings

WEBHOOK_PATH = "/channels/line/webhook"


class LineChannel:
    """LINE as the hub sees it: routes for the webhook, and deliver() for the outbox."""

    name = NAME

    def __init__(self, settings: LineSettings) -> None:
        self.settings = settings
        self.api = LineApi(settings)
        self.delivery = LineDelivery(self.api)
        self.events = LineEvents(settings.channel_secret, self.api, self.delivery)

    def add_routes(self, app: web.Application) -> None:
        """Register the webhook, and the client and event worker that live as long as the hub."""
        app.router.add_post(WEBHOOK_PATH, self.events.webhook)
        app.cleanup_ctx.append(self._lifetime)

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        """Send the messages to the resident (reply token while valid, else push); raise DeliveryFailed."""
        await self.delivery.deliver(conversation, messages)

    async def _lifetime(self, app: web.Application) -> AsyncIterator[None]:
        await self.api.open()
        worker = InboxWorker(app[STORE], NAME, self.events.handle)
        self.events.start(app[CORE], worker)
        try:
            yield
        finally:
            await worker.stop()
            await self.api.close()


def create(env: Mapping[str, str]) -> LineChannel:
    """The LINE channel from its settings; ChannelOff without a secret, ChannelSettingsError when one is wrong."""
    return LineChannel(LineSettings.from_env(env))
