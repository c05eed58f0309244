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
"""

from __future__ import annotations

import functools
import selectors
from collections.abc import Callable
from types import FrameType
from typing import Any


class SelectWatch:
    """Calls `ended()` as each stretch of the loop's running ends (the loop is about to wait in
    `select()`) and `began()` as the next begins (it returned), until `detach()`."""

    def __init__(
        self, selector: selectors.BaseSelector, began: Callable[[], None], ended: Callable[[], None]
    ):
        self._selector, self.began, self.ended = selector, began, ended
        self._select = selector.select  # the selector's own, bound

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
    try:
        return watch._select(timeout)
    finally:
        watch.began()


def in_select(frame: FrameType) -> bool:
    """Whether `frame` is the wrapper around a selector's `select()`: for the time limit, part of
    the loop's wait for events."""
    return frame.f_code is _timed_select.__code__
