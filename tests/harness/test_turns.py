"""The loop guard times each stretch the event loop runs at its selector (kata.testing.turns):
no timer of its own wakes the loop, a block is measured at its length, and a loop without a
selector to time keeps a heartbeat. Each test runs its own loop (asyncio.run), without the
guard the kata puts on every test's loop."""

import asyncio
import selectors
import time

import pytest

from kata.testing import clock, loopguard, turns
from kata.testing.loopguard import LoopGuard

BLOCK = 0.25


def guarded(body):
    """Run `body()` on a fresh loop under a LoopGuard; the guard, its findings and body's result."""

    async def main():
        guard = LoopGuard()
        await guard.start()
        result = await body()
        return guard, await guard.finish(), result

    return asyncio.run(main())


@pytest.mark.load_sensitive  # a guard's 0.1 s limit over a sleep
def test_an_idle_loop_is_not_woken_by_the_guard(monkeypatch):
    waits = []
    select = selectors.DefaultSelector.select

    def counted(self, timeout=None):
        waits.append(timeout)
        return select(self, timeout)

    monkeypatch.setattr(selectors.DefaultSelector, "select", counted)

    async def idle():
        waits.clear()
        await asyncio.sleep(0.3)
        return len(waits)

    _, problems, woken = guarded(idle)
    assert problems == []
    # One wait for the sleep's timer, and a turn around it: a 5 ms heartbeat made about 60.
    assert woken <= 3, f"the loop waited for events {woken} times in a 0.3 s sleep"


@pytest.mark.load_sensitive  # a stall measured within 0.2 s
def test_a_block_is_measured_at_its_length_and_named():
    async def blocks():
        await asyncio.sleep(0.01)
        time.sleep(BLOCK)

    guard, problems, _ = guarded(blocks)
    assert BLOCK - 0.01 <= guard.worst_stall < BLOCK + 0.2, guard.worst_stall
    assert len(problems) == 1 and problems[0].startswith(loopguard.FROZEN_PREFIX), problems


@pytest.mark.load_sensitive  # a guard's 0.1 s limit
def test_awaiting_is_not_a_stall():
    async def waits():
        for _ in range(5):
            await asyncio.sleep(0.05)

    guard, problems, _ = guarded(waits)
    assert problems == [] and guard.worst_stall < loopguard.STALL_LIMIT, (guard.worst_stall, problems)


def test_a_loop_without_a_selector_to_time_keeps_the_heartbeat(monkeypatch):
    monkeypatch.setattr(turns.SelectWatch, "attach", classmethod(lambda cls, loop, began, ended: None))

    async def blocks():
        await asyncio.sleep(0.01)
        time.sleep(BLOCK)

    guard, problems, _ = guarded(blocks)
    assert guard.worst_stall >= BLOCK - loopguard.BEAT - 0.01, guard.worst_stall
    assert len(problems) == 1 and problems[0].startswith(loopguard.FROZEN_PREFIX), problems


def test_the_selector_is_given_back_when_the_test_ends():
    async def main():
        guard = LoopGuard()
        await guard.start()
        selector = asyncio.get_running_loop()._selector
        watched = "select" in vars(selector)
        await guard.finish()
        return watched, "select" in vars(selector)

    assert asyncio.run(main()) == (True, False)


def test_a_long_run_and_a_wait_that_ended_long_after_it_was_due_are_starved_an_idle_wait_is_not():
    """What a check of wake-ups needs to know (kata.testing.waiting.assert_loop_ran): where the
    loop could run nothing new. A run of its own that long, or a thread that woke long after its
    timeout (a busy machine), starves it; waiting on time for a timer that is not yet due does not."""
    selector = selectors.DefaultSelector()

    class Loop:
        _selector = selector

    watch = turns.SelectWatch.attach(Loop(), lambda: None, lambda: None)
    assert turns.SelectWatch.of(Loop()) is watch
    began = clock.perf_counter()
    selector.select(0.05)  # idle, and back on time
    time.sleep(0.03)  # the loop runs 30 ms without a turn
    ran_until = clock.perf_counter()
    own = watch._select
    watch._select = lambda timeout: (time.sleep(timeout + 0.03), own(0))[1]  # back 30 ms late
    selector.select(0.01)
    ended = clock.perf_counter()
    watch.detach()

    starved = watch.starved_in(began, ended)
    # A busy machine may starve the loop more (the idle wait may come back late too): each is
    # looked for, not counted.
    ran = [(a, b) for a, b in starved if began + 0.05 <= a < ran_until and b - a >= 0.03]
    late = [(a, b) for a, b in starved if a >= ran_until and b - a >= 0.03]
    assert ran, f"the 30 ms run without a turn: {starved}"
    assert late, f"the wait back 30 ms after it was due, from its due time: {starved}"
    assert watch.starved_in(began, began + 0.049) == [], "the idle wait, up to its due time, was not starved"
    assert turns.SelectWatch.of(Loop()) is None, "detached"


def test_a_loop_without_a_selector_has_no_watch_to_read():
    """Windows' proactor loop has no `_selector`: a wake watch then reads no starved stretches
    (None), instead of failing as it looks for them."""

    class Proactor:
        pass

    assert turns.SelectWatch.of(Proactor()) is None
    assert turns.SelectWatch.of(None) is None
