"""How many threads the code under test's process has now: a wait that holds a thread shows here.

In one process that is this process's count. In judge mode the code runs in another process, and
that process says how many it has (the sandbox's word: it can fail a test, never pass it; a host
rewritten to lie can hide threads, as kata.judge.coverage says).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable

from kata.testing import clock

# Set by the kata's plugin in judge mode: asks the sandbox for its count, and when it counted.
elsewhere: Callable[[], Awaitable[tuple[int, float]]] | None = None


async def threads_counted() -> tuple[int, float]:
    """The threads alive in the process the code under test runs in, and when they were counted
    there (kata clock: the same clock in both processes). A count that cannot be read comes with
    an infinite time: too late for any check that needs a count taken in time."""
    if elsewhere is not None:
        return await elsewhere()
    return threading.active_count(), clock.perf_counter()


async def threads_running() -> int:
    """The threads alive now in the process the code under test runs in."""
    return (await threads_counted())[0]
