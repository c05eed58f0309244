"""Acting on the later of two outcomes (kata.testing.order): a failure on time only where both may
have reached the code together: a gap the code's event loop could not turn through; a loop free
meanwhile woke the code with the first outcome alone, and the test's failure stands as the code's
(an answer wrong some of the time gets no second run to be lucky in). In one process the loop is
the test's; in judge mode the sandbox's, which says when it was handed each outcome. Each test
runs its own loop (asyncio.run) under a LoopGuard, which times the loop's turns."""

import asyncio
import time

import pytest

from kata.runner import run_tests
from kata.testing import clock, elsewhere, margins, order
from kata.testing.fakes import Call
from kata.testing.loopguard import LoopGuard
from tests.harness.test_guard import make_suite

GAP = 0.25
CHECK = "99 demo: the first outcome is acted on"


def outcomes(hold_the_loop, via=(None, None)):
    """Two outcomes GAP apart on a fresh, guarded loop; the loop held through the gap (a blocking
    callback, as a busy machine holds its thread) or free. What margins noted, judging the code
    as having acted on the later one. `via`: the calls' numbers in the sandbox (judge mode)."""

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
        first = Call(args=(1,), start=first_end - 0.01, end=first_end, via=via[0])
        later = Call(args=(2,), start=first_end - 0.01, end=later_end, via=via[1])
        order.acted_on_the_later(first, later, CHECK)
        noted = list(margins.broken)
        await guard.finish()
        margins.clear()
        return noted

    return asyncio.run(main())


def test_acting_on_the_later_outcome_while_the_loop_was_free_is_the_codes_mistake():
    assert outcomes(hold_the_loop=False) == []


def test_acting_on_the_later_outcome_when_the_loop_was_held_through_the_gap_is_a_failure_on_time():
    assert outcomes(hold_the_loop=True) == [CHECK]


def sandbox_saying(monkeypatch, said):
    """Judge mode, the sandbox answering the order check's question with `said`."""
    asked = []

    class Sandbox:
        def handed_over(self, first, later):
            asked.append((first, later))
            return said

        def serving(self):
            return None

    monkeypatch.setattr(elsewhere, "process", Sandbox())
    return asked


def test_in_judge_mode_the_sandboxs_loop_free_between_its_two_outcomes_makes_it_the_codes_mistake(
    monkeypatch,
):
    # Handed 0.25 s apart, and never starved meanwhile: the code had the first outcome alone.
    asked = sandbox_saying(monkeypatch, (10.0, 10.25, []))
    assert outcomes(hold_the_loop=False, via=(7, 8)) == []
    assert asked == [(7, 8)], "the sandbox is asked about the calls its code made"


@pytest.mark.parametrize(
    "said",
    [
        (10.0, 10.25, [(9.99, 10.3)]),  # starved through the gap: one batch, as far as the code knew
        (10.0, 10.001, []),  # handed together (its process waited for a core while both arrived)
    ],
)
def test_in_judge_mode_outcomes_the_sandbox_may_have_handed_over_together_are_a_failure_on_time(
    monkeypatch, said
):
    sandbox_saying(monkeypatch, said)
    # The test's own loop was free: what counts is the sandbox's.
    assert outcomes(hold_the_loop=False, via=(7, 8)) == [CHECK]


def test_in_judge_mode_outcomes_the_sandbox_cannot_account_for_leave_the_failure_standing(monkeypatch):
    # It cannot say (calls on a loop of the code's own, a loop with untimed turns): no busy loop is
    # shown, and a second run is the machine's to earn (a red team's 05 that made its calls on a
    # loop of its own in a thread, taking the later outcome, had one every time).
    sandbox_saying(monkeypatch, None)
    assert outcomes(hold_the_loop=False, via=(7, 8)) == []


def test_in_judge_mode_calls_the_sandbox_did_not_number_leave_the_failure_standing(monkeypatch):
    asked = sandbox_saying(monkeypatch, (10.0, 10.25, []))
    assert outcomes(hold_the_loop=False) == []
    assert asked == [], "nothing to ask about: the calls were not numbered as they crossed"


