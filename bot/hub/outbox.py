"""Delivers what waits in the outbox through the channels that can push, retrying with back-off.

Messages are written to the store before any channel sends them, so a failed push, or a hub that stops
half-way, loses nothing: the worker finds them again on its next round (also after a restart). Channels
that cannot push (the plain web chat) leave their messages waiting until the resident's client fetches them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from itertools import groupby

from bot.hub.store import OutboxItem, StoreThread
from channels import DeliveryFailed, PushChannel

logger = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=2)
LONGEST_RETRY = timedelta(minutes=5)
# After a permanent failure (the platform said the address is gone) the message is kept, tried rarely.
PERMANENT_FAILURE_RETRY = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the given number of failed attempts: 2 s, 4 s, 8 s … at most 5 minutes."""
    return min(FIRST_RETRY * (2 ** min(attempts, 16)), LONGEST_RETRY)


class Outbox:
    """The delivery worker: wakes when a turn writes messages, and every few seconds for retries."""

    def __init__(self, db: StoreThread, channels: Mapping[str, PushChannel], poll_seconds: float = 2.0) -> None:
        self._db = db
        self._channels = dict(channels)
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self, channel: str) -> None:
        """A turn wrote messages for this channel: deliver them now if it can push."""
        if channel in self._channels:
            self._wake.set()

    def start(self) -> None:
        """Run the worker in the background until stop()."""
        self._task = asyncio.create_task(self._run(), name="outbox")
        self._wake.set()

    async def stop(self) -> None:
        """Stop the worker; what is not delivered stays in the store for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def deliver_due(self) -> int:
        """One round: push every due message, grouped per conversation in order; return how many arrived."""
        due = await self._db(lambda s: s.due_for_delivery(self._channels))
        delivered = 0
        for _, group in groupby(due, key=lambda item: item.conversation_id):
            delivered += await self._deliver_conversation(list(group))
        return delivered

    async def _deliver_conversation(self, items: list[OutboxItem]) -> int:
        channel = self._channels[items[0].channel]
        conversation = await self._db(lambda s: s.conversation(items[0].conversation_id))
        ids = [item.id for item in items]
        try:
            await channel.deliver(conversation, [item.message for item in items])
        except DeliveryFailed as failure:
            reason = str(failure)
            attempts = max(item.attempts for item in items)
            delay = retry_delay(attempts) if failure.retry else PERMANENT_FAILURE_RETRY
            logger.warning(
                "outbox: conversation=%s messages=%d not delivered (attempt %d, next in %ds): %s",
                conversation.id, len(ids), attempts + 1, delay.total_seconds(), reason,
            )  # fmt: skip
            await self._db(lambda s: s.mark_failed(ids, reason, delay))
            return 0
        await self._db(lambda s: s.mark_delivered(ids))
        return len(ids)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:
                # The worker must outlive one bad round; the messages stay in the store.
                logger.exception("outbox: a delivery round failed")
