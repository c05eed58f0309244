"""Where the learner's code was while the event loop stood frozen.

The loop guard measures how long the loop ran without a break, after the fact: by then the code
that froze the loop has moved on, and the finding could only say "something blocked it". A
learner trial's `with ThreadPoolExecutor()` block, whose exit waits for every thread, was told
just that. While a test runs, one thread for the whole process looks at the loop's thread every
LOOK seconds; when the loop is overdue by OVERDUE or more (it has run that long since it last
waited for events, or its heartbeat is that late), it keeps the innermost line of the learner's
file on that thread's stack, so that the finding can say where the loop was held. A look costs a
clock read while the loop is not overdue; the thread sleeps while no test is watched.

It also notes what the loop's thread waited in, by the kernel's word (Linux:
/proc/self/task/<id>/wchan), when the learner's line was on its stack: the evidence the loop guard
needs before it calls a frozen loop the code's blocking call, with no second run. A thread that
waits to run Python again (for the GIL, which this very look holds, or another thread's lock)
waits in a futex: that is never such evidence (a correct crawl was told "asleep in a blocking
call" for 0.55 s on a busy machine, whose only blocking was its turn to run).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from kata import where
from kata.testing import stall_cause
from kata.testing.waiting import Watchdog

LOOK = 0.02  # seconds between looks
OVERDUE = 0.05  # how long past its due time the loop must be before its stack is read
MOST = 20  # places kept per test
FROZEN_HERE = "\nWhile it was frozen, your code was running here:\n{places}"
# Said when the loop's thread was seen in an executor's shutdown: leaving a `with ThreadPoolExecutor()`
# block waits for every job (a learner trial's cancelled call was told to use run_in_executor, which
# it did: the freeze was the block's exit, after the cancel, while the jobs still ran).
POOL_SHUT_DOWN = (
    "\nIt was waiting for a pool to shut down: leaving a `with ThreadPoolExecutor(...)` (or "
    "ProcessPoolExecutor) block, or `pool.shutdown()`, waits until every job given to the pool has "
    "ended, and in async code that holds the loop, however the jobs were started (a cancel does not "
    "stop a job already running in a thread). Make the pool outside your coroutine and keep it, or "
    "shut it down off the loop: `await asyncio.to_thread(pool.shutdown)`."
)


class FrozenAt:
    """The learner's lines seen on the loop's thread while the loop was frozen, in the order seen."""

    def __init__(
        self, folder: Path, thread_id: int, overdue_since: Callable[[], float], native_id: int | None = None
    ) -> None:
        self.folder, self.thread_id = folder, thread_id
        self._overdue_since = overdue_since  # when the loop fell due to wait (monotonic seconds)
        self.places: list[where.Place] = []
        self._wchan = _open_wchan(native_id)
        # Seen at least once: the thread asleep in the kernel, outside a futex, under the
        # learner's line (a blocking read, a sleep, a child process waited for).
        self.blocked_in_code = False
        self.shutting_down_a_pool = False  # seen at least once in an executor's shutdown()

    def look(self, now: float) -> None:
        if now - self._overdue_since() < OVERDUE:
            return
        frame = sys._current_frames().get(self.thread_id)
        place = where.running_in(frame, self.folder)
        if place is None:
            return
        if not self.blocked_in_code and _blocking(stall_cause.read_text(self._wchan), frame):
            self.blocked_in_code = True
        if not self.shutting_down_a_pool and _in_a_pool_shutdown(frame):
            self.shutting_down_a_pool = True
        if place not in self.places and len(self.places) < MOST:
            self.places.append(place)

    def close(self) -> None:
        if self._wchan is not None:
            with contextlib.suppress(OSError):
                os.close(self._wchan)
            self._wchan = None

    def said(self) -> str:
        """The places, as the guard's finding continues ('' if none was seen)."""
        if not self.places:
            return ""
        pool = POOL_SHUT_DOWN if self.shutting_down_a_pool else ""
        return FROZEN_HERE.format(places=where.listing(self.places, self.folder)) + pool


def _in_a_pool_shutdown(frame: FrameType | None) -> bool:
    """Whether `frame` or a caller of it is concurrent.futures' `shutdown` (an executor's `with`
    block ends with it)."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "shutdown" and "/concurrent/futures/" in code.co_filename.replace("\\", "/"):
            return True
        frame = frame.f_back
    return False


def _open_wchan(native_id: int | None) -> int | None:
    """None where it cannot be read (not Linux, or no /proc): no evidence, so every freeze may be
    the machine's."""
    return None if native_id is None else stall_cause.open_readonly(f"/proc/self/task/{native_id}/wchan")


def _blocking(wchan: str, frame: FrameType | None) -> bool:
    """Whether a thread asleep in the kernel function `wchan`, its innermost Python frame `frame`,
    waits in a blocking call ("0" or nothing: running, or not known). A futex is one only under a
    blocking primitive's Python code (`threading.Event().wait()`, `queue.Queue().get()`, a
    concurrent future's `result()`); anywhere else it is a thread waiting for the GIL to run
    Python again: its turn, maybe held up by a busy machine, not a blocking call."""
    if wchan in ("", "0"):
        return False
    if "futex" not in wchan:
        return True
    return frame is not None and _is_primitive(frame.f_code.co_filename)


def _is_primitive(filename: str) -> bool:
    path = filename.replace("\\", "/")
    return path.endswith(_PRIMITIVES) or any(part in path for part in _PRIMITIVE_PACKAGES)


_PRIMITIVES = ("/threading.py", "/queue.py", "/subprocess.py")
_PRIMITIVE_PACKAGES = ("/concurrent/futures/", "/multiprocessing/")


_LOOKER = Watchdog("kata-frozen-at", LOOK, lambda frozen, now: frozen.look(now))


def watch(frozen: FrozenAt) -> None:
    _LOOKER.watch(frozen)


def stop(frozen: FrozenAt) -> None:
    _LOOKER.stop(frozen)  # no look runs after this: the file can be closed
    frozen.close()
