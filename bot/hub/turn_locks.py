"""One turn at a time per conversation: a lock per conversation id, kept only while someone holds or awaits it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class TurnLocks:
    """Serialises the turns of each conversation; different conversations never wait for each other."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    async def acquire(self, conversation_id: str) -> None:
        """Wait until no other turn of this conversation runs, then hold its lock."""
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        self._users[conversation_id] = self._users.get(conversation_id, 0) + 1
        try:
            await lock.acquire()
        except BaseException:
            self._forget_one(conversation_id)
            raise

    def release(self, conversation_id: str) -> None:
        """Let the conversation's next turn run; drop the lock when nobody else waits for it."""
        self._locks[conversation_id].release()
        self._forget_one(conversation_id)

    @contextlib.asynccontextmanager
    async def held_for(self, conversation_id: str) -> AsyncIterator[None]:
        """Hold the conversation's lock for the body of a `with` block."""
        await self.acquire(conversation_id)
        try:
            yield
        finally:
            self.release(conversation_id)

    def is_held(self, conversation_id: str) -> bool:
        """Whether a turn of this conversation runs now."""
        lock = self._locks.get(conversation_id)
        return lock is not None and lock.locked()

    def held(self) -> int:
        """How many conversations have a turn running or waiting (for health details and tests)."""
        return len(self._locks)

    def _forget_one(self, conversation_id: str) -> None:
        self._users[conversation_id] -= 1
        if self._users[conversation_id] == 0:
            del self._users[conversation_id]
            del self._locks[conversation_id]
