"""Everything an event loop runs, seen as it runs: every callback a loop runs is a Handle, run by
`Handle._run`, whoever scheduled it and however.

A task's every step and wake-up is such a callback (its step, or its wake-up method, with the task
as `__self__`), whether the loop's task factory made the task or not: code that makes its task as
`asyncio.Task(coro)`, or sets its own task factory, skips a factory of the kata's own, and a
callback scheduled through `type(loop).call_soon(loop, f)` or `loop.call_soon_threadsafe` skips a
patch of one loop's `call_soon`; none of them runs without a Handle. (Timers are Handles too.)

    loop_runs.observe(loop, on_run)   # on_run(handle) before each callback `loop` runs; what it
    ...                               # returns, if not None, after it
    loop_runs.unobserve(loop, on_run)

One class-level patch while anything observes, for every loop in the process; a loop nobody
observes pays one dictionary lookup per callback.
"""

from __future__ import annotations

import asyncio
import threading
from asyncio import events
from collections.abc import Callable
from typing import Any

Observer = Callable[[events.Handle], Callable[[], None] | None]

_original_run = events.Handle._run
_observers: dict[Any, tuple[Observer, ...]] = {}  # by loop; replaced, never changed in place
_lock = threading.Lock()

# The task types asyncio has: its C one, and the pure-Python one beside it (not a subclass of it).
TASK_TYPES: tuple[type, ...] = tuple({asyncio.Task, getattr(asyncio.tasks, "_PyTask", asyncio.Task)})


def task_of(handle: events.Handle) -> asyncio.Task | None:
    """The task whose step or wake-up `handle` runs, or None: a plain callback."""
    owner = getattr(handle._callback, "__self__", None)
    return owner if isinstance(owner, TASK_TYPES) else None


def _observed_run(handle: events.Handle) -> None:
    observers = _observers.get(handle._loop)
    if not observers:
        return _original_run(handle)
    afters = [after for after in (observe(handle) for observe in observers) if after is not None]
    try:
        return _original_run(handle)
    finally:
        for after in reversed(afters):
            after()


def observe(loop: asyncio.AbstractEventLoop, observer: Observer) -> None:
    """Call `observer(handle)` before each callback `loop` runs, until `unobserve`; what it
    returns, if not None, is called after the callback."""
    with _lock:
        _observers[loop] = (*_observers.get(loop, ()), observer)
        events.Handle._run = _observed_run


def unobserve(loop: asyncio.AbstractEventLoop, observer: Observer) -> None:
    with _lock:
        left = tuple(o for o in _observers.get(loop, ()) if o != observer)
        if left:
            _observers[loop] = left
        else:
            _observers.pop(loop, None)
        if not _observers and events.Handle._run is _observed_run:
            events.Handle._run = _original_run
