"""Work the learner's code leaves in threads of its own: still running once the test has ended,
or ended by an error nobody read. A task left running is the loop guard's to see; work handed to
a thread (`threading.Thread`, a `Timer`, an executor's `submit`, an event loop run in a thread of
its own with `asyncio.run`) runs where no event loop of the test's looks.

    watch = ThreadLeftovers(learner_folder)
    watch.start()                  # the threads alive now are not the test's
    ...                            # the test
    problems = await watch.finish()

A thread is the code's if its stack, read from its start, reaches the learner's folder before any
of the kata's or the tests' (the kata's own threads, and the sandbox's threads that run the judge's
calls, start in the kata). Its work is left running if, after a grace, it is still in a function
of the learner's, still runs a loop with a task or timer of the learner's, or is a `Timer` yet to
call one. One process and the sandbox alike: the loop guard keeps one where the code runs.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from kata import where
from kata.testing import clock
from kata.testing.waiting import code_of

GRACE = 1.0  # seconds a thread of the code's gets to end after the test, on a busy machine too
POLL = 0.02

LEFT_IN_THREAD = (
    "Your code returned while a thread it started was still doing its work, {grace:.0f} s after "
    "the test ended:\n{places}\nA thread goes on after your function has returned, and nobody "
    "waits for it or hears of its errors. Wait for the work before returning: `await "
    "asyncio.to_thread(...)` or await the task, not a thread of its own left to run "
    "(`thread.join()` in plain code)."
)
RAISED_IN_THREAD = (
    "A thread your code started ended with an error nobody read: {error}\n{places}\nAn error in a "
    "thread of its own never reaches your caller. Run the work with `await asyncio.to_thread(...)`, "
    "whose await raises it, or wait for the thread's result and check it."
)

_KATA = str(Path(__file__).resolve().parents[1])


class ThreadLeftovers:
    """Watches the threads the learner's code starts during one test (see the module's doc)."""

    def __init__(self, learner_folder: Path) -> None:
        self._folder = learner_folder
        self._tests = str(learner_folder.parent / "tests")
        self._before: dict[int, FrameType] = {}
        self._raised: list[str] = []
        self._previous_hook: Any = None

    def start(self) -> None:
        self._before = {ident: _stack(frame)[0] for ident, frame in sys._current_frames().items()}
        self._previous_hook = threading.excepthook
        threading.excepthook = self._thread_raised

    def stop(self) -> None:
        """Stop hearing of threads' errors (a test that failed on its way: nothing is checked)."""
        if self._previous_hook is not None:
            if threading.excepthook == self._thread_raised:
                threading.excepthook = self._previous_hook
            self._previous_hook = None

    async def finish(self) -> list[str]:
        """The work left running in the code's threads after a grace, and their errors."""
        deadline = clock.monotonic() + GRACE
        left = self._left_running()
        while left and clock.monotonic() < deadline:
            await asyncio.sleep(POLL)
            left = self._left_running()
        self.stop()
        problems = list(dict.fromkeys(self._raised))
        if left:
            places = where.listing(list(dict.fromkeys(left)), self._folder)
            problems.append(LEFT_IN_THREAD.format(grace=GRACE, places=places))
        return problems

    def _thread_raised(self, hook_args: Any) -> None:
        """threading's hook, called in the thread that an error ended: one of the code's, if it
        passed through the learner's folder. A thread of the code's alive before the test began is
        an earlier test's, already failed for leaving it running: its error (one of a module the
        kata has unloaded since, say: "name 'time' is not defined") is not this test's."""
        error = hook_args.exc_value
        places = where.raised_at(error, self._folder) if isinstance(error, BaseException) else []
        if not places or isinstance(error, SystemExit):
            self._previous_hook(hook_args)
            return
        if self._before.get(threading.get_ident()) is _stack(sys._getframe())[0]:
            return
        shown = where.listing(places, self._folder, innermost=True)
        self._raised.append(RAISED_IN_THREAD.format(error=repr(error), places=shown))

    def _left_running(self) -> list[where.Place]:
        """Where each new thread of the code's is still at its work (the places, unordered)."""
        places: list[where.Place] = []
        current = threading.get_ident()
        for ident, innermost in sys._current_frames().items():
            stack = _stack(innermost)
            if ident == current or self._before.get(ident) is stack[0] or not self._codes(stack):
                continue
            places += self._read_work_in(innermost)
        return places

    def _read_work_in(self, innermost: FrameType) -> list[where.Place]:
        """`_work_in`, read again when the thread changed its loop's tasks or queue as they were
        read (a deque that changes size while read raises); unreadable three times: none."""
        for _ in range(3):
            try:
                return self._work_in(innermost)
            except RuntimeError:
                continue
        return []

    def _codes(self, stack: list[FrameType]) -> bool:
        """Whether the thread whose `stack` this is (outermost first) is the learner's code's: a
        frame of the learner's folder, or a loop or `Timer` it runs, comes before any frame of the
        kata's or the tests'."""
        for frame in stack:
            name = frame.f_code.co_filename
            if name.startswith((_KATA, self._tests)):
                return False
            mine = where.in_target(name, self._folder)
            if mine or _loop_of(frame) is not None or _timer_of(frame) is not None:
                return True
        return False

    def _work_in(self, innermost: FrameType) -> list[where.Place]:
        """The learner's work a thread is still at: the line it runs, the tasks of a loop it runs,
        the function a `Timer` of its is yet to call."""
        places = []
        running = where.running_in(innermost, self._folder)
        if running is not None:
            places.append(running)
        frame: FrameType | None = innermost
        while frame is not None:
            loop = _loop_of(frame)
            if loop is not None:
                places += where.waiting_at(loop, self._folder) or self._timers_of(loop)
            timer = _timer_of(frame)
            if timer is not None and not timer.finished.is_set():
                places += self._defined(timer.function)
            frame = frame.f_back
        return places

    def _timers_of(self, loop: asyncio.AbstractEventLoop) -> list[where.Place]:
        handles = [*getattr(loop, "_ready", ()), *getattr(loop, "_scheduled", ())]
        places: list[where.Place] = []
        for handle in handles:
            if not handle.cancelled():
                places += self._defined(handle._callback, handle._args or ())
        return places

    def _defined(self, callback: Any, args: tuple = ()) -> list[where.Place]:
        code = code_of(callback, args)
        if code is None or not where.in_target(code.co_filename, self._folder):
            return []
        return [where.Place(Path(code.co_filename).resolve(), code.co_firstlineno, code.co_name)]


def _stack(innermost: FrameType) -> list[FrameType]:
    """A thread's frames, outermost (its start) first."""
    frames = []
    frame: FrameType | None = innermost
    while frame is not None and len(frames) < 2000:
        frames.append(frame)
        frame = frame.f_back
    return frames[::-1]


def _loop_of(frame: FrameType) -> asyncio.AbstractEventLoop | None:
    """The event loop a frame of asyncio's `run_forever` runs."""
    if frame.f_code.co_name != "run_forever":
        return None
    loop = frame.f_locals.get("self")
    return loop if isinstance(loop, asyncio.BaseEventLoop) else None


def _timer_of(frame: FrameType) -> threading.Timer | None:
    if frame.f_code.co_name != "run":
        return None
    timer = frame.f_locals.get("self")
    return timer if isinstance(timer, threading.Timer) else None
