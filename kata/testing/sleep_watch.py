"""Blocking waits called by the learner's code in async code: time.sleep and the standard library's.

The loop guard sees a frozen loop only when it stands still longer than its limit (0.1 s): a
`time.sleep(0.005)` after each of 5 calls froze the loop for 25 ms in all, and passed (learner
trial, 02), and so did a rate limiter that waited out its last few milliseconds with
`threading.Event().wait(wait)` ("too short to be worth a loop turn": red team, 21). A call is a
fact, not a measurement: `time.sleep` and the standard library's blocking waits are replaced,
once, by functions that note each call made from the learner's own file on a thread whose event
loop is running, while a test watches (`watching`), then do as asked. No machine can cause such a
call, so the finding leads with the loop guard's "asleep in a blocking call" words, which get no
second run. Only a call from their file counts (through the standard library's passages to a wait below): a
library that waits inside shows as a frozen loop, as before.

In a thread of the code's own (no loop runs there) a timed wait is held back while the probe of the
code's timers holds them (ThreadTimers, below); so is a timed wait the file hands a worker thread
itself (`asyncio.to_thread(time.sleep, 0.01)`, `to_thread(event.wait, 0.01)`: `handed_by`), and
nothing else a worker thread runs (a blocking call of a test's fake handed over stays as it is);
and so is the wait of a threading.Timer the file starts, whatever it calls back.

What is watched, and when a call is noted:
- time.sleep, and select.select with a time limit (None or > 0): every call;
- threading.Condition.wait (a limit of None or > 0): every call. It is where the other waits of
  threading, queue and concurrent.futures wait, so a call of one of those is noted when it reached
  such a wait, that is when it had to wait: threading.Event.wait, Condition.wait_for,
  Semaphore/BoundedSemaphore.acquire (and `with`), Barrier.wait, queue.Queue.get/put/join,
  concurrent.futures.Future.result/exception, concurrent.futures.wait. Their non-blocking forms
  (`wait(0)`, `get(block=False)`, `acquire(blocking=False)`) never wait, nor does the result of a
  future already done, an event already set or a queue's item already there: not findings.
- threading.Thread.join (a limit of None or > 0) of a thread still alive;
- a loop over `executor.map(...)` or `concurrent.futures.as_completed(...)`, named so: the wait
  is in Future.result or Event.wait, called by the standard library's iterator, looked through to
  the learner's line (_PASSAGES; a pool's shutdown stays the library's, as a library's loop over
  them does);
- subprocess.Popen.wait and communicate of a process still running, subprocess.run (call,
  check_call, check_output) that waits in them;
- threading.Lock and RLock, their blocking acquire (and `with`) of a lock held elsewhere: the lock
  is in C, so a lock the learner's file makes (a file of a folder the loader loads from) is a
  _WatchedLock, the kata's and the libraries' stay as they were (about 0.17 us more to make one).
A worker thread (asyncio.to_thread, run_in_executor) runs no loop: its waits are not noted. Not
watched: a blocking socket's recv/accept/connect, os.read of a pipe (the loop's own transports call
these, every read: a stand-in would cost every test).

It is installed when the kata's test machinery is imported (kata.testing.loopguard), before any
learner module: `from time import sleep` or `from threading import Event` in their file gets it
too. The clock's tampering check (kata.testing.clock) knows it as time.sleep. The stand-ins run in
the code's own threads: the thread watch (kata.testing.thread_leftovers) passes over them
(PASSED_THROUGH), and a stand-in of the kata's own that calls one of these on the code's behalf is
looked through (`looks_through`).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import inspect
import os
import queue
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from kata import where
from kata.testing import clock
from kata.testing.limits import RAN_OUT_IN_THREADS

_REAL_SLEEP = time.sleep
_REAL_CONDITION_WAIT = threading.Condition.wait
_running_loop = asyncio._get_running_loop


@dataclass
class Slept:
    """One call of a blocking wait by the learner's code in async code: `call` as they know it
    (`time.sleep`, `threading.Event.wait`), and how long it blocked (a sleep: as asked; a wait:
    as measured, up to now while it still waits)."""

    seconds: float | None
    path: Path
    line: int
    function: str
    call: str = "time.sleep"
    started: float = field(default_factory=clock.monotonic)

    def blocked(self) -> float:
        if isinstance(self.seconds, int | float):
            return max(0.0, self.seconds)
        return max(0.0, clock.monotonic() - self.started)


class _Watch:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls: list[Slept] = []
        self.lock = threading.Lock()


_watches: list[_Watch] = []
_local = threading.local()  # .calls: the learner's calls of a watched wait now under way, innermost last
_looked_through: set[CodeType] = set()


def looks_through(*functions: Callable) -> None:
    """Functions of the kata's own that stand in for a watched one and call it on the code's
    behalf (thread_leftovers' note of a future read): their caller is the one asked about."""
    _looked_through.update(f.__code__ for f in functions)


# The standard library's frames between a learner's line and a wait it reached through them, as
# (folder or file, function): a loop over `pool.map(...)` or `concurrent.futures.as_completed(...)`
# waits in Future.result or Event.wait called from these; `subprocess.run` (and call,
# check_call, check_output) in Popen.communicate or wait. Each names the call as the learner
# wrote it, or None: the wait's own name (a `with Popen(...)` block's end waits in Popen.wait).
# Only these: a pool's shutdown (`with ThreadPoolExecutor()` ending) stays a library's wait.
_FUTURES = os.path.dirname(concurrent.futures.__file__) + os.sep
_PASSAGES: dict[tuple[str, str], str | None] = {
    (_FUTURES, "_result_or_cancel"): None,
    (_FUTURES, "result_iterator"): "concurrent.futures.Executor.map",
    (_FUTURES, "_chain_from_iterable_of_lists"): "concurrent.futures.Executor.map",
    (_FUTURES, "as_completed"): "concurrent.futures.as_completed",
    **{
        (subprocess.__file__, name): f"subprocess.{name}"
        for name in ("run", "call", "check_call", "check_output")
    },
    (subprocess.__file__, "getstatusoutput"): "subprocess.getstatusoutput",
    (subprocess.__file__, "getoutput"): "subprocess.getoutput",
    (subprocess.__file__, "__exit__"): None,
}


def _passage(code: CodeType) -> tuple[bool, str | None]:
    """Whether `code` is one of _PASSAGES, and the name it gives the call."""
    filename = code.co_filename
    folder = _FUTURES if filename.startswith(_FUTURES) else filename
    key = (folder, code.co_name)
    return key in _PASSAGES, _PASSAGES.get(key)


def _caller_through(frame: FrameType | None) -> tuple[FrameType | None, str | None]:
    """The frame that asked for a wait, past the kata's stand-ins (`looks_through`) and the
    standard library's passages to it (_PASSAGES), and the name of the call it made there (None:
    the wait's own)."""
    via = None
    while frame is not None:
        code = frame.f_code
        if code not in _looked_through:
            passage, name = _passage(code)
            if not passage:
                break
            via = name or via
        frame = frame.f_back
    return frame, via


def _caller(frame: FrameType | None) -> FrameType | None:
    return _caller_through(frame)[0]


_EVENTS = asyncio.events.__file__


def _waiting_for_events(frame: FrameType | None) -> bool:
    """Whether a call is the loop's own wait for events (a selector of the code's own, whose
    select waits its own way), not code that the loop runs: a loop's run_once is met before any
    callback's run (a task's step) going out from the call."""
    while frame is not None:
        code = frame.f_code
        if (code.co_name == "_run" and code.co_filename == _EVENTS) or code.co_name == "_observed_run":
            return False
        if code.co_name == "_run_once" and code.co_filename == where.BASE_EVENTS:
            return True
        frame = frame.f_back
    return False


def _note(call: str, frame: FrameType | None, seconds: float | None) -> list[Slept]:
    """The call noted for each watch whose folder holds the file of `frame` (the caller)."""
    frame = _caller(frame)
    if frame is None or not any(where.in_target(frame.f_code.co_filename, w.folder) for w in _watches):
        return []
    if _waiting_for_events(frame):
        return []
    filename = frame.f_code.co_filename
    noted = []
    for watch in list(_watches):
        if where.in_target(filename, watch.folder):
            try:
                path = Path(filename).resolve()
            except (OSError, ValueError):
                continue
            record = Slept(seconds, path, frame.f_lineno, frame.f_code.co_name, call)
            with watch.lock:
                watch.calls.append(record)
            noted.append(record)
    return noted


def _ended(records: list[Slept]) -> None:
    for record in records:
        if record.seconds is None:
            record.seconds = max(0.0, clock.monotonic() - record.started)


def _may_block(timeout: Any) -> bool:
    return timeout is None or (isinstance(timeout, int | float) and timeout > 0)


def sleep(seconds: float, /) -> None:
    """time.sleep, noting a call from the learner's file made in async code (see the module); in a
    thread of the code's own, held back while its timers are (ThreadTimers)."""
    if _watches and _running_loop() is not None:
        _note("time.sleep", sys._getframe(1), seconds)
    elif _thread_timers and _timed(seconds) and _running_loop() is None:
        _thread_wait("time.sleep", seconds, sys._getframe(1), _sleep_out)
        return
    _REAL_SLEEP(seconds)


def _slept(seconds: float) -> bool:
    _REAL_SLEEP(seconds)
    return False  # it ran its time out


sleep.__doc__ = _REAL_SLEEP.__doc__


class _Call:
    """A learner's call of a wait built on Condition.wait, under way: noted once it waits."""

    __slots__ = ("frame", "name", "noted")

    def __init__(self, name: str, frame: FrameType) -> None:
        self.name, self.frame, self.noted = name, frame, None


@functools.wraps(_REAL_CONDITION_WAIT)
def _condition_wait(self: threading.Condition, timeout: float | None = None) -> bool:
    if _watches and _may_block(timeout) and _running_loop() is not None:
        calls = getattr(_local, "calls", None)
        if calls:  # inside the learner's call of a wait of threading, queue or concurrent.futures
            under_way = calls[-1]
            if under_way.noted is None:
                under_way.noted = _note(under_way.name, under_way.frame, None)
        else:
            noted = _note("threading.Condition.wait", sys._getframe(1), None)
            try:
                return _REAL_CONDITION_WAIT(self, timeout)
            finally:
                _ended(noted)
    elif _thread_timers and _timed(timeout) and _running_loop() is None:
        return _thread_wait(
            "threading.Condition.wait",
            timeout,
            sys._getframe(1),
            functools.partial(_condition_wait_out, self),
        )
    return _REAL_CONDITION_WAIT(self, timeout)


# The code's own threads: a thread's timed wait, held back with the code's loop timers.
#
# The probe of the code's timers (kata.testing.own_timers) holds back the timers the learner's file
# has pending on its loop: code that waits for its calls returns as they end, a poll does not. A
# red team's answer (10) polled from a thread instead: a thread of its own checked `job.done()`
# every 20 ms with time.sleep and woke the loop once (call_soon_threadsafe) when all were done; the
# loop had no timer to hold back, and it passed. So while a watch holds the code's timers back, a
# timed wait that a thread with no loop makes for the learner's file (time.sleep, and a time limit
# of Condition.wait and the waits built on it: Event.wait(timeout), Queue.get(timeout=...),
# Future.result(timeout), a threading.Timer of a function of theirs) is held back too: one whose
# time runs out meanwhile returns only once the hold ends. A thread poll then never notices that
# the calls have ended, and the probe says so, as of a poll on the loop. What it waited for coming
# still wakes it at once (an Event set, a Future done: a heartbeat thread stopped by an Event);
# the kata's and the tests' own waits (a fake's blocking call that the code runs in a thread) and a
# wait with no time limit are never held; a thread that runs a loop is the async code's.

_THREAD_PASSAGES = (threading.__file__, queue.__file__, __file__)
_TIMER_RUN = threading.Timer.run.__code__
HOLD_SLICE = 0.02  # a held Condition.wait waits for its notice in slices this long, until the hold ends
HOLD_MAX = 60.0  # seconds a held wait waits for its hold's end at most (a watch ends it long before)
RECENT = 0.1  # a thread's wait that ended this long before a hold began is taken as under way then


def _timed(timeout: Any) -> bool:
    return isinstance(timeout, int | float) and timeout > 0


@dataclass(eq=False)
class TimedWait:
    """A timed wait made for the learner's file in a thread of the code's own: `how` as they wrote
    it (`time.sleep(0.02)`), where, and when it began and ended (kata clock)."""

    seconds: float
    how: str
    file: str
    line: int
    function: str
    started: float = field(default_factory=clock.perf_counter)
    ended: float | None = None
    ran_out: bool = False  # its time ran out (a sleep, or a wait nothing woke): a timer that fired
    # Handed to a worker thread by the file itself (`asyncio.to_thread(time.sleep, x)`), or the
    # wait of a threading.Timer it started that calls back none of its functions: the watch notes
    # it as that call's timer already (kata.testing.waiting), so it is held, not noted again.
    handed: bool = False
    # Its time is up now: the probe ran it out (ThreadTimers.run_out), as it runs the loop's out,
    # releasing `wake` (a lock the wait holds while it waits: it ends at once).
    cut: bool = False
    wake: Any = field(default=None, repr=False)


class ThreadTimers:
    """The timed waits the threads of `code_file`'s own make (see above), held back from `hold()`
    to `let_go()` (by a wake watch, kata.testing.waiting, as it holds the loop's timers back)."""

    def __init__(self, code_file: str) -> None:
        self.code_file = code_file
        self.under_way: dict[int, TimedWait] = {}
        self.last: dict[int, TimedWait] = {}  # each thread's latest, by its ident
        self.holding: Callable[[TimedWait], bool] | None = None  # which it holds, while it holds
        # The latest waits whose time ran out: a timer of a thread's that fired (11 reads their
        # lengths: `threading.Timer(limit + 0.05, ...)` gave up later than the limit).
        self.ran_out: collections.deque[TimedWait] = collections.deque(maxlen=RAN_OUT_IN_THREADS)
        self._gate = threading._allocate_lock()  # type: ignore[attr-defined]

    def hold(self, spared: Callable[[TimedWait], bool]) -> list[TimedWait]:
        """From now on, until `let_go()`, each wait whose time runs out is held (but those
        `spared`); the waits under way now (or that ended just now: a poll between two sleeps)."""
        if self.holding is None:
            self._gate.acquire()
            self.holding = lambda wait: not spared(wait)
        now = clock.perf_counter()
        seen = [*list(self.under_way.values()), *list(self.last.values())]
        recent = [w for w in dict.fromkeys(seen) if w.ended is None or w.ended > now - RECENT]
        return [w for w in recent if not spared(w) and not w.cut]  # one run out ends, never held

    def run_out(self, spared: Callable[[TimedWait], bool]) -> list[TimedWait]:
        """The timed waits under way now (but those `spared`) end now, as if their time had run
        out: a time limit kept in a thread (`threading.Timer(5, ...)` that cancels the calls) gives
        up, as one on the loop does when the probe runs the loop's timers out (a red team's 02
        passed with one: its thread's wait was only ever held back). Those it ended."""
        holding = self.holding  # one an earlier round held back stays held: a poll stays stuck
        under_way = dict.fromkeys(list(self.under_way.values()))
        held = (lambda _w: False) if holding is None else holding
        cut = [w for w in under_way if not w.cut and not spared(w) and not held(w)]
        for wait in cut:
            wait.cut = True
            if wait.wake is not None:
                with contextlib.suppress(RuntimeError):  # it has ended meanwhile
                    wait.wake.release()
        return cut

    def let_go(self) -> None:
        if self.holding is not None:
            self.holding = None
            self._gate.release()

    def held(self, wait: TimedWait) -> bool:
        """Whether `wait`, whose time ran out, is held: until the hold ends (True if it was)."""
        holding = self.holding
        if holding is None or not holding(wait):
            return False
        if self._gate.acquire(timeout=HOLD_MAX):
            self._gate.release()
        return True


_thread_timers: list[ThreadTimers] = []


def watch_thread_timers(timers: ThreadTimers, on: bool) -> None:
    if on:
        _thread_timers.append(timers)
    elif timers in _thread_timers:
        timers.let_go()
        _thread_timers.remove(timers)


WaitOut = Callable[[list[ThreadTimers], TimedWait], Any]  # makes a thread's timed wait: _thread_wait


def _thread_wait(
    call: str,
    seconds: float,
    frame: FrameType,
    wait_out: WaitOut,
    timed_out: Callable[[Any], bool] = lambda outcome: outcome is None or outcome is False,
) -> Any:
    """A timed wait of `seconds` (`call`: time.sleep, Condition.wait) in a thread with no loop,
    made by `wait_out(owners, wait)`: held while a watch of the file it is made for (an owner)
    holds (ThreadTimers); with no owner, as the caller asked. `timed_out(outcome)`: whether its
    time ran out with nothing come (a sleep; a wait that nothing woke)."""
    owners, wait = _made_for(call, seconds, frame)
    if not owners:
        return wait_out(owners, wait)
    key, ident = id(wait), threading.get_ident()
    for owner in owners:
        owner.under_way[key] = wait
    outcome = True
    try:
        outcome = wait_out(owners, wait)
        return outcome
    finally:
        wait.ended = clock.perf_counter()
        wait.ran_out = timed_out(outcome)
        for owner in owners:
            owner.under_way.pop(key, None)
            owner.last[ident] = wait
            if wait.ran_out and not wait.handed:
                owner.ran_out.append(wait)


def _sleep_out(owners: list[ThreadTimers], wait: TimedWait) -> None:
    """time.sleep in a thread with no loop: its time (less, if an owner runs it out), then each
    owner's hold, if it holds."""
    wake = threading._allocate_lock()  # type: ignore[attr-defined]
    wake.acquire()
    wait.wake = wake
    if not wait.cut:
        wake.acquire(True, wait.seconds)
    if wait.cut:
        return  # run out by the probe: it ends now, never held
    for owner in owners:
        owner.held(wait)


def _condition_wait_out(condition: threading.Condition, owners: list[ThreadTimers], wait: TimedWait) -> bool:
    """Condition.wait(wait.seconds) in a thread with no loop: threading's own with no owner, else
    one that waits on for its notice while an owner holds the wait."""
    if not owners:
        return _REAL_CONDITION_WAIT(condition, wait.seconds)
    return _condition_wait_held(
        condition,
        wait.seconds,
        lambda: not wait.cut and any(o.holding is not None and o.holding(wait) for o in owners),
        wait,
    )


def _condition_wait_held(
    condition: threading.Condition, timeout: float, held: Callable[[], bool], wait: TimedWait
) -> bool:
    """Condition.wait(timeout) as threading has it, but that its time may be run out early (`wait`
    cut: its waiter, `wait.wake`, released), and that once it has run out it waits on for its
    notice, in slices, while `held()`: one waiter all along, so that a notice that comes as a slice
    ends is not lost (a wait of each slice afresh lost one: a heartbeat thread whose stop.set() came
    then slept on until the hold ended, and the code's join of it with it)."""
    if not condition._is_owned():  # type: ignore[attr-defined]
        raise RuntimeError("cannot wait on un-acquired lock")
    waiter = threading._allocate_lock()  # type: ignore[attr-defined]
    waiter.acquire()
    condition._waiters.append(waiter)  # type: ignore[attr-defined]
    saved_state = condition._release_save()  # type: ignore[attr-defined]
    got_it = False
    wait.wake = waiter
    try:
        got_it = not wait.cut and waiter.acquire(True, timeout) and not wait.cut  # cut: its time ran out
        while not got_it and held():
            got_it = waiter.acquire(True, HOLD_SLICE)
        return got_it
    finally:
        condition._acquire_restore(saved_state)  # type: ignore[attr-defined]
        if not got_it:
            with contextlib.suppress(ValueError):
                condition._waiters.remove(waiter)  # type: ignore[attr-defined]


def _sliced_wait(
    attempt: Callable[[float], Any], came: Callable[[Any], bool], owners: list[ThreadTimers], wait: TimedWait
) -> Any:
    """A timed wait that nothing but time can cut short from outside (a select, a lock's acquire),
    made of `attempt(seconds)` calls of HOLD_SLICE s at most: until what it waits for has come
    (`came(outcome)`), its time is up, or the probe runs it out (`wait.cut`); then, its time up with
    nothing come, waiting on while an owner holds it (not once run out). Its last outcome."""
    deadline = clock.monotonic() + wait.seconds
    outcome = attempt(min(wait.seconds, HOLD_SLICE))
    while not came(outcome) and not wait.cut and (left := deadline - clock.monotonic()) > 0:
        outcome = attempt(min(left, HOLD_SLICE))
    while (
        not came(outcome) and not wait.cut and any(o.holding is not None and o.holding(wait) for o in owners)
    ):
        outcome = attempt(HOLD_SLICE)
    return outcome


def _held_in_threads(name: str, real: Callable, seconds_of: Callable[..., Any]) -> Callable:
    """`real` (select.select), that in a thread of the code's own with no loop, with a time limit,
    is a timed wait held back and run out as a time.sleep there is (ThreadTimers): a thread that
    polls with select instead of time.sleep passed 10 (a red team's)."""

    @functools.wraps(real)
    def held_call(*args: Any, **kwargs: Any) -> Any:
        try:
            seconds = seconds_of(*args, **kwargs)
        except Exception:  # arguments `real` will refuse in its own words
            seconds = None
        if not (_thread_timers and _timed(seconds) and _running_loop() is None):
            return real(*args, **kwargs)
        bound = inspect.signature(seconds_of).bind(*args, **kwargs)
        bound.arguments["timeout"] = None

        def attempt(slice_seconds: float) -> Any:
            bound.arguments["timeout"] = max(slice_seconds, 0.0)
            return real(*bound.args, **bound.kwargs)

        def wait_out(owners: list[ThreadTimers], wait: TimedWait) -> Any:
            if not owners:
                return real(*args, **kwargs)
            return _sliced_wait(attempt, any, owners, wait)

        return _thread_wait(name, seconds, sys._getframe(1), wait_out, timed_out=lambda ready: not any(ready))

    return held_call


def _select_timeout(rlist: Any, wlist: Any, xlist: Any, timeout: float | None = None) -> float | None:
    return timeout


def _made_for(call: str, seconds: float, frame: FrameType | None) -> tuple[list[ThreadTimers], TimedWait]:
    """The ThreadTimers of the file a thread's timed wait is made for: the first file from the
    wait outwards past threading's, queue's, concurrent.futures' and the kata's stand-ins, or a
    threading.Timer's function's; with the wait as the learner wrote it."""
    below = None  # the standard library's call the learner's line made (Event.wait)
    timer = None
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        if code is _TIMER_RUN:
            timer = frame.f_locals.get("self")
            function = getattr(timer, "function", None)
            function = getattr(function, "__wrapped__", function)  # a watch's, noting it ran out
            code = getattr(getattr(function, "__func__", function), "__code__", None)
            if code is None:
                break
            site = (code.co_filename, code.co_firstlineno, code.co_name)
            how = f"threading.Timer({getattr(timer, 'interval', seconds):g}, {code.co_name})"
            owners = _owners(code.co_filename)
            started = getattr(timer, "_kata_started_at", None)  # by the file (kata.testing.waiting)
            if not owners and started is not None and _owners(started[0]):
                # It calls back none of the file's functions (`loop.call_soon_threadsafe`), but
                # the file started it: its wait, held with its threads' (noted as a timer there).
                how = f"threading.Timer({getattr(timer, 'interval', seconds):g}, ...) in a thread"
                return _owners(started[0]), TimedWait(seconds, how, *_place(started), handed=True)
            return owners, TimedWait(seconds, how + " in a thread", *_place(site))
        if code in _looked_through or filename in _THREAD_PASSAGES or filename.startswith(_FUTURES):
            if filename != __file__ and code not in _looked_through:
                below = frame
            frame = frame.f_back
            continue
        owners = _owners(filename)
        if not owners:
            break
        if call == "time.sleep" or below is None:
            how = f"{call}({seconds:g})"
        else:
            module = str(below.f_globals.get("__name__", ""))
            module = "concurrent.futures" if module.startswith("concurrent.futures") else module
            how = f"{module}.{below.f_code.co_qualname}({seconds:g})"
        site = (filename, frame.f_lineno, code.co_name)
        return owners, TimedWait(seconds, how + " in a thread", *_place(site))
    handed = getattr(_handed, "site", None)
    owners = _owners(handed[0]) if handed is not None else []
    if owners:
        how = _handed.how.replace("...", f"{call}, {seconds:g}")  # `asyncio.to_thread(time.sleep, 0.01)`
        return owners, TimedWait(seconds, how, *_place(handed), handed=True)
    return [], TimedWait(seconds, call, "", 0, "")


# The wait a worker thread runs now, handed to it by the learner's file itself
# (`asyncio.to_thread(time.sleep, 0.01)`): `site`, its file and line, and `how` it was handed
# (kata.testing.waiting sets them).
_handed = threading.local()


def handed_by(
    site: tuple[str, int, str], wait: Callable[..., Any], how: str = "asyncio.to_thread(...)"
) -> Callable[..., Any]:
    """`wait` (a timed wait: time.sleep, Event.wait, given its seconds), run in a worker thread as
    made for the file at `site`, which handed it over (`how`: through asyncio.to_thread or
    loop.run_in_executor): held while that file's timers are, as a
    thread of the code's own waits would be (a slot kept after its call by `await
    asyncio.to_thread(time.sleep, 0.01)`). What else a worker thread runs is not the code's wait."""

    @functools.wraps(wait)
    def run(*args: Any, **kwargs: Any) -> Any:
        before = getattr(_handed, "site", None), getattr(_handed, "how", None)
        _handed.site, _handed.how = site, how
        try:
            return wait(*args, **kwargs)
        finally:
            _handed.site, _handed.how = before

    return run


def is_a_timed_wait(target: Any, args: tuple) -> bool:
    """Whether `target(*args)` is only a timed wait: time.sleep(x), or the `wait(x)` of a
    threading.Event or Condition, with x seconds given."""
    if len(args) != 1 or type(args[0]) not in (int, float) or args[0] <= 0:
        return False
    if target in (sleep, _REAL_SLEEP):
        return True
    owner = getattr(target, "__self__", None)
    return getattr(target, "__name__", "") == "wait" and isinstance(
        owner, threading.Event | threading.Condition
    )


def _place(site: tuple[str, int, str]) -> tuple[str, int, str]:
    filename, line, function = site
    return os.path.basename(filename), line, function


def _owners(filename: str) -> list[ThreadTimers]:
    return [timers for timers in list(_thread_timers) if timers.code_file == filename]


def _learners_call(name: Callable[[tuple], str], real: Callable) -> Callable:
    """A stand-in for `real` (a wait that waits in Condition.wait) that, called from a file a
    watch watches in async code, notes the call once it waits (named `name(args)`)."""

    @functools.wraps(real)
    def watched_wait(*args: Any, **kwargs: Any) -> Any:
        if not _watches or _running_loop() is None:
            return real(*args, **kwargs)
        frame, via = _caller_through(sys._getframe(1))
        if frame is None or not any(where.in_target(frame.f_code.co_filename, w.folder) for w in _watches):
            return real(*args, **kwargs)
        calls = getattr(_local, "calls", None)
        if calls is None:
            calls = _local.calls = []
        call = _Call(via or name(args), frame)
        calls.append(call)
        try:
            return real(*args, **kwargs)
        finally:
            calls.pop()
            if call.noted:
                _ended(call.noted)

    return watched_wait


def _checked_call(name: str, real: Callable, blocks: Callable[..., bool]) -> Callable:
    """A stand-in for `real` that, called from the learner's file in async code, notes the call
    when `blocks(*args, **kwargs)` says it can wait (a thread still alive, a time limit)."""

    @functools.wraps(real)
    def watched_call(*args: Any, **kwargs: Any) -> Any:
        if not _watches or _running_loop() is None:
            return real(*args, **kwargs)
        try:
            waits = blocks(*args, **kwargs)
        except Exception:  # arguments `real` will refuse in its own words
            waits = False
        if not waits:
            return real(*args, **kwargs)
        frame, via = _caller_through(sys._getframe(1))
        noted = _note(via or name, frame, None)
        try:
            return real(*args, **kwargs)
        finally:
            _ended(noted)

    return watched_call


def _named(module: str, default: str, method: str) -> Callable[[tuple], str]:
    """The name a learner knows a method by: its class's, where that is the standard library's."""

    def name(args: tuple) -> str:
        kind = type(args[0]) if args else None
        shown = kind.__name__ if kind is not None and kind.__module__ == module else default
        return f"{module}.{shown}.{method}"

    return name


def _fixed(name: str) -> Callable[[tuple], str]:
    return lambda _args: name


def _join_blocks(thread: threading.Thread, timeout: float | None = None) -> bool:
    return thread.is_alive() and _may_block(timeout)


def _select_blocks(_r: Any, _w: Any, _x: Any, timeout: float | None = None) -> bool:
    return _may_block(timeout)


def _process_runs(process: subprocess.Popen, *args: Any, **kwargs: Any) -> bool:
    """Whether Popen.wait or communicate can wait: a time limit (None or > 0), the process running."""
    timeout = kwargs.get("timeout", args[-1] if args else None)
    return _may_block(timeout) and process.poll() is None


class _WatchedLock:
    """A threading.Lock or RLock the learner's file made (`_lock_maker`): as the lock it stands for,
    but that a blocking acquire (and `with`), called from their file in async code, is noted when
    the lock is held elsewhere, so that it has to wait. The lock's own methods are in C, beyond
    reach: only the locks their file makes are these, so the kata's and the libraries' own locks
    cost nothing more."""

    __slots__ = ("_lock", "_name")

    def __init__(self, lock: Any, name: str) -> None:
        self._lock, self._name = lock, name

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        lock = self._lock
        if blocking and _thread_timers and _timed(timeout) and _running_loop() is None:
            # In a thread of the code's own: a timed wait, held back and run out as a sleep there
            # is (a thread that polls with `lock.acquire(timeout=...)` passed 10: a red team's).
            def wait_out(owners: list[ThreadTimers], wait: TimedWait) -> bool:
                if not owners:
                    return lock.acquire(True, timeout)
                return _sliced_wait(lambda s: lock.acquire(s > 0, s if s > 0 else -1), bool, owners, wait)

            return _thread_wait(self._name, timeout, sys._getframe(1), wait_out)
        if blocking and timeout != 0 and _watches and _running_loop() is not None:
            if lock.acquire(False):  # free (or an RLock this thread holds): no wait
                return True
            noted = _note(self._name, sys._getframe(1), None)
            try:
                return lock.acquire(blocking, timeout)
            finally:
                _ended(noted)
        return lock.acquire(blocking, timeout)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __getattr__(self, name: str) -> Any:  # an RLock's _is_owned, _release_save...: a Condition's
        return getattr(self._lock, name)

    def __repr__(self) -> str:
        return repr(self._lock)


# Replaced whole, never changed in place: every thread that makes a lock reads it.
_learner_folders: tuple[Path, ...] = ()


def learners_folder(folder: Path) -> None:
    """`folder` holds the learner's files (kata.loader, as it loads one; a watch's folder): a lock
    their file makes, at import or later, is a _WatchedLock."""
    global _learner_folders
    folder = folder.resolve()
    if folder not in _learner_folders:
        _learner_folders = (*_learner_folders, folder)


def _learners_file(filename: str) -> bool:
    # where.in_target resolves each file name's folder once (where._folder_of). A cache of its own
    # here saved about 0.4 us a lock (3.5 us on a loaded machine), on about 800 locks made in a
    # run of all 22 exercises' tests: a few ms of a 90 s run (2026-12-06).
    return any(where.in_target(filename, f) for f in _learner_folders)


def _lock_maker(real: Callable, name: str) -> Callable:
    """threading.Lock (or RLock): `real`, but a _WatchedLock to a caller in a learner's folder."""

    @functools.wraps(real)
    def make(*args: Any, **kwargs: Any) -> Any:
        lock = real(*args, **kwargs)
        if _learner_folders and _learners_file(sys._getframe(1).f_code.co_filename):
            return _WatchedLock(lock, name)
        return lock

    return make


# What is replaced, as (owner, attribute, the stand-in's maker); the originals are read at install.
def _replacements() -> list[tuple[Any, str, Callable[[Callable], Callable]]]:
    semaphore = _named("threading", "Semaphore", "acquire")
    return [
        (threading.Event, "wait", lambda real: _learners_call(_fixed("threading.Event.wait"), real)),
        (
            threading.Condition,
            "wait_for",
            lambda real: _learners_call(_fixed("threading.Condition.wait_for"), real),
        ),
        (threading.Semaphore, "acquire", lambda real: _learners_call(semaphore, real)),
        (threading.Semaphore, "__enter__", lambda real: _learners_call(semaphore, real)),
        (threading.Barrier, "wait", lambda real: _learners_call(_fixed("threading.Barrier.wait"), real)),
        *(
            (queue.Queue, method, lambda real, m=method: _learners_call(_named("queue", "Queue", m), real))
            for method in ("get", "put", "join")
        ),
        (
            concurrent.futures.Future,
            "result",
            lambda real: _learners_call(_fixed("concurrent.futures.Future.result"), real),
        ),
        (
            concurrent.futures.Future,
            "exception",
            lambda real: _learners_call(_fixed("concurrent.futures.Future.exception"), real),
        ),
        (concurrent.futures, "wait", lambda real: _learners_call(_fixed("concurrent.futures.wait"), real)),
        (threading.Thread, "join", lambda real: _checked_call("threading.Thread.join", real, _join_blocks)),
        (
            select,
            "select",
            lambda real: _checked_call(
                "select.select", _held_in_threads("select.select", real, _select_timeout), _select_blocks
            ),
        ),
        *(
            (
                subprocess.Popen,
                method,
                lambda real, m=method: _checked_call(f"subprocess.Popen.{m}", real, _process_runs),
            )
            for method in ("wait", "communicate")
        ),
        (threading, "Lock", lambda real: _lock_maker(real, "threading.Lock.acquire")),
        (threading, "RLock", lambda real: _lock_maker(real, "threading.RLock.acquire")),
    ]


# The stand-ins' own functions, as (file, name): the thread watch passes over their frames.
_STAND_INS = (
    sleep,
    _condition_wait,
    _learners_call(_fixed(""), sleep),
    _checked_call("", sleep, _join_blocks),
    _WatchedLock.acquire,
    _WatchedLock.__enter__,
    _slept,
    _thread_wait,
    _sleep_out,
    _condition_wait_out,
    _condition_wait_held,
    ThreadTimers.held,
)
PASSED_THROUGH = frozenset((__file__, f.__code__.co_name) for f in _STAND_INS)

looks_through(_WatchedLock.__enter__)

_installed = False


def install() -> None:
    global _installed
    if time.sleep is not sleep:
        clock.rebind(time, "sleep", sleep)
    if _installed:
        return
    _installed = True
    threading.Condition.wait = _condition_wait  # type: ignore[method-assign]
    for owner, name, make in _replacements():
        setattr(owner, name, make(getattr(owner, name)))


@contextmanager
def watching(folder: Path):
    """While inside: the learner's blocking calls in async code (files directly in `folder`)."""
    learners_folder(folder)
    watch = _Watch(folder.resolve())
    _watches.append(watch)
    try:
        yield watch.calls
    finally:
        _watches.remove(watch)


install()
