"""How many threads the code under test's process has now: a wait that holds a thread shows here.

In one process that is this process's count. In judge mode the code runs in another process, and
that process says how many it has (the sandbox's word: it can fail a test, never pass it; a host
rewritten to lie can hide threads, as kata.judge.coverage says).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable

# Set by the kata's plugin in judge mode: asks the sandbox for its count.
elsewhere: Callable[[], Awaitable[int]] | None = None


async def threads_running() -> int:
    """The threads alive now in the process the code under test runs in."""
    if elsewhere is not None:
        return await elsewhere()
    return threading.active_count()
