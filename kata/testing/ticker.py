"""Another task sharing the event loop, to show whether the loop stayed free.

    async with Ticker() as ticker:
        await learner_code()
    ticker.runs, ticker.longest_pause()

The ticker asks to run every `interval` seconds. Code that blocks the loop keeps
it from running at all (0 runs during a blocking call); code that awaits lets it
run many times, even on a busy machine where one scheduling hiccup may be long.

`Ticker` runs on the test's own loop; `LearnersTicker` is learner code ticking on the
learner's loop, watched through a fake's calls (what judge mode can see).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

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


class LearnersTicker:
    """Another task sharing the learner's event loop, made of the learner's own code, so that
    the judge sees it from outside (judge mode: their loop is in another process).

        tick = FakeService("tick", delay=0.0, reply=lambda: ...)
        async with LearnersTicker(tick, lambda: ex.poll_until_ready(tick, 0.01)) as ticker:
            await ex.poll_until_ready(check, interval)
        ticker.longest_pause()

    `start()` runs learner code that calls `tick` every so often (their own polling function,
    reminders due every 10 ms). Each call is recorded by the judge as it arrives: code that
    freezes the loop holds up the ticks, whichever process the loop is in. `stop()` asks the
    ticking code to end (it is cancelled if it has not within a second).
    """

    def __init__(
        self, tick: Any, start: Callable[[], Awaitable[Any]], stop: Callable[[], None] = lambda: None
    ):
        self.tick = tick
        self._start, self._stop = start, stop
        self.entered = self.left = 0.0

    async def __aenter__(self) -> LearnersTicker:
        self.entered = clock.perf_counter()
        self._task = asyncio.ensure_future(self._start())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.left = clock.perf_counter()
        self._stop()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 1.0)
        except BaseException:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    @property
    def span(self) -> float:
        return self.left - self.entered

    def _moments(self) -> list[float]:
        starts = sorted(call.start for call in self.tick.calls if call.start <= self.left)
        return [self.entered, *starts, self.left]

    @property
    def runs(self) -> int:
        return len(self._moments()) - 2

    def longest_pause(self) -> float:
        return max(later - earlier for earlier, later in itertools.pairwise(self._moments()))
