"""The judge's watch on the learner's event loop: a ping that the loop must answer in time.

The host answers `ping()` from a task on its event loop, so an answer comes late exactly when
something there blocks the loop (time.sleep, a blocking call, CPU-heavy work). The judge
measures that on its own clock: a blocked loop is seen here, whatever the sandbox says.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kata.testing import clock

# Each ping is two messages and a task on both sides: every 10 ms, not the in-process guard's 5 ms
# (a stall is measured by the ping it holds up, so one of 0.1 s is still seen within 10 ms).
INTERVAL = 0.01


class RemoteBeat:
    def __init__(self, host: Any, interval: float = INTERVAL) -> None:
        self.host = host
        self.interval = interval
        self.worst = 0.0
        self._sent: float | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> asyncio.Task:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kata-remote-heartbeat")
        return self._task

    async def _run(self) -> None:
        while True:
            self._sent = clock.monotonic()
            await self.host.ping()
            self.worst = max(self.worst, clock.monotonic() - self._sent)
            self._sent = None
            await asyncio.sleep(self.interval)

    async def stop(self) -> float:
        """The longest the loop took to answer (a ping still unanswered counts as it stands)."""
        if self._sent is not None:
            self.worst = max(self.worst, clock.monotonic() - self._sent)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._task), timeout=1.0)
        return self.worst
