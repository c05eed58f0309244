"""Which outcome came first, when two may have reached the code under test together.

A test that judges which of two outcomes the code acted on (the first error, the first answer)
gives them a gap (0.1-0.25 s). Correct code sees the first alone, unless both reach it in one
batch: then `asyncio.wait`'s done set, or `as_completed`, has no order, and picking the later one
is the machine's doing, not the code's. That happens only when the loop that runs the code could
run nothing between the moments it was handed the two outcomes (its thread was held, or a
`select()` returned late): a loop that turned meanwhile woke the code with the first outcome
alone. There, and only there, acting on the later outcome is a failure on time, run again; an
answer that is wrong some of the time (a random order, a random pause) acts on the later outcome
with the loop free, and fails at once, with no second run to be lucky in (red team I).

- In one process the code's loop is the test's, handed each outcome as the call ends.
- In judge mode the code's loop is the sandbox's: the outcomes cross to it, and a busy machine can
  hand both over together (its process waited for a core while both replies arrived: CI, under
  load, failed correct code in 05, 14 and 16 so). The sandbox says when its loop was handed each
  (`handed_elsewhere`), and what that loop was starved through between; where it cannot say (a
  call not made on its main loop, a loop whose turns are not timed), a failure on time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from kata.testing import clock, elsewhere, margins, turns
from kata.testing.fakes import Call

# The loop turns between an outcome and the code's wake-up with it (the call's end, the done
# callback, the waiter's wake-up; a queue's or a task group's hops more): each turn not starved is
# briefer than turns.STARVED, so a gap the loop was free to turn through for longer than this many
# turns' worth woke the code with the first outcome alone.
TURNS_BETWEEN = 6
SLACK = TURNS_BETWEEN * turns.STARVED


def acted_on_the_later(first: Call, later: Call, check: str, acted_at: float | None = None) -> None:
    """Note a failure on time (margins.cut_off) if the code, acting on the outcome of the call
    `later` instead of that of `first` (which ended first), may have been handed both together;
    else nothing, and the test's own failure stands as the code's. With `acted_at` (when the code
    acted, kata clock), only if it acted more than half the gap after the first outcome ended:
    code that acts at once on an outcome it had alone is not the machine's doing."""
    first_end, later_end = first.end, later.end
    if first_end is None or later_end is None:
        return
    if acted_at is not None and acted_at - first_end <= (later_end - first_end) / 2:
        return
    if later_end <= first_end:
        margins.cut_off(check)
        return
    if elsewhere.process is not None:
        # When the sandbox's loop was handed the two outcomes (the calls it made, numbered so:
        # Call.via), and the stretches it was starved through between; None where it cannot say.
        known = first.via is not None and later.via is not None
        seen = elsewhere.process.handed_over(first.via, later.via) if known else None
        # Where it cannot say (calls made on a loop of the code's own), no busy loop is shown:
        # the failure stands (a red team's 05, made so, had a second run every time).
        if seen is not None and _held_through(*seen):
            margins.cut_off(check)
        return
    watch = turns.SelectWatch.of(asyncio.get_running_loop())
    if watch is None:  # no selector to time (Windows' proactor): nothing tells a turn
        margins.cut_off(check)
        return
    if _held_through(first_end, later_end, watch.starved_in(first_end, later_end)):
        margins.cut_off(check)


def _held_through(first: float, later: float, starved: list[tuple[float, float]]) -> bool:
    """Whether a loop handed one outcome at `first` and the other at `later` was starved through
    the gap but for SLACK: then it may have woken the code with both together."""
    held = sum(min(end, later) - max(start, first) for start, end in starved if start < later and end > first)
    return held >= (later - first) - SLACK


# Seconds after a call has ended that a test cancels the code "once it has that call's outcome"
# (`cancel_once_it_has`): in one process the code ran its next step long before; in judge mode the
# outcome crossed first (messages keep their order), and the sandbox's loop was free to turn
# meanwhile unless it was starved through this long (`assert_had_it_first`).
SETTLE = 0.05


class CancelAfter:
    """A cancel of the learner's code (a cancelling.Run) SETTLE s after something it waits for
    ended: a call of a fake (`hook`, the fake's `on_end`), or a source that ran dry (`arm`, with
    the moment it did). The code has that outcome, and waits for what comes next (03's save_order
    waiting for its audit once save returned, 16's process_stream waiting for its queue once the
    source ended); a cancel only while both ran left such code untested: learner trial AA's answers
    let the audit run to its end, or the queue drain, there, and passed."""

    def __init__(self, run: Any, moment: str, when: Callable[[Call], bool] = lambda call: True) -> None:
        self.run, self.moment, self.when = run, moment, when
        self.call: Call | None = None
        self.ended: float | None = None  # when the outcome came (kata clock)
        self.at: float | None = None  # when the cancel was made (kata clock)

    def hook(self, call: Call) -> None:
        if self.call is None and self.when(call):
            self.call = call
            self.arm(call.end)

    def arm(self, ended: float | None) -> None:
        """Cancel SETTLE s from now: what the code waited for ended at `ended` (kata clock)."""
        if self.ended is None:
            self.ended = ended if ended is not None else clock.perf_counter()
            asyncio.get_running_loop().call_later(SETTLE, self._cancel)

    def _cancel(self) -> None:
        if self.at is None:
            self.at = clock.perf_counter()
            self.run.cancel(self.moment)

    def assert_had_it_first(self, wakes: Any, check: str) -> None:
        """Fail on time (margins.cut_off, then AssertionError) unless the code surely had the
        call's outcome before the cancel came: in judge mode, a sandbox whose loop was starved
        through the gap (or whose turns are not timed) may have been handed both together, and
        then the cancel came where the call was awaited, as if it had come earlier. Called where
        the code did right: what it did says nothing of the moment asked."""
        if elsewhere.process is None or self.ended is None or self.at is None:
            return
        starved = getattr(wakes, "starved", None)
        if starved is not None and not _held_through(self.ended, self.at, list(starved)):
            return
        margins.cut_off(check)
        raise AssertionError(
            f"this test cancels the code {self.moment}, but the process running it could not run meanwhile "
            "(the machine was busy): the cancel may have come with that outcome, earlier than the test "
            "asked. This says nothing about your code: `python grade.py` runs it again."
        )
