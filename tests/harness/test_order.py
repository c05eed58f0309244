"""Acting on the later of two outcomes (kata.testing.order): a failure on time only where both may
have reached the code together. In one process that is a gap the event loop could not turn
through; a loop free meanwhile woke the code with the first outcome alone, and the test's failure
stands as the code's (an answer wrong some of the time gets no second run to be lucky in). Each
test runs its own loop (asyncio.run) under a LoopGuard, which times the loop's turns."""

import asyncio
import time

from kata.testing import clock, letting_run, margins, order
from kata.testing.loopguard import LoopGuard

GAP = 0.25
CHECK = "99 demo: the first outcome is acted on"


def outcomes(hold_the_loop):
    """Two outcomes GAP apart on a fresh, guarded loop; the loop held through the gap (a blocking
    callback, as a busy machine holds its thread) or free. What margins noted, judging the code
    as having acted on the later one."""

    async def main():
        guard = LoopGuard(stall_limit=10.0)
        await guard.start()
        margins.clear()
        await asyncio.sleep(0.01)  # a turn of the loop, timed from here on
        first_end = clock.perf_counter()
        if hold_the_loop:
            time.sleep(GAP)  # the loop runs nothing until the later outcome is there too
        else:
            await asyncio.sleep(GAP)
        later_end = clock.perf_counter()
        order.acted_on_the_later(first_end, later_end, CHECK)
        noted = list(margins.broken)
        await guard.finish()
        margins.clear()
        return noted

    return asyncio.run(main())


def test_acting_on_the_later_outcome_while_the_loop_was_free_is_the_codes_mistake():
    assert outcomes(hold_the_loop=False) == []


def test_acting_on_the_later_outcome_when_the_loop_was_held_through_the_gap_is_a_failure_on_time():
    assert outcomes(hold_the_loop=True) == [CHECK]


def test_in_judge_mode_acting_on_the_later_outcome_is_a_failure_on_time(monkeypatch):
    # The code runs in another process there, whose turns the test cannot see.
    async def elsewhere(seconds):
        await asyncio.sleep(seconds)

    monkeypatch.setattr(letting_run, "elsewhere", elsewhere)
    assert outcomes(hold_the_loop=False) == [CHECK]
