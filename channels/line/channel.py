"""The LINE channel as the hub sees it: the webhook route, the client and event worker, and deliver()."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from bot.hub.inbox import InboxWorker
from bot.hub.keys import CORE, STORE
from bot.hub.messages import BotMessage
from bot.hub.store import Conversation
from channels.line import WEBHOOK_PATH
from channels.line.api import LineApi
from channels.line.delivery import LineDelivery
from channels.line.inbound import NAME, LineEvents
from channels.line.settings import LineSettings


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
