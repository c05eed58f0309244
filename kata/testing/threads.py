"""How many threads the code under test's process has now: a wait that holds a thread shows here.

In one process that is this process's count. In judge mode the code runs in another process, and
that process says how many it has (the sandbox's word: it can fail a test, never pass it; a host
rewritten to lie can hide threads, as kata.judge.coverage says).
"""

from __future__ import annotations

import os
import threading

from kata.testing import clock, elsewhere


def threads_alive() -> int:
    """This process's threads as the kernel counts them (Linux: /proc/self/task), those `threading`
    was never told of included (`_thread.start_new_thread`: 04's thread-per-countdown answer built
    so passed every test when `threading.active_count()` counted); elsewhere, threading's count."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


async def threads_counted() -> tuple[int, float]:
    """The threads alive in the process the code under test runs in, and when they were counted
    there (kata clock: the same clock in both processes). A count that cannot be read comes with
    an infinite time: too late for any check that needs a count taken in time."""
    if elsewhere.process is not None:
        return await elsewhere.process.threads_running()
    return threads_alive(), clock.perf_counter()


async def threads_running() -> int:
    """The threads alive now in the process the code under test runs in."""
    return (await threads_counted())[0]
