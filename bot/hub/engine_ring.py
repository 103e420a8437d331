"""Which engine process answers a conversation: a consistent hash of its id, and the next engine when one is down.

Every turn of a conversation goes to the same engine, so its turns never run in two engines at once (each
engine's lock store is its own; the tracker store is shared). When that engine cannot be reached its
conversations move to the next engine on the ring, and only those; when it is back they return to it.
"""

from __future__ import annotations

import bisect
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from yarl import URL

# Points per engine on the ring: enough that two to a dozen engines share conversations within a few percent.
POINTS_PER_ENGINE = 160
# How long an engine that refused a connection is passed over before it is tried again.
RETRY_AFTER_SECONDS = 2.0


def _point(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


@dataclass
class EngineRing:
    """The engines on a hash ring, with the ones that recently refused a connection set aside for a while."""

    engines: Sequence[URL]
    retry_after: float = RETRY_AFTER_SECONDS
    clock: Callable[[], float] = time.monotonic
    _points: list[int] = field(init=False, repr=False)
    _owners: list[URL] = field(init=False, repr=False)
    _down_until: dict[URL, float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.engines:
            raise ValueError("an engine ring needs at least one engine")
        ring = sorted(
            (_point(f"{engine}#{index}"), engine) for engine in self.engines for index in range(POINTS_PER_ENGINE)
        )
        self._points = [point for point, _ in ring]
        self._owners = [engine for _, engine in ring]

    def order(self, conversation_id: str) -> list[URL]:
        """Every engine, in the order to try for this conversation: its own first, then the next on the ring."""
        start = bisect.bisect(self._points, _point(conversation_id)) % len(self._points)
        seen: dict[URL, None] = {}
        for index in range(len(self._owners)):
            seen.setdefault(self._owners[(start + index) % len(self._owners)], None)
            if len(seen) == len(self.engines):
                break
        return list(seen)

    def candidates(self, conversation_id: str) -> list[URL]:
        """The engines to try now: those not set aside first, in ring order; set-aside ones last, as a last resort."""
        now = self.clock()
        ordered = self.order(conversation_id)
        up = [engine for engine in ordered if self._down_until.get(engine, 0.0) <= now]
        return up + [engine for engine in ordered if engine not in up]

    def refused(self, engine: URL) -> None:
        """Note that the engine refused a connection: pass over it for `retry_after` seconds."""
        self._down_until[engine] = self.clock() + self.retry_after

    def answered(self, engine: URL) -> None:
        """Note that the engine answered: it takes its conversations back."""
        self._down_until.pop(engine, None)
