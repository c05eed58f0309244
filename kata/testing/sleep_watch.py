"""`time.sleep` called by the learner's code in async code: a blocking call, however short.

The loop guard sees a frozen loop only when it stands still longer than its limit (0.1 s): a
`time.sleep(0.005)` after each of 5 calls froze the loop for 25 ms in all, and passed (learner
trial, 02). A call is a fact, not a measurement: `time.sleep` is replaced, once, by a function
that notes each call made from the learner's own file on a thread whose event loop is running,
while a test watches (`watching`), then sleeps as asked. No machine can cause such a call, so
the finding leads with the loop guard's "asleep in a blocking call" words, which get no second
run. Only a direct call counts: a library that sleeps inside shows as a frozen loop, as before.

It is installed when the kata's test machinery is imported (kata.testing.loopguard), before any
learner module: `from time import sleep` in their file gets it too. The clock's tampering check
(kata.testing.clock) knows it as time.sleep.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kata.testing import clock

_REAL_SLEEP = time.sleep


@dataclass(frozen=True)
class Slept:
    seconds: float
    path: Path
    line: int
    function: str


class _Watch:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls: list[Slept] = []
        self.lock = threading.Lock()


_watches: list[_Watch] = []


def sleep(seconds: float, /) -> None:
    """time.sleep, noting a call from the learner's file made in async code (see the module)."""
    if _watches and asyncio._get_running_loop() is not None:
        frame = sys._getframe(1)
        try:
            path = Path(frame.f_code.co_filename).resolve()
        except (OSError, ValueError):
            path = None
        for watch in list(_watches):
            if path is not None and path.parent == watch.folder:
                with watch.lock:
                    watch.calls.append(Slept(seconds, path, frame.f_lineno, frame.f_code.co_name))
    _REAL_SLEEP(seconds)


sleep.__doc__ = _REAL_SLEEP.__doc__


def install() -> None:
    if time.sleep is not sleep:
        clock.rebind(time, "sleep", sleep)


@contextmanager
def watching(folder: Path):
    """While inside: the learner's calls of time.sleep in async code (files directly in `folder`)."""
    watch = _Watch(folder.resolve())
    _watches.append(watch)
    try:
        yield watch.calls
    finally:
        _watches.remove(watch)


install()
