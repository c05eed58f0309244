"""Work the learner's code leaves in threads: still going once the test has ended, or ended by an
error nobody read. A task left running is the loop guard's to see; work handed to a thread
(`threading.Thread`, a `Timer`, an executor's `submit` and its done callbacks, `sched`, an event
loop run in a thread with `asyncio.run` or kept there) runs where no event loop of the test's looks.

    watch = ThreadLeftovers(learner_folder)
    watch.start()                  # what each thread alive now is doing
    ...                            # the test
    problems = await watch.finish()    # or finish_sync() in a plain test

Any thread but the kata's and the tests' own is looked at (one whose stack, read from its start,
reaches the kata's or the tests' files before the learner's folder is theirs: the kata's watchdogs,
the sandbox's threads that run the judge's calls, a blocking fake's call). Such a thread is at work
unless it is idle: waiting in the standard library for something to do, with no time limit (a
pool's worker on its queue, `Event.wait()`, `queue.get()`, a selector with an event loop that has
nothing scheduled; on Linux, a futex wait with no limit that uses no CPU), never a `Timer` yet to
fire nor any wait with a time limit (a sleep). One at work 1 s after the test ended fails it,
unless it was at work already when the test began (an earlier test's leftover, failed there): a
thread started during the test, or one the code made earlier (at its import, say) that was idle
then. Who started it is not asked: a library's call started by the code is the code's work. In
one process and in the sandbox alike. A timer of the process the code left armed (its handler runs
later in the main thread) is kata.testing.signal_timers', read here too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures.thread
import os
import queue
import selectors
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from kata import where
from kata.testing import clock, loop_runs, signal_timers, sleep_watch, stall_cause, waiting
from kata.testing.waiting import code_of

GRACE = 1.0  # seconds a thread of the code's gets to end after the test, on a busy machine too
POLL = 0.02
QUIET = 0.2  # seconds a thread blocked in C uses no CPU before it is taken as waiting for work

LEFT_IN_THREAD = (
    "Your code returned while a thread it started was still doing its work, {grace:.0f} s after "
    "the test ended:\n{places}\nA thread goes on after your function has returned, and nobody "
    "waits for it or hears of its errors. Wait for the work before returning: `await "
    "asyncio.to_thread(...)` or await the task, not a thread of its own left to run "
    "(`thread.join()` in plain code)."
)
# A thread at work past the grace is a failure on time (kata.plugin): on a busy machine a correct
# answer's thread can end late, or be seen idle late; one left at work fails its second run too.
LEFT_PREFIX = LEFT_IN_THREAD[: LEFT_IN_THREAD.index("{")]
RAISED_IN_THREAD = (
    "A thread your code started ended with an error nobody read: {error}\n{places}\nAn error in a "
    "thread of its own never reaches your caller. Run the work with `await asyncio.to_thread(...)`, "
    "whose await raises it, or wait for the thread's result and check it."
)

LOST_IN_FUTURE = (
    "a pool's future ended with {error} and nobody read it:\n{places}\nA future of "
    "`executor.submit(...)` or `asyncio.run_coroutine_threadsafe(...)` keeps its error until asked: "
    "await it (`await asyncio.wrap_future(future)`), or read `future.result()`, or use "
    "`await loop.run_in_executor(...)`, whose await raises it."
)

_KATA = where.KATA_FOLDER
# The kata's stand-ins for what the code calls, which run in the code's threads (its time.sleep
# and the standard library's waits: kata.testing.sleep_watch,
# the loop's Handle._run while observed, a thread's run noted by a wake watch): not the kata's own.
# (A pool future's methods noted here are too: see ThreadLeftovers._theirs.)
_PASSED_THROUGH = {
    *sleep_watch.PASSED_THROUGH,
    (loop_runs.__file__, "_observed_run"),
    (waiting.__file__, "noted_run"),
}

# Where a thread with nothing to do waits, as (file, function) of its innermost Python frame: a
# Condition's or Event's wait, a join, a Queue's get, a thread pool's worker on its queue (a
# SimpleQueue's get, in C), a selector (an event loop's, or multiprocessing's connection wait).
_IDLE = {
    (threading.__file__, "wait"),
    (threading.__file__, "_wait_for_tstate_lock"),
    (threading.__file__, "join"),
    (queue.__file__, "get"),
    (concurrent.futures.thread.__file__, "_worker"),
    (selectors.__file__, "select"),
}


@dataclass(frozen=True)
class _Seen:
    """A thread as the watch saw it when the test began: its first frame (a thread that ended and
    gave its ident to a new one has another), and whether it was at work then."""

    start: FrameType
    working: bool


class ThreadLeftovers:
    """Watches what the threads do during one test (see the module's doc)."""

    def __init__(self, learner_folder: Path) -> None:
        self._folder = learner_folder
        self._tests = str(learner_folder.parent / "tests")
        self._before: dict[int, _Seen] = {}
        self._raised: list[str] = []
        self._previous_hook: Any = None
        # Threads blocked in a futex: when first seen so, and the CPU time they had used then.
        self._quiet: dict[int, tuple[float, float]] = {}
        self._watching = False  # the test has begun (what threads did before it is read once)
        # The concurrent.futures futures that ended with an error raised through the learner's code.
        self._failed: list[tuple[Future, BaseException]] = []
        # The process's interval timers, whose handlers run later in the main thread.
        self._timers = signal_timers.SignalTimers(learner_folder)

    def start(self) -> None:
        current = threading.get_ident()
        for ident, innermost in sys._current_frames().items():
            stack = _stack(innermost)
            working = ident != current and self._theirs(stack) and bool(self._read_work_in(ident, stack))
            self._before[ident] = _Seen(stack[0], working)
        self._watching = True
        self._timers.start()
        self._previous_hook = threading.excepthook
        threading.excepthook = self._thread_raised
        _futures_watched(self)

    def stop(self) -> None:
        """Stop hearing of threads' errors (a test that failed on its way: nothing is checked)."""
        if self._previous_hook is not None:
            if threading.excepthook == self._thread_raised:
                threading.excepthook = self._previous_hook
            self._previous_hook = None
        _futures_unwatched(self)
        self._timers.finish()

    async def finish(self) -> list[str]:
        """The work left going in threads after a grace, and the errors that ended the code's."""
        timers = self._timers.finish()  # before the grace, in which they could go off unseen
        deadline = clock.monotonic() + GRACE
        left = self._left_running()
        while left and self._still_looking(deadline):
            await asyncio.sleep(POLL)
            left = self._left_running()
        return self._verdict(left, timers)

    def finish_sync(self) -> list[str]:
        """`finish`, for a plain test (no event loop runs: the grace is slept)."""
        timers = self._timers.finish()
        deadline = clock.monotonic() + GRACE
        left = self._left_running()
        while left and self._still_looking(deadline):
            time.sleep(POLL)
            left = self._left_running()
        return self._verdict(left, timers)

    def _still_looking(self, deadline: float) -> bool:
        """Whether the grace goes on: until the deadline, and past it for a thread that was quiet
        in a futex before it, until it has been quiet QUIET seconds: one first seen quiet near the
        deadline was otherwise never seen quiet long enough (a CI run, loaded, failed a correct
        answer's idle workers, hundreds of them made at each import; a look over 512 threads takes
        20 ms here idle, 90 ms at a load of 8). A thread that used CPU after the deadline is at
        work: the wait is bounded by QUIET and one look."""
        now = clock.monotonic()
        return now < deadline or any(
            since <= deadline and now - since < QUIET for since, _ in self._quiet.values()
        )

    def _verdict(self, left: list[str], timers: list[str]) -> list[str]:
        self.stop()
        problems = list(dict.fromkeys(self._raised + self._lost_in_futures() + timers))
        if left:
            problems.append(LEFT_IN_THREAD.format(grace=GRACE, places="\n".join(dict.fromkeys(left))))
        return problems

    def _thread_raised(self, hook_args: Any) -> None:
        """threading's hook, called in the thread that an error ended: one of the code's, if it
        passed through the learner's folder. A thread at work before the test began is an earlier
        test's, already failed for leaving it running: its error (one of a module the kata has
        unloaded since, say: "name 'time' is not defined") is not this test's."""
        error = hook_args.exc_value
        places = where.raised_at(error, self._folder) if isinstance(error, BaseException) else []
        if not places or isinstance(error, SystemExit):
            self._previous_hook(hook_args)
            return
        seen = self._before.get(threading.get_ident())
        if seen is not None and seen.working and seen.start is _stack(sys._getframe())[0]:
            return
        shown = where.listing(places, self._folder, innermost=True)
        self._raised.append(RAISED_IN_THREAD.format(error=repr(error), places=shown))

    def _future_failed(self, future: Future, error: BaseException) -> None:
        if where.raised_at(error, self._folder):
            self._failed.append((future, error))

    def _lost_in_futures(self) -> list[str]:
        """The errors of the code's pool futures that nobody read (asked for its result or its
        error): a concurrent.futures future never says so itself. One that passes its state on
        to an asyncio future (`run_in_executor`, `wrap_future`) is asyncio's to report."""
        lost = []
        for future, error in self._failed:
            if future.__dict__.get(_READ) or _passed_to_asyncio(future):
                continue
            places = where.listing(where.raised_at(error, self._folder), self._folder, innermost=True)
            lost.append(LOST_IN_FUTURE.format(error=repr(error), places=places))
        self._failed.clear()
        return lost

    def _left_running(self) -> list[str]:
        """What each thread not the kata's is at work on, that was not at work when the test began
        (the lines of the message, unordered)."""
        places: list[str] = []
        current = threading.get_ident()
        for ident, innermost in sys._current_frames().items():
            stack = _stack(innermost)
            seen = self._before.get(ident)
            if ident == current or (seen is not None and seen.start is stack[0] and seen.working):
                continue
            if self._theirs(stack):
                places += self._read_work_in(ident, stack)
        return places

    def _theirs(self, stack: list[FrameType]) -> bool:
        """Whether a thread (its `stack`, outermost first) is not the kata's or the tests' own: no
        frame of theirs comes before one of the learner's folder."""
        for frame in stack:
            name = frame.f_code.co_filename
            if where.in_target(name, self._folder) or name == __file__:  # this watch's note of a future
                return True
            if name.startswith((_KATA, self._tests)) and (name, frame.f_code.co_name) not in _PASSED_THROUGH:
                return False
        return True

    def _read_work_in(self, ident: int, stack: list[FrameType]) -> list[str]:
        """`_work_in`, read again when the thread changed its loop's tasks as they were read
        (asyncio.all_tasks gives up after 1,000 tries); unreadable three times: at work."""
        for _ in range(3):
            try:
                return self._work_in(ident, stack)
            except RuntimeError:
                continue
        return [self._thread_line(ident, stack)]

    def _work_in(self, ident: int, stack: list[FrameType]) -> list[str]:
        """What a thread is at work on (the lines to show), or nothing: idle."""
        for at, frame in enumerate(stack):
            timer = _timer_of(frame)
            if timer is not None and not timer.finished.is_set():
                return self._defined(timer.function) or [self._thread_line(ident, stack)]
            loop = _loop_of(frame)
            if loop is not None and _has_work(loop):
                places = where.waiting_at(loop, self._folder)
                shown = [p.shown(self._folder) for p in places] or self._timers_of(loop)
                return shown or [self._thread_line(ident, stack)]
            if loop is not None and not any(_runs_a_callback(inner) for inner in stack[at + 1 :]):
                return []  # a loop with nothing to do, waiting for events (a selector, or a proactor)
        innermost = stack[-1].f_code
        if _idle(stack[-1]) or (
            (innermost.co_filename, innermost.co_name) not in _IDLE and self._asleep_on_a_lock(ident)
        ):
            return []
        running = where.running_in(stack[-1], self._folder)
        return [running.shown(self._folder)] if running is not None else [self._thread_line(ident, stack)]

    def _asleep_on_a_lock(self, ident: int) -> bool:
        """Whether a thread blocked in C (a SimpleQueue's or a lock's wait, called from the code's
        own worker) waits for something to do: Linux says it sleeps in a futex, and it has used no
        CPU for QUIET seconds (a thread running Python waits in a futex too, for the GIL, while
        this one reads: its CPU time goes on). Before the test (no time to watch): it is taken as
        waiting if in a futex. Where this cannot be read (not Linux): at work."""
        thread = threading._active.get(ident)  # type: ignore[attr-defined]
        native = getattr(thread, "native_id", None)
        if native is None or "futex" not in _wchan(native) or _timed_futex(native):
            self._quiet.pop(ident, None)
            return False
        try:
            used = time.clock_gettime(time.pthread_getcpuclockid(ident))
        except (AttributeError, OSError):
            return False
        if not self._watching:
            return True
        now = clock.monotonic()
        since, before = self._quiet.get(ident, (now, None))
        if used != before:
            self._quiet[ident] = (now, used)
            return False
        return now - since >= QUIET

    def _thread_line(self, ident: int, stack: list[FrameType]) -> str:
        """A thread at work in no code of the learner's: its name (Python's names a thread after
        its target: `Thread-3 (_audit)`) and the line it is at."""
        thread = threading._active.get(ident)  # type: ignore[attr-defined]
        name = thread.name if thread is not None else f"thread {ident}"
        # The innermost frame not the kata's (its stand-in for time.sleep, say: the code called sleep).
        frame = next((f for f in reversed(stack) if not f.f_code.co_filename.startswith(_KATA)), stack[-1])
        code, line = frame.f_code, frame.f_lineno
        return f"  thread {name!r}, in {code.co_name} ({os.path.basename(code.co_filename)}:{line})"

    def _timers_of(self, loop: asyncio.AbstractEventLoop) -> list[str]:
        shown: list[str] = []
        for handle in _pending(loop):
            shown += self._defined(handle._callback, handle._args or ())
        return shown

    def _defined(self, callback: Any, args: tuple = ()) -> list[str]:
        code = code_of(callback, args)
        place = where.defined_by(code, self._folder) if code is not None else None
        return [place.shown(self._folder)] if place is not None else []


def _idle(innermost: FrameType) -> bool:
    """Whether a thread whose innermost frame this is waits for something to do (see _IDLE): a
    pool's worker with work on its queue, or one it has just taken and not yet run, is not idle."""
    code = innermost.f_code
    if (code.co_filename, code.co_name) not in _IDLE:
        return False
    if code.co_name == "_worker":
        local = innermost.f_locals
        work = local.get("work_queue")
        return local.get("work_item") is None and (not hasattr(work, "empty") or work.empty())
    # A wait with a time limit is a sleep: what called it goes on when it runs out
    # (`threading.Event().wait(3)`, a selector's `select(3)`, then the audit). A join's "no limit"
    # is -1; an event loop with nothing to do selects with none.
    timeout = innermost.f_locals.get("timeout")
    return timeout is None or (isinstance(timeout, int | float) and timeout < 0)


def _runs_a_callback(frame: FrameType) -> bool:
    """Whether a frame runs one of a loop's callbacks (a task's step, say): asyncio's Handle._run,
    or the kata's stand-in for it while the loop is observed."""
    name = (frame.f_code.co_filename, frame.f_code.co_name)
    return name in {(asyncio.events.__file__, "_run"), (loop_runs.__file__, "_observed_run")}


def _timed_futex(native_id: int) -> bool:
    """Whether the thread's futex wait has a time limit (a lock's `acquire(timeout=3)`, a
    SimpleQueue's `get(timeout=3)`: a sleep), read from its syscall's fourth argument (Linux:
    /proc/self/task/<id>/syscall); unreadable: taken as timed (at work)."""
    fields = (stall_cause.read_once(f"/proc/self/task/{native_id}/syscall", 256) or "").split()
    if len(fields) < 5 or fields[0] == "running":
        return True
    return fields[4] not in ("0x0", "0")


def _wchan(native_id: int) -> str:
    """The kernel function a thread sleeps in (Linux), or ""."""
    return stall_cause.read_once(f"/proc/self/task/{native_id}/wchan") or ""


def _stack(innermost: FrameType) -> list[FrameType]:
    """A thread's frames, outermost (its start) first."""
    frames = []
    frame: FrameType | None = innermost
    while frame is not None and len(frames) < 2000:
        frames.append(frame)
        frame = frame.f_back
    return frames[::-1]


def _pending(loop: asyncio.AbstractEventLoop) -> list[asyncio.Handle]:
    handles = [*getattr(loop, "_ready", ()), *getattr(loop, "_scheduled", ())]
    return [handle for handle in handles if not handle.cancelled()]


def _has_work(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether a loop run in a thread has a callback or a timer still to run (a task's sleep), or
    waits on a socket or pipe besides its own wake-up pipe (a request's answer). A task waiting only
    on what another thread or task may set (an Event, a future) is the loop's idle service."""
    return bool(_pending(loop)) or _waits_on_io(loop)


def _waits_on_io(loop: asyncio.AbstractEventLoop) -> bool:
    selector = getattr(loop, "_selector", None)
    if not hasattr(selector, "get_map"):
        return False  # Windows' proactor: its waits are not read
    own = getattr(loop, "_ssock", None)
    wake_up = own.fileno() if hasattr(own, "fileno") else None  # registered by its number
    return any(key.fd != wake_up for key in list(selector.get_map().values()))


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


# concurrent.futures.Future, watched while any ThreadLeftovers is on: its errors, and who read them.
_READ = "_kata_read"
_future_watches: list[ThreadLeftovers] = []
_future_lock = threading.Lock()
_set_exception, _result, _exception = Future.set_exception, Future.result, Future.exception


def _noted_set_exception(future: Future, exception: BaseException | None) -> None:
    _set_exception(future, exception)
    if isinstance(exception, BaseException):
        for watch in list(_future_watches):
            watch._future_failed(future, exception)


def _noted_result(future: Future, timeout: float | None = None) -> Any:
    future.__dict__[_READ] = True
    return _result(future, timeout)


def _noted_exception(future: Future, timeout: float | None = None) -> BaseException | None:
    future.__dict__[_READ] = True
    return _exception(future, timeout)


sleep_watch.looks_through(_noted_result, _noted_exception)  # the code's read of a future, waited or not


def _futures_watched(watch: ThreadLeftovers) -> None:
    with _future_lock:
        if watch not in _future_watches:
            _future_watches.append(watch)
        Future.set_exception = _noted_set_exception  # type: ignore[method-assign]
        Future.result = _noted_result  # type: ignore[method-assign]
        Future.exception = _noted_exception  # type: ignore[method-assign]


def _futures_unwatched(watch: ThreadLeftovers) -> None:
    with _future_lock:
        if watch in _future_watches:
            _future_watches.remove(watch)
        if not _future_watches:
            Future.set_exception, Future.result, Future.exception = _set_exception, _result, _exception  # type: ignore[method-assign]


def _passed_to_asyncio(future: Future) -> bool:
    """Whether asyncio copies `future`'s state into a future of its own (run_in_executor,
    wrap_future): it reads the error there, or drops it for a future cancelled meanwhile."""
    callbacks = getattr(future, "_done_callbacks", ())
    return any(
        getattr(c, "__qualname__", "").endswith("_chain_future.<locals>._call_set_state") for c in callbacks
    )
