"""Timers the learner's code left pending when a test ends: they end with the test, in both modes.

A test ends where its checks end, not where the learner's program would: a rate limiter's timers
that give a slot back `per` seconds later, say, are still pending then. In one process the test's
loop is closed after the test and drops them; in the sandbox the host's loop serves the next tests,
so it cancels them (kata.sandbox.host). Either way a coroutine such a timer holds for later
(`loop.call_later(per, loop.create_task, self._give_back())`: made when the timer was set, run when
it fires) never runs, and Python would warn, as the loop or the collector frees it, that it "was
never awaited": in one process as a raw error in pytest's teardown, in the sandbox not at all (a
learner trial's correct 21 failed in one mode only). Made by the learner's code and cut short by the
test's end, it is closed here, silently, with its timer.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
from collections.abc import Collection, Iterator
from typing import Any


def learners_timers(loop: asyncio.AbstractEventLoop, files: Collection[str]) -> list[asyncio.TimerHandle]:
    """The timers pending on `loop` that run the learner's code: their callback is code of `files`
    (a function, a bound method, a functools.partial of one), or they hold a coroutine of theirs
    (in the timer's arguments or a partial's). asyncio keeps them in `loop._scheduled`."""
    return _timers_of(loop, _both_spellings(files))


def drop_learners_timers(loop: asyncio.AbstractEventLoop, files: Collection[str]) -> None:
    """Cancel the learner's pending timers, closing the coroutines of theirs they hold."""
    wanted = _both_spellings(files)
    for handle in _timers_of(loop, wanted):
        for coroutine in _held_coroutines(handle):
            if _code_file(coroutine) in wanted and inspect.getcoroutinestate(coroutine) == "CORO_CREATED":
                coroutine.close()
        handle.cancel()


def _timers_of(loop: asyncio.AbstractEventLoop, wanted: set[str]) -> list[asyncio.TimerHandle]:
    found = []
    for handle in list(getattr(loop, "_scheduled", ())):
        if handle.cancelled():
            continue
        callback = _unwrapped(getattr(handle, "_callback", None))
        if _code_file(callback) in wanted or any(_code_file(c) in wanted for c in _held_coroutines(handle)):
            found.append(handle)
    return found


def _held_coroutines(handle: asyncio.TimerHandle) -> Iterator[Any]:
    callback = _unwrapped(getattr(handle, "_callback", None))
    held = list(getattr(handle, "_args", None) or ())
    if isinstance(callback, functools.partial):
        held += [*callback.args, *callback.keywords.values()]
    return (value for value in held if inspect.iscoroutine(value))


def _unwrapped(callback: Any) -> Any:
    """The callback a kata watch wrapped (kata.testing.waiting sets `__wrapped__`)."""
    for _ in range(8):
        inner = getattr(callback, "__wrapped__", None)
        if inner is None or isinstance(callback, functools.partial):
            break
        callback = inner
    return callback


def _code_file(thing: Any) -> str | None:
    """The file of the code `thing` runs: a coroutine's, a function's, a bound method's or a
    partial's function's."""
    if inspect.iscoroutine(thing):
        return thing.cr_code.co_filename
    function = getattr(thing, "func", thing)  # functools.partial
    function = getattr(function, "__func__", function)  # a bound method
    code = getattr(function, "__code__", None)
    return code.co_filename if code is not None else None


def _both_spellings(files: Collection[str]) -> set[str]:
    return {spelling for name in files for spelling in (name, os.path.realpath(name))}
