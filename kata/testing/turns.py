"""How long the event loop runs between two waits for events, timed at its selector.

A loop turns: it waits in its selector's `select()` for events and due timers, runs every callback
that is ready, and waits again. The stretch from a return of `select()` to its next call is time
in which the loop served nobody but the code it was running: code that blocks it (time.sleep, a
blocking read, heavy computing) makes that stretch long. Timing it needs no timer on the loop:
the loop guard's heartbeat before it, a timer every 5 ms, woke every idle loop 200 times a second
in every test, and its wake-ups were a large part of a test's CPU (bench/results/HISTORY.md).

Wrapped: the selector of the loops asyncio makes on Linux and macOS (`loop._selector`, a
`selectors.BaseSelector`). Where a loop has none (Windows' proactor), `SelectWatch.attach`
returns None and the loop guard keeps a heartbeat.

While the wrapper runs, the loop is waiting for events as it would in `select()` itself: the time
limit (kata.timeouts) may interrupt it there as it interrupts `select()` (`in_select`).

The wrapper also keeps the loop's starved stretches (`starved`): where it could run nothing new
for longer than STARVED, a stretch of its running that long (the code blocked it, or its thread
was stopped there), or a `select()` that returned that long after its timeout (nothing woke the
thread in time: a busy machine). A check that counts how often the code woke in a stretch
(kata.testing.waiting) reads them: a poll with no timer (`await asyncio.sleep(0)` in a loop) wakes
at every turn of the loop, and none in a stretch the loop was starved through; a loop idle in
`select()` on time had nothing ready to run, and no such poll.
"""

from __future__ import annotations

import collections
import functools
import selectors
from collections.abc import Callable
from types import FrameType
from typing import Any

from kata.testing import clock

# A stretch in which the loop could run nothing new for longer than this is starved: a turn of a
# loop that is free to run takes microseconds, and a timer asyncio runs late waits a clock tick.
STARVED = 0.005
# How many starved stretches a watch keeps (the latest): a test is judged on its last seconds.
MAX_STARVED = 10_000


class SelectWatch:
    """Calls `ended()` as each stretch of the loop's running ends (the loop is about to wait in
    `select()`) and `began()` as the next begins (it returned), until `detach()`."""

    def __init__(
        self, selector: selectors.BaseSelector, began: Callable[[], None], ended: Callable[[], None]
    ):
        self._selector, self.began, self.ended = selector, began, ended
        self._select = selector.select  # the selector's own, bound
        # (from, to) on the kata clock (perf_counter): each stretch the loop could run nothing new.
        self.starved: collections.deque[tuple[float, float]] = collections.deque(maxlen=MAX_STARVED)
        self._returned: float | None = None  # when select() last returned

    @classmethod
    def of(cls, loop: Any) -> SelectWatch | None:
        """The watch on `loop`'s selector, if one is attached."""
        # A loop without a selector (Windows' proactor) has none to look in.
        select = getattr(getattr(loop, "_selector", None), "__dict__", {}).get("select")
        if isinstance(select, functools.partial) and select.func is _timed_select:
            return select.args[0]
        return None

    def starved_in(self, since: float, until: float) -> list[tuple[float, float]]:
        """The starved stretches that overlap `since`..`until` (kata clock), the one going on now
        included (a stretch of running not yet ended)."""
        ongoing = [(self._returned, clock.perf_counter())] if self._returned is not None else []
        return [
            (start, end)
            for start, end in [*self.starved, *ongoing]
            if end - start > STARVED and start < until and end > since
        ]

    @classmethod
    def attach(cls, loop: Any, began: Callable[[], None], ended: Callable[[], None]) -> SelectWatch | None:
        """Watch `loop`'s selector; None where the loop has none to watch (or another watch has it)."""
        selector = getattr(loop, "_selector", None)
        if not isinstance(selector, selectors.BaseSelector) or "select" in vars(selector):
            return None
        watch = cls(selector, began, ended)
        # A partial, not a lambda: no frame of its own between the loop and _timed_select.
        selector.select = functools.partial(_timed_select, watch)
        return watch

    def detach(self) -> None:
        """Give the selector its own select() back (the instance's attribute shadowed it)."""
        if "select" in vars(self._selector):
            del self._selector.select


def _timed_select(watch: SelectWatch, timeout: float | None = None) -> list:
    watch.ended()
    entered = clock.perf_counter()
    if watch._returned is not None and entered - watch._returned > STARVED:
        watch.starved.append((watch._returned, entered))  # it ran that long without a turn
    watch._returned = None
    try:
        return watch._select(timeout)
    finally:
        returned = clock.perf_counter()
        if timeout is not None and returned - (due := entered + max(timeout, 0.0)) > STARVED:
            watch.starved.append((due, returned))  # a wait that ended that long after it was due
        watch._returned = returned
        watch.began()


def in_select(frame: FrameType) -> bool:
    """Whether `frame` is the wrapper around a selector's `select()`: for the time limit, part of
    the loop's wait for events."""
    return frame.f_code is _timed_select.__code__
