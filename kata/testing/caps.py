"""Caps the learner's code made up: at most so many calls in flight at once.

A docstring that asks for every call at the same time asks for all of them, however many. An
answer with a cap of its own (a semaphore of 20, batches of 50, "to spare the service") passes
every test with fewer inputs than its cap, so each red team found the next round number just above
the tests' inputs (10, then 20, then 50). These tests give more inputs than any round cap a learner
writes (MORE_THAN_ANY_CAP), and hold each call until all of them are in flight, or HELD_LONGEST s
have passed since the first call began, longer while calls are still starting (kata.testing.hold_ends):
correct code, however slowly a busy machine (or judge mode, where each call crosses from another
process) starts them, has them all in flight at once, and no faster; code with a cap stops
starting calls and is let go, and the service's `peak` says the cap it kept.

    count = more_than_any_cap(rng)
    fetch = FakeService("fetch", delay=0.02, reply=item_for)
    with held_until_all_in_flight(fetch, count):
        result = await ex.fetch_all(fetch, ids_of(count))  # or a plain test calling plain code
    assert_no_cap_of_its_own(fetch, count, f"fetch_all(fetch, <{count} ids>)", "ids", "gather them all")
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator

from kata.testing import clock, margins
from kata.testing.fakes import Call, FakeService
from kata.testing.hold_ends import StartsSeen

# Above 10, 16, 20, 32, 50, 64, 100 and 128, and within aiohttp's default of 100 connections per
# session where a test's session is the learner's own (those tests keep to their own range).
MORE_THAN_ANY_CAP = (129, 160)
HELD_LONGEST = 1.0  # seconds from the first call: code that starts its calls one by one is not held for ever


# The loop guard's stall limit for those tests (pytest.mark.stall_limit): starting 129-160 calls is
# a step of the loop long enough to freeze it on a busy machine, the more so in judge mode, where
# each crosses (0.10-0.16 s for 03's reference at a load of 4-8, a learner trial's). Blocking code
# is the exercise's other tests' business.
MANY_CALLS_STALL_LIMIT = 0.5


def more_than_any_cap(rng: random.Random) -> int:
    return rng.randint(*MORE_THAN_ANY_CAP)


def still_starting(service: FakeService) -> bool:
    """Whether `service`'s hold (`held_until_all_in_flight`) gave up before every call was in
    flight while calls were still starting (kata.testing.hold_ends): started slowly by a busy machine,
    not held back by a cap of the code's own."""
    hold = getattr(service, "hold", None)
    return isinstance(hold, _AllInFlight) and not hold.reached and hold.starts.still_starting


class _AllInFlight:
    """What each held call waits on (FakeService.hold): until `count` calls are in flight at once,
    or the hold gives up (kata.testing.hold_ends). Each loop the calls run on waits on an event of its
    own: a plain function runs its own loop (06's fetch_all_sync; in judge mode, the judge's mirror
    of it), and code that wrongly spreads its calls over loops in threads is held too, never broken
    by a shared event."""

    def __init__(self, service: FakeService, count: int, longest: float) -> None:
        self.service, self.count = service, count
        self.starts = StartsSeen(longest)
        self.reached = False
        self._events: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}
        self._timers: list[tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle]] = []

    def started(self, _call: Call) -> None:
        self.starts.started(clock.perf_counter())
        if self.service.in_flight >= self.count and not self.reached:
            self.reached = True
            self._let_go()

    def __call__(self, _call: Call) -> _AllInFlight:
        return self

    def _ask_again(self, loop: asyncio.AbstractEventLoop, left: float) -> None:
        due = clock.perf_counter() + left
        self._timers.append((loop, loop.call_later(left, self._expire, loop, due)))

    def _expire(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        now = clock.perf_counter()
        left = self.starts.left(now, late=now - due)
        if self.reached or left <= 0:
            if not self.reached:
                self.starts.give_up(now)
            self._let_go()
            return
        self._ask_again(loop, left)

    def _let_go(self) -> None:
        for loop, event in list(self._events.items()):
            _soon(loop, event.set)

    async def wait(self) -> None:
        if self.reached or self.starts.gave_up is not None:
            return
        loop = asyncio.get_running_loop()
        event = self._events.get(loop)
        if event is None:
            event = self._events[loop] = asyncio.Event()
            self._ask_again(loop, max(0.0, self.starts.left(clock.perf_counter())))
            if self.reached or self.starts.gave_up is not None:  # from another thread meanwhile
                event.set()
        await event.wait()

    def close(self) -> None:
        for loop, timer in self._timers:
            _soon(loop, timer.cancel)


def _soon(loop: asyncio.AbstractEventLoop, callback) -> None:
    with contextlib.suppress(RuntimeError):  # a loop closed since: nothing waits there
        loop.call_soon_threadsafe(callback)


@contextlib.contextmanager
def held_until_all_in_flight(
    service: FakeService, count: int, longest: float = HELD_LONGEST
) -> Iterator[None]:
    """While in force, each call to `service` answers, its delay over, only once `count` calls are
    in flight at once, or `longest` s after the first began (longer while calls are still
    starting); in async tests and plain ones alike."""
    held = _AllInFlight(service, count, longest)
    earlier = service.on_start

    def on_start(call: Call) -> None:
        if earlier is not None:
            earlier(call)
        held.started(call)

    service.on_start = on_start
    service.hold = held
    try:
        yield
    finally:
        held.close()


def assert_no_cap_of_its_own(
    service: FakeService,
    count: int,
    called: str,
    things: str,
    remedy: str,
    longest: float = HELD_LONGEST,
    *,
    may_stop_early: bool = False,
) -> None:
    """The learner's `called` (as the message names it) was handed `count` `things`: every call to
    `service` made, and never all in flight at once, is a cap of its own. What to do instead:
    `remedy`. `may_stop_early`: a race, which may stop asking once it has its answer, so not every
    call need be made; none answers before all are in flight, so the peak alone judges it."""
    made_all = may_stop_early or len(service.calls) == count
    if made_all and service.peak < count:
        if still_starting(service):
            # The calls were still starting as the hold gave up: a busy machine (or judge mode's
            # crossings under load) started them slowly; a cap stops starting them while it waits.
            margins.cut_off(f"{called}: every call in flight within {longest:g} s")
        raise AssertionError(
            f"{called} ran its calls to {service.name} at most {service.peak} at a time (this test kept "
            f"each call going until all {count} were running, or for as long as more kept starting, "
            f"{longest:g} s at least): the "
            f"docstring asks for every call at the same time, however many {things} there are. Put no "
            f"limit of your own on them (no semaphore, no batches): {remedy}."
        )
