"""Measures how long the hub's event loop is ever kept from running (a blocking call stalls every resident)."""

from __future__ import annotations

import asyncio
import contextlib
import time


class LoopWatch:
    """Sleeps a short tick over and over and records the longest delay beyond it."""

    def __init__(self, tick: float = 0.05) -> None:
        self._tick = tick
        self.longest_stall = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin watching the running loop."""
        self._task = asyncio.create_task(self._watch(), name="loop-watch")

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def reset(self) -> float:
        """Return the longest stall so far and start measuring afresh (a benchmark brackets its run with it)."""
        longest, self.longest_stall = self.longest_stall, 0.0
        return longest

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self._tick)
            self.longest_stall = max(self.longest_stall, time.perf_counter() - before - self._tick)
