"""Which outcome came first, when two may have reached the code under test together.

A test that judges which of two outcomes the code acted on (the first error, the first answer)
gives them a gap (0.1-0.25 s). Correct code sees the first alone, unless both reach it in one
batch: then `asyncio.wait`'s done set, or `as_completed`, has no order, and picking the later one
is the machine's doing, not the code's. That happens

- in judge mode, when the code's process waits for a core while both replies arrive (CI, under
  load: 05, 14 and 16 failed correct code so): the test cannot see the other process's turns, so
  acting on the later outcome is a failure on time there, run again; a mistake of order fails its
  second run the same way;
- in one process, only when the event loop could run nothing through the gap (its thread was
  held, or a `select()` returned late): the test's loop is the code's, and a loop that turned
  meanwhile woke the code with the first outcome alone. There, and only there, it is a failure on
  time; an answer that is wrong some of the time (a random order, a random pause) acts on the
  later outcome with the loop free, and fails at once, with no second run to be lucky in (red
  team I).
"""

from __future__ import annotations

import asyncio

from kata.testing import letting_run, margins, turns

# The loop turns between an outcome and the code's wake-up with it (the call's end, the done
# callback, the waiter's wake-up; a queue's or a task group's hops more): each turn not starved is
# briefer than turns.STARVED, so a gap the loop was free to turn through for longer than this many
# turns' worth woke the code with the first outcome alone.
TURNS_BETWEEN = 6
SLACK = TURNS_BETWEEN * turns.STARVED


def acted_on_the_later(first_end: float, later_end: float, check: str, acted_at: float | None = None) -> None:
    """Note a failure on time (margins.cut_off) if the code, acting on the outcome that ended at
    `later_end` instead of the one that ended at `first_end` (kata clock), may have been handed
    both together; else nothing, and the test's own failure stands as the code's. With `acted_at`
    (when the code acted), only if it acted more than half the gap after the first outcome ended:
    code that acts at once on an outcome it had alone is not the machine's doing."""
    if acted_at is not None and acted_at - first_end <= (later_end - first_end) / 2:
        return
    if later_end <= first_end or letting_run.elsewhere is not None:
        margins.cut_off(check)
        return
    watch = turns.SelectWatch.of(asyncio.get_running_loop())
    if watch is None:  # no selector to time (Windows' proactor): nothing tells a turn
        margins.cut_off(check)
        return
    gap = later_end - first_end
    held = sum(
        min(end, later_end) - max(start, first_end) for start, end in watch.starved_in(first_end, later_end)
    )
    if held >= gap - SLACK:
        margins.cut_off(check)
