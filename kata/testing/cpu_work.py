"""Work that must leave the event loop, for exercise 10: a blocking fake.

The CPU-heavy counting sent to process pools lives in kata.pool_jobs, a module of the
standard library only, so that a pool worker starts without importing the test machinery.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from time import sleep as _blocking_sleep
from typing import Any

from kata.testing import clock
from kata.testing.fakes import Call, FakeService


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
            held = self.hold(call) if self.hold is not None else None
            if held is not None:  # kata.testing.own_timers
                held.wait_in_thread()
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


LAST_WAIT = 1.0  # at most this long for the other calls: code that never makes them is not held longer


def failing_last(service: BlockingService, broken: Any, error: BaseException, others: int):
    """A `fail` for `service`: `error` for the call `service(broken)`, raised only once `others`
    calls for other arguments have returned, so that no thread is still busy when the error
    reaches the caller, however late a busy machine starts each thread. A test of how an error
    travels must not hang on which thread the machine ran first: with a shorter delay for the
    others instead, a correct answer failed under load (its other threads still running)."""

    def fail(*args: Any) -> BaseException | None:
        if args != (broken,):
            return None
        deadline = clock.monotonic() + LAST_WAIT
        while clock.monotonic() < deadline:
            with service._lock:
                returned = sum(1 for c in service.calls if c.args != (broken,) and c.end is not None)
            if returned >= others:
                break
            _blocking_sleep(0.005)
        return error

    return fail


def after_all_started(count: int, delay: float, at_most: float = LAST_WAIT):
    """A `delay` for BlockingService: each call first waits until `count` calls have started, then
    takes `delay` s more. Once one has waited `at_most` s, none waits again.

    For a test that watches what the code does while all its calls run: from the last call's start
    to the first one's end, at least `delay` s, however late a busy machine started each thread.
    With a plain delay, that stretch shrank to nothing under load (the threads started that far
    apart), and a check of it judged nothing. Code that makes its calls one after another waits
    out `at_most` once, not once per call."""
    lock = threading.Lock()
    started = 0
    every_one = threading.Event()

    def delay_for(*args: Any) -> float:
        nonlocal started
        with lock:
            started += 1
            if started >= count:
                every_one.set()
        if not every_one.wait(at_most):
            every_one.set()  # waited long enough: the rest go at once
        return delay

    return delay_for
