"""The pages open for each conversation, and the one path by which messages reach them."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.hub.core import ConversationCore
from bot.hub.store import Conversation

from . import protocol

logger = logging.getLogger(__name__)


class OpenPages:
    """Open WebSockets by conversation id; `flush` sends what waits in the outbox to all of them, once."""

    def __init__(self, ruby: Callable[[str], list[tuple[str, str]]]) -> None:
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        # One flush at a time per conversation: the outbox worker and a page's own turn may both try at once.
        self._sending: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._ruby = ruby

    def add(self, conversation_id: str, socket: web.WebSocketResponse) -> None:
        """Note a page that now shows this conversation (its first message just started it)."""
        self._sockets[conversation_id].add(socket)

    async def join(
        self,
        core: ConversationCore,
        conversation: Conversation,
        socket: web.WebSocketResponse,
        greet: Callable[[], Awaitable[None]],
    ) -> None:
        """Greet a returning page (with the history) and add it, then send it what waits.

        Under the conversation's lock: a push either went out before the history was read (and is in it) or
        waits until the page is added, so none is lost between the two.
        """
        async with self._sending[conversation.id]:
            await greet()
            self.add(conversation.id, socket)
        await self.flush(core, conversation)

    def remove(self, conversation_id: str, socket: web.WebSocketResponse) -> None:
        """Forget a page that closed."""
        sockets = self._sockets.get(conversation_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[conversation_id]
                lock = self._sending.get(conversation_id)
                if lock is not None and not lock.locked():
                    del self._sending[conversation_id]

    def count(self) -> int:
        """How many pages are open now."""
        return sum(len(sockets) for sockets in self._sockets.values())

    async def close_all(self) -> None:
        """Close every page's socket (the hub is stopping); the pages reconnect."""
        for sockets in list(self._sockets.values()):
            for socket in list(sockets):
                await socket.close()

    async def flush(self, core: ConversationCore, conversation: Conversation) -> bool:
        """Send the conversation's undelivered messages to its open pages; False when no page is open."""
        if not self._sockets.get(conversation.id):
            return False
        async with self._sending[conversation.id]:
            items = await core.undelivered(conversation)
            if not items:
                return True
            pairs = [(item.id, item.message) for item in items]
            frame = protocol.dumps(protocol.bot_messages(pairs, self._ruby, [item.sender for item in items]))
            if not await self._send_to_all(conversation.id, lambda socket: socket.send_str(frame)):
                return False
            await core.mark_delivered(items)
            return True

    async def send(self, socket: web.WebSocketResponse, frame: dict[str, object]) -> None:
        """Send one frame to one page; a page that has gone is dropped quietly."""
        try:
            await socket.send_str(protocol.dumps(frame))
        except (ConnectionError, RuntimeError):
            logger.info("widget: a page closed before a frame reached it")

    async def _send_to_all(
        self, conversation_id: str, send: Callable[[web.WebSocketResponse], Awaitable[None]]
    ) -> bool:
        reached = 0
        for socket in list(self._sockets.get(conversation_id, ())):
            if socket.closed:
                continue
            try:
                await send(socket)
                reached += 1
            except (ConnectionError, RuntimeError):
                # The page went away mid-send: others may still get it, and reconnecting pages get it from the outbox.
                logger.info("widget: conversation=%s a page closed during delivery", conversation_id)
        return reached > 0
