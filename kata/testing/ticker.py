"""Another task sharing the learner's event loop, to show whether the loop stayed free.

Code that blocks the loop keeps the ticks from coming at all (no tick during a blocking call);
code that awaits lets them come many times, even on a busy machine where one scheduling hiccup
may be long. The ticks are the learner's own code calling a fake of the test's, so the test sees
them whichever process the learner's loop is in (judge mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from kata.testing import clock


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
