"""The jobs exercise 10's tests send to a process pool, in a module that imports only the
standard library.

A pool worker imports the module of every function it is sent. Through kata.testing it
would load aiohttp and the rest of the test machinery first: in a "spawn" worker that
is most of its start-up time, and on a busy machine seconds of it.
"""

from __future__ import annotations

import contextlib
import os
import time

# Bound at import, as kata.testing.clock does: learner code never runs in a worker, and
# the parent's clock.perf_counter reads the same system-wide clock.
_perf_counter = time.perf_counter
_sleep = time.sleep

# Set in pool worker processes by `log_calls_to`; stays None in the test process, so only
# calls that really ran in the pool are logged.
_log = None


def count_primes(limit: int) -> int:
    """How many primes are below `limit`, by slow trial division: pure CPU work that never
    waits (about 0.2 s for 200_000 on a 2020s laptop core)."""
    start = _perf_counter()
    count = 0
    for n in range(2, limit):
        divisor = 2
        while divisor * divisor <= n:
            if n % divisor == 0:
                break
            divisor += 1
        else:
            count += 1
    if _log is not None:
        _log.put((limit, os.getpid(), start, _perf_counter()))
    return count


def log_calls_to(log) -> None:
    """Pool initializer: this worker process writes every count_primes call it runs to `log`
    (a multiprocessing SimpleQueue) as (limit, pid, start, end)."""
    global _log
    _log = log
    # Two busy workers fill both cores of a small machine; at a lower priority they can
    # never starve the test's event loop, so a stall the loop guard sees is the learner's.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)


def worker_pid(pause: float) -> int:
    """Pause, then name the process that ran this: used to start every worker of a pool early."""
    _sleep(pause)
    return os.getpid()
