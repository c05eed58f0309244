"""Another task sharing the event loop, to show whether the loop stayed free.

    async with Ticker() as ticker:
        await learner_code()
    ticker.runs, ticker.longest_pause()

The ticker asks to run every `interval` seconds. Code that blocks the loop keeps
it from running at all (0 runs during a blocking call); code that awaits lets it
run many times, even on a busy machine where one scheduling hiccup may be long.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from kata.testing import clock


class Ticker:
    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.ticks: list[float] = []
        self.entered = self.left = 0.0

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.ticks.append(clock.perf_counter())

    async def __aenter__(self) -> Ticker:
        self.entered = clock.perf_counter()
        self._task = asyncio.create_task(self._tick(), name="ticker")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.left = clock.perf_counter()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    @property
    def span(self) -> float:
        """Seconds the `async with` block lasted."""
        return self.left - self.entered

    @property
    def runs(self) -> int:
        """How many times the ticker got to run during the block."""
        return len([t for t in self.ticks if t <= self.left])

    def longest_pause(self) -> float:
        """The longest stretch during the block in which the ticker did not get to run."""
        moments = [self.entered, *(t for t in self.ticks if t <= self.left), self.left]
        return max(later - earlier for earlier, later in itertools.pairwise(moments))
