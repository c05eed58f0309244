"""Cancel the code under test at a chosen moment, and see what it left behind.

A test starts the learner's coroutine with `Run`, and a fake calls `run.cancel(moment)` from
one of its hooks at the very moment it reports (every call has started, a connection is being
acquired...): no fixed sleep, so the moment cannot be missed on a loaded machine. `Run` also
takes a snapshot at the instant the learner's function ends, before any other task has run.

`left_running` then sorts the calls that were still running at that instant: cancelled but not
stopped yet, or never cancelled at all. Both are the learner's mistake; they need different
advice. It stops them afterwards, so that the loop guard does not report them a second time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from kata.testing import clock, margins
from kata.testing.checks import describe
from kata.testing.fakes import Call
from kata.testing.hang_guard import waiting_lines

WAIT = 1.0  # how long a cancelled function may take to stop (a short cleanup takes a few ms)
STEP = 0.005
# Loop turns for a cancel() already asked for to reach the call it stops: one per task
# between the code that cancels and the call, and call chains are not deeper than this.
SETTLE_TURNS = 5


class Run:
    """The learner's coroutine, run as a task that a fake's hook can cancel at a given moment.

    snapshot: called at the instant the learner's function ends (returns or raises), in the
              same step, so that nothing else has moved yet; the value is kept in `left`.
    """

    def __init__(self, coro: Coroutine[Any, Any, Any], snapshot: Callable[[], Any] | None = None) -> None:
        self.moment: str | None = None  # set by cancel(): what was going on when it was cancelled
        # Set when finish() gives up: where the learner's code was waiting, for the message.
        self.waiting = ""
        self.left: Any = None
        self._snapshot = snapshot
        self.task = asyncio.create_task(self._watch(coro))

    async def _watch(self, coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await coro
        finally:
            if self._snapshot is not None:
                self.left = self._snapshot()

    def cancel(self, moment: str) -> None:
        """Cancel the learner's function now, if it is still running; only the first moment counts."""
        if self.moment is None and not self.task.done():
            self.moment = moment
            self.task.cancel()

    async def finish(self, longest: float) -> bool:
        """Wait until the function has ended: up to `longest` seconds for it to be cancelled or
        end by itself, then up to WAIT seconds after the cancellation. False if it still runs:
        the test gave up waiting, a failure on time (kata.testing.margins.gave_up), since correct
        code ends far sooner unless the machine is very busy; code that hangs does it every time."""
        started = clock.monotonic()
        while not self.task.done() and self.moment is None and clock.monotonic() < started + longest:
            await asyncio.sleep(STEP)
        if not self.task.done() and self.moment is None:
            return self._give_up(started, longest, "cancelling: ends or is cancelled < longest")
        if not self.task.done():
            cancelled = clock.monotonic()
            await asyncio.wait({self.task}, timeout=WAIT)
            if not self.task.done():
                return self._give_up(cancelled, WAIT, "cancelling: stops < WAIT once cancelled")
        if not self.task.cancelled():
            self.task.exception()  # seen here, so that an error is never reported as lost
        return True

    def _give_up(self, since: float, limit: float, check: str) -> bool:
        """The test stops waiting `limit` s after `since` (a failure on time), noting where the
        learner's code was waiting. Always False: the function still runs."""
        margins.gave_up(clock.monotonic() - since, limit, check)
        self.waiting = waiting_lines([self.task])
        return False

    async def stop(self) -> None:
        """Cancel it again and give it WAIT seconds (after a failure: the verdict is made)."""
        self.task.cancel()
        await asyncio.wait({self.task}, timeout=WAIT)

    @property
    def cancelled(self) -> bool:
        return self.task.cancelled()

    @property
    def error(self) -> BaseException | None:
        """What it raised (None when it returned or was cancelled)."""
        return None if self.task.cancelled() else self.task.exception()

    def ending(self) -> str:
        """How it ended, in words: "raised CancelledError", "returned None (a NoneType)", ..."""
        if self.task.cancelled():
            return "raised CancelledError"
        if self.task.exception() is not None:
            return f"raised {self.task.exception()!r}"
        return f"returned {describe(self.task.result())}"


async def settle() -> None:
    """Let cancellations already asked for reach the calls they stop."""
    for _ in range(SETTLE_TURNS):
        await asyncio.sleep(0)


async def stop_calls(calls: Sequence[Call]) -> None:
    """Cancel the tasks still running these calls, and give them WAIT seconds to stop."""
    current = asyncio.current_task()
    tasks = {c.task for c in calls if c.end is None and c.task is not None and c.task is not current}
    tasks = {t for t in tasks if not t.done()}
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=WAIT)


async def left_running(running: Sequence[Call]) -> tuple[list[Call], list[Call]]:
    """Sort the calls that were running when the learner's function ended into (cancelled, but
    not stopped yet; never cancelled), then stop them all."""
    await settle()
    stopping = [c for c in running if c.outcome == "cancelled"]
    untouched = [c for c in running if c.outcome != "cancelled"]
    await stop_calls(running)
    return stopping, untouched


def finished_too_late_to_stop(finished: Sequence[Call], news: Sequence[Call], check: str) -> bool:
    """Whether calls that should have been cancelled ran to their end only because the cancel
    came late: every one of them ended after the first of `news` ended (the call that failed, or
    the answer that made them useless). Breaks the timing check `check` if so.

    Correct code cancels the others the moment that call ends, so it lets one finish only when
    its cancel comes late: its process waited for a core, or (judge mode) the news and the cancel
    had to cross between two processes. That is a failure on time, and it gets a second run;
    code that waits for them all finishes them every time, however fast the machine. A call that
    ended before the news never raced it (calls made one after another): no matter of time.
    """
    ends = [call.end for call in news if call.end is not None]
    if not ends or not finished:
        return False
    first = min(finished, key=lambda call: call.end)
    # How long it ran, against how long after its start the news came.
    return margins.over(first.end - first.start, min(ends) - first.start, check)


def _calls(calls: Sequence[Call], name: str) -> str:
    return ", ".join(call.label(name) for call in calls)


def left_running_message(whose: str, stopping: Sequence[Call], untouched: Sequence[Call], name: str) -> str:
    """`whose` (say "load_page raised LookupError('x')") while these calls were still running,
    and whether they had been cancelled; the caller adds the advice that fits."""
    running = [*stopping, *untouched]
    count = "1 call" if len(running) == 1 else f"{len(running)} calls"
    were = "was" if len(running) == 1 else "were"
    opening = f"{whose} while {count} to {name} {were} still running: {_calls(running, name)}."
    if not stopping:
        them = "it" if len(untouched) == 1 else "them"
        return f"{opening} Nothing had cancelled {them}."
    cancelled = (
        "had been cancelled, but had not stopped yet: `task.cancel()` only asks a task to stop, "
        "and it stops later, the next time it runs."
    )
    if not untouched:
        subject = "It" if len(stopping) == 1 else "They"
        return f"{opening} {subject} {cancelled}"
    return f"{opening} Nothing had cancelled {_calls(untouched, name)}; {_calls(stopping, name)} {cancelled}"