LEARNER = """
import asyncio

async def first_answer(fetch):
    calls = [asyncio.create_task(fetch(n)) for n in (1, 2)]
    done, pending = await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
    for call in pending:
        call.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return done.pop().result()

async def in_the_order_listed(fetch):
    calls = [asyncio.create_task(fetch(n)) for n in (1, 2)]
    return (await asyncio.gather(*calls))[0]  # the first listed, though it answers later
"""

TESTS = """
import pytest

from kata.testing import order
from kata.testing.fakes import FakeService


@pytest.mark.parametrize("name", ["first_answer", "in_the_order_listed"])
async def test_the_first_answer_is_taken(ex, name):
    fetch = FakeService("fetch", delay={1: 0.3, 2: 0.05}.get)
    answer = await getattr(ex, name)(fetch)
    if answer != 2:
        first, later = (next(c for c in fetch.calls if c.args == (n,)) for n in (2, 1))
        order.acted_on_the_later(first, later, "99 demo: the first answer is taken")
        raise AssertionError(f"{name} answered {answer}, not the first answer")
"""


@pytest.mark.load_sensitive  # a free loop through a 0.25 s gap in both processes
@pytest.mark.parametrize("mode", [[], ["--kata-judge"]], ids=["one process", "judge mode"])
def test_an_answer_that_takes_the_later_outcome_with_its_loop_free_fails_with_no_second_run(tmp_path, mode):
    """End to end: the sandbox's loop is asked, in judge mode, as the test's is in one process."""
    test_file, target = make_suite(tmp_path, learner=LEARNER, tests=TESTS)
    run = run_tests([test_file], target, wall_limit=90, cwd=tmp_path, extra=["--kata-seed", "1", *mode])
    verdicts = {r.test: r for r in run.results}
    right, wrong = (
        verdicts["test_the_first_answer_is_taken[first_answer]"],
        verdicts["test_the_first_answer_is_taken[in_the_order_listed]"],
    )
    assert right.outcome == "passed", right.message
    assert wrong.outcome == "failed" and "not the first answer" in wrong.message, wrong.message
    assert not wrong.time_only, "the code's loop was free through the gap: a failure on time"


class _Wakes:
    def __init__(self, starved):
        self.starved = starved


def cancel_after(monkeypatch, starved, judge=True):
    """A CancelAfter whose call ended at 10.0 and whose cancel came at 10.0 + SETTLE, judged with
    the sandbox's loop starved through `starved` (None: not timed); in one process if not `judge`."""
    monkeypatch.setattr(elsewhere, "process", object() if judge else None)
    margins.clear()
    after = order.CancelAfter(run=None, moment="once save had returned")
    after.call = Call(args=(1,), start=9.9, end=10.0)
    after.ended = after.call.end
    after.at = 10.0 + order.SETTLE
    return after, _Wakes(starved)


def test_a_cancel_after_an_outcome_the_sandbox_could_turn_with_stands(monkeypatch):
    after, wakes = cancel_after(monkeypatch, starved=[(9.0, 10.01)])  # free from 10.01 on
    after.assert_had_it_first(wakes, CHECK)
    assert margins.broken == []


@pytest.mark.parametrize("starved", [[(9.9, 10.0 + order.SETTLE + 0.01)], None], ids=["starved", "untimed"])
def test_a_cancel_that_may_have_come_with_the_outcome_is_a_failure_on_time(monkeypatch, starved):
    # The sandbox's loop could run nothing between them (or cannot say): both may have been handed
    # over together, and the cancel landed where the call was awaited (a pass proves nothing).
    after, wakes = cancel_after(monkeypatch, starved=starved)
    with pytest.raises(AssertionError, match="This says nothing about your code"):
        after.assert_had_it_first(wakes, CHECK)
    assert margins.broken == [CHECK]


def test_in_one_process_the_code_ran_its_next_step_long_before_the_cancel(monkeypatch):
    after, wakes = cancel_after(monkeypatch, starved=None, judge=False)
    after.assert_had_it_first(wakes, CHECK)
    assert margins.broken == []
