"""The class's own door to a loop's timers goes through the loop's watched one.

The kata watches a loop's timers where `loop.call_at` is (`call_later` and `asyncio.sleep` go
through it): the wake-up watch and the probe of the code's own timers (kata.testing.waiting), the
watch of work handed over from threads (kata.testing.thread_calls), the judge's lent timers. Each
puts a wrapper on the loop object. Code that calls the class's method instead,
`asyncio.BaseEventLoop.call_at(loop, when, ...)`, went past all of them: red team W3 kept a poll's
timer so, unseen by the probe, and handed results back from threads so, unseen in judge mode.
Installed, the class's method hands such a call to the loop's own wrapper, as `loop.call_at(...)`
would; the wrappers' own calls through to the class (made inside one) go straight through.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from kata import where

_class_call_at = asyncio.BaseEventLoop.call_at
_inside = threading.local()  # how deep this thread is in the loop's own wrappers
# The wrappers' own calls through to the class come from here: the kata's code and its tests. (Each
# wrapper took `loop.call_at` as it was when it was set, the class's method, now this one: sent to
# the loop's outermost wrapper again, a timer was noted twice, and the probe lost anyio's scope.)
_OURS = (where.KATA_FOLDER + os.sep, str(Path(where.KATA_FOLDER).parent / "tests") + os.sep)


def _call_at(self: Any, when: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
    own = vars(self).get("call_at")
    if own is None or getattr(_inside, "depth", 0) or sys._getframe(1).f_code.co_filename.startswith(_OURS):
        return _class_call_at(self, when, callback, *args, context=context)
    _inside.depth = getattr(_inside, "depth", 0) + 1
    try:
        return own(when, callback, *args, context=context)
    finally:
        _inside.depth -= 1


def past_the_door(frame: FrameType | None) -> FrameType | None:
    """`frame`, or, when it is this door's, the code that called the class's method: who set the
    timer, as a wrapper that reads its caller's frame wants it."""
    while frame is not None and frame.f_code is _call_at.__code__:
        frame = frame.f_back
    return frame


def install() -> None:
    """Route the class's `call_at` through each loop's own (idempotent; for the process's life)."""
    asyncio.BaseEventLoop.call_at = _call_at  # type: ignore[method-assign]
