"""The engines' shared conversation lock: Rasa's Redis ticket lock, with each change to it made atomically.

Rasa 3.6's `RedisLockStore` changes a conversation's ticket lock by reading it from Redis, changing it in the
process and writing it back (`issue_ticket`, `update_lock`, `finish_serving`, `cleanup`), with nothing to stop
another engine from doing the same in between. When two engines take one conversation's messages at the same
moment, both can read "no tickets" and both write ticket 0, so both hold the lock and run their turns at once;
each turn then saves its events against a tracker read before the other's were stored, and Rasa's tracker
store, which appends only the events beyond the count already stored, drops the second turn's message. Or one
engine's write removes the other's ticket, or deletes the lock it waits on (a `LockError`, answered with 500),
or leaves a lock with no tickets on which the other waits for ever.
Seen as a lost message in tests/e2e/test_scale_out.py; two processes taking the lock 100 times each overlapped
2 to 12 times and failed 4 to 8 times with Rasa's store, never with this one (tests/engine/test_lock_store.py).

Here each change runs in a Redis transaction that watches the lock's key (optimistic: retried when another
engine changed the key in between), so tickets are numbered, served and removed in order across engines. The
stored lock, its key and the waiting loop are Rasa's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket changes are Redis transactions; configured as Rasa's `redis` type is."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # Rasa builds a lock store named by its module path with only `endpoint_config`.
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change_lock(self, conversation_id: str, change: Callable[[TicketLock | None], TicketLock | None]) -> None:
        """Read the lock, apply `change`, and store what it returns (delete the key on None), atomically."""
        key = self.key_prefix + conversation_id

        def attempt(pipe: Any) -> None:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            changed = change(lock)
            pipe.multi()
            if changed is None:
                pipe.delete(key)
            else:
                pipe.set(key, changed.dumps())

        self.red.transaction(attempt, key)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue the next ticket of the conversation's lock, creating the lock when there is none."""
        issued: list[int] = []

        def issue(lock: TicketLock | None) -> TicketLock:
            lock = lock or self.create_lock(conversation_id)
            issued[:] = [lock.issue_ticket(lock_lifetime)]
            return lock

        try:
            self._change_lock(conversation_id, issue)
        except Exception as error:  # Rasa's own wording and type, which its agent expects
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        return issued[0]

    def update_lock(self, conversation_id: str) -> None:
        """Remove the lock's expired tickets (a waiting engine does this between attempts), and the lock when none
        is left.

        Rasa keeps a lock with no tickets, and an engine whose own ticket expired while it waited then waits on
        it for ever (seen in tests/engine/test_lock_store.py with Rasa's store); without the lock it stops with
        Rasa's `LockError`.
        """

        def remove_expired(lock: TicketLock | None) -> TicketLock | None:
            if lock is None:
                return None
            lock.remove_expired_tickets()
            return lock if lock.is_someone_waiting() else None

        self._change_lock(conversation_id, remove_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket from the lock, keeping the lock."""

        def remove_ticket(lock: TicketLock | None) -> TicketLock | None:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock

        self._change_lock(conversation_id, remove_ticket)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket, and the lock with it when no other ticket waits, in one step."""

        def remove_ticket_and_idle_lock(lock: TicketLock | None) -> TicketLock | None:
            if lock is None:
                return None
            lock.remove_ticket_for(ticket_number)
            return lock if lock.is_someone_waiting() else None

        self._change_lock(conversation_id, remove_ticket_and_idle_lock)
