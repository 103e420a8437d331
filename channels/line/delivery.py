"""Sends the outbox's messages to LINE: with the event's reply token while it is valid (once), else by push.

A push carries an X-Line-Retry-Key that is kept for the same request until it is delivered, so when the outbox
tries again after a timeout or a 5xx, LINE can tell a repeat (it answers 409: already accepted, so delivered).
Requests that already went through are not sent again when a later one of the same delivery fails.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from bot.hub.messages import BotMessage
from bot.hub.store import Conversation
from channels import DeliveryFailed
from channels.line.api import LineApi, LineApiError
from channels.line.outgoing import LineMessage, batches, line_messages

logger = logging.getLogger(__name__)

# LINE keeps a reply token valid for a short while after the event; after this long the answer goes by push.
REPLY_TOKEN_SECONDS = 50.0
SENT = ""


@dataclass(frozen=True)
class ReplyToken:
    """An event's reply token and until when (epoch seconds) it is worth trying."""

    token: str
    valid_until: float


class LineDelivery:
    """The LINE channel's outgoing side, shared by the outbox (deliver) and the event handlers (tokens)."""

    def __init__(self, api: LineApi) -> None:
        self._api = api
        self._tokens: dict[str, ReplyToken] = {}
        # Per conversation: each request of the delivery in progress -> its retry key, or SENT once through.
        self._progress: dict[str, dict[str, str]] = {}
        self._quiet_until = 0.0

    def offer_reply_token(self, chat_id: str, token: str | None, event_ms: int) -> None:
        """Keep an event's reply token for the chat's next delivery (the newest token wins)."""
        if not token:
            return
        received = event_ms / 1000 if event_ms else time.time()
        self._tokens[chat_id] = ReplyToken(token, min(received, time.time()) + REPLY_TOKEN_SECONDS)

    def drop_reply_token(self, chat_id: str) -> None:
        """Forget the chat's reply token (the resident left)."""
        self._tokens.pop(chat_id, None)

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        """Send the messages in order, at most 5 objects a request; raise DeliveryFailed for the outbox to retry."""
        to = conversation.address
        if not to:
            raise DeliveryFailed("the conversation has no LINE user to send to", retry=False)
        wait = self._quiet_until - time.monotonic()
        if wait > 0:
            raise DeliveryFailed(f"LINE asked to wait {wait:.0f}s more (Retry-After)")
        token = self._take_token(to)
        progress = self._progress.setdefault(conversation.id, {})
        for index, batch in enumerate(batches(line_messages(messages))):
            step = _step(index, batch)
            if progress.get(step) == SENT:
                continue
            if token is not None:
                used, token = token, None
                if await self._reply(used, batch):
                    progress[step] = SENT
                    continue
            key = progress.setdefault(step, str(uuid.uuid4()))
            try:
                await self._api.push(to, batch, key)
            except LineApiError as error:
                if error.status == 409:
                    # The same retry key was accepted before: the messages were delivered.
                    logger.info("line: conversation=%s push already accepted (409 on retry)", conversation.id)
                else:
                    if error.retry_after:
                        self._quiet_until = time.monotonic() + error.retry_after
                    raise DeliveryFailed(str(error), retry=error.worth_retrying) from error
            progress[step] = SENT
        self._progress.pop(conversation.id, None)

    async def _reply(self, token: str, batch: list[LineMessage]) -> bool:
        """Try the reply token; False sends the batch by push instead (an expired or used token, LINE's trouble)."""
        try:
            await self._api.reply(token, batch)
        except LineApiError as error:
            logger.info("line: reply token not taken (%s); pushing instead", error)
            return False
        return True

    def _take_token(self, chat_id: str) -> str | None:
        token = self._tokens.pop(chat_id, None)
        if token is None or token.valid_until < time.time():
            return None
        return token.token


def _step(index: int, batch: list[LineMessage]) -> str:
    """One request of a delivery, recognised again when the outbox retries the same messages."""
    content = json.dumps(batch, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{index}:{content}".encode()).hexdigest()
