"""Work that must leave the event loop, for exercise 10: a blocking fake and CPU-heavy counting.

A function sent to a process pool is pickled by its module and name, so a worker process
must be able to import it. The learner's file is loaded by path, which a spawned worker
cannot import; the work functions therefore live here, and tests hand them in.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from time import sleep as _blocking_sleep
from typing import Any

from kata.testing import clock
from kata.testing.fakes import Call, FakeService

# Set in pool worker processes by `log_calls_to`; stays None in the test process, so only
# calls that really ran in the pool are logged.
_log = None


@dataclass(eq=False)
class BlockingService(FakeService):
    """A plain, blocking function with latency that records every call, like FakeService.

    It sleeps in whichever thread calls it, so a call made from async code freezes the loop
    and a call made through `asyncio.to_thread` does not. Calls may come from several threads
    at once: a lock keeps `calls`, `in_flight` and `peak` right. The concurrency checks that
    take a FakeService accept it.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, *args: Any) -> Any:
        with self._lock:
            call = Call(args=args, start=clock.perf_counter())
            self.calls.append(call)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            _blocking_sleep(self.delay_for(*args))
            error = self.fail(*args) if self.fail else None
            if error is not None:
                call.outcome = "raised"
                raise error
            call.outcome = "returned"
            return self.reply(*args) if self.reply else (args[0] if args else None)
        finally:
            with self._lock:
                call.end = clock.perf_counter()
                self.in_flight -= 1


def count_primes(limit: int) -> int:
    """How many primes are below `limit`, by slow trial division: pure CPU work that never
    waits (about 0.2 s for 200_000 on a 2020s laptop core)."""
    start = clock.perf_counter()
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
        _log.put((limit, os.getpid(), start, clock.perf_counter()))
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
    _blocking_sleep(pause)
    return os.getpid()
