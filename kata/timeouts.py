"""A test's time limit that stops the test wherever it finds it, on every platform.

pytest-timeout's signal method raises pytest's `Failed` from the SIGALRM handler, in whatever
code is running at that moment. When that is an asyncio callback or another task's step (the
loop guard's heartbeat, a learner's worker task), asyncio catches it: `Handle._run` hands it to
the loop's exception handler and the loop goes on, so the test waits on until the outer kill
(60 s and more), and a correct answer on a busy machine reads as a hang. Idle, the alarm nearly
always finds the loop asleep in `select()`; under load, often in a callback.

The kata raises `TimedOut` instead: pytest's `Failed` (reported as a plain failure, in
pytest-timeout's own words, which kata.report recognises) that is also a `SystemExit`, the one
kind of exception asyncio lets out of every callback and task step. Only code that catches
BaseException can keep it, as before; the report's backstop ends those.

Where there is no SIGALRM (Windows), pytest-timeout's only other method ends the whole
process at the first timeout. There a timer thread raises SIGINT in the process instead
(`signal.raise_signal`, which also wakes a sleeping main thread on Windows), and the handler
the kata installs for the test's duration raises TimedOut in the main thread, where the test
runs; a real Ctrl-C still stops the run as before.

Either way the exception waits for a moment when raising it loses nothing. An exception raised
in the event loop's own bookkeeping (between taking a callback off the ready queue and running
it, half-way through scheduling a task's next step, or in a plain callback such as the one that
hands a thread's result to the future a task awaits) drops a wake-up: that task then waits
forever, and so does the loop's teardown, which cancels every task and waits for them all. A
busy loop (a learner's `while ...: await asyncio.sleep(0)`, many callbacks) is in that
bookkeeping much of the time: on Python 3.13 a timed-out test then hung its process for good.
Raised in another task's step (a learner's worker), it is kept in that task and raised again
wherever the task is awaited, the loop's teardown included. So the alarm raises at once only in
the step of the task the loop was started for (the test's own), in plain code outside any loop,
or while the loop sleeps in `select()` or the main thread waits on a lock; elsewhere it tries
again every RETRY seconds, for at most PATIENCE seconds, and then raises wherever it lands.
"""

from __future__ import annotations

import _weakrefset
import asyncio
import concurrent.futures
import contextlib
import inspect
import os
import queue
import selectors
import signal
import threading
import time
import weakref
from collections.abc import Iterator
from types import FrameType

import pytest

from kata import where
from kata.testing import turns
from kata.tracebacks import give_line_numbers

# pytest-timeout's message (kata.report.is_pytest_timeout reads it), so reports stay the same.
MESSAGE = "Timeout (>{seconds}s) from pytest-timeout."


class TimedOut(pytest.fail.Exception, SystemExit):
    """A test's time limit ran out. asyncio re-raises SystemExit from callbacks and task steps
    (it catches every other BaseException there), and pytest reports a Failed as a failure."""


# Shown as pytest shows its own Failed ("Failed: Timeout (>1.0s) ..."), so every report reads the same.
TimedOut.__module__ = "builtins"
TimedOut.__name__ = TimedOut.__qualname__ = "Failed"


RETRY = 0.01  # seconds between tries for a moment that loses nothing
# Seconds past the limit after which the exception is raised wherever it lands (kata.report.HANG_GRACE).
PATIENCE = 1.0

_TASK_STEP_FLAGS = inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE | inspect.CO_ASYNC_GENERATOR
_STDLIB_INTERNALS = tuple(
    os.path.normcase(os.path.dirname(module.__file__)) + os.sep for module in (asyncio, concurrent.futures)
)
_STDLIB_INTERNAL_FILES = frozenset(
    os.path.normcase(module.__file__) for module in (selectors, threading, queue, weakref, _weakrefset)
)
_SELECTORS = os.path.normcase(selectors.__file__)
_THREADING = os.path.normcase(threading.__file__)
_BASE_EVENTS = os.path.normcase(where.BASE_EVENTS)
# Where the main thread sleeps until something happens: raising there (as Ctrl-C does) undoes
# nothing half-made.
_THREAD_WAITS = frozenset({"wait", "join", "_wait_for_tstate_lock"})


def _file(frame: FrameType) -> str:
    return os.path.normcase(frame.f_code.co_filename)


def _in_internals(frame: FrameType) -> bool:
    """Plain (not async) code of asyncio, concurrent.futures, selectors, threading, queue or weakref."""
    if frame.f_code.co_flags & _TASK_STEP_FLAGS:
        return False
    path = _file(frame)
    return path in _STDLIB_INTERNAL_FILES or path.startswith(_STDLIB_INTERNALS)


def _asleep(frame: FrameType) -> bool:
    """A selector's select() (the loop waiting for events) or a thread's wait for a lock or event."""
    path = _file(frame)
    return path == _SELECTORS or (path == _THREADING and frame.f_code.co_name in _THREAD_WAITS)


def safe_to_raise(frame: FrameType | None) -> bool:
    """Whether an exception raised in `frame` (where a signal found the main thread) gets out once
    and leaves every task able to wake up: in the step of the task the loop was started for (it
    ends with the exception, and so does the loop's run), in plain code that no loop runs, or
    while the loop sleeps in select(). Not in another task's step (the exception, kept in that
    task, is raised again wherever it is awaited, even in the loop's teardown), nor in the loop's
    or the standard library's bookkeeping or a plain callback (half-done, it drops a wake-up)."""
    if frame is None:
        return True
    if _in_internals(frame) and not _asleep(frame):
        return False
    selecting = True  # every frame so far is the selector's
    while frame is not None:
        if frame.f_code.co_flags & _TASK_STEP_FLAGS:
            return _in_main_task(frame)
        if frame.f_code.co_name == "_run_once" and _file(frame) == _BASE_EVENTS:
            return selecting
        # The loop guard's timing of select() (kata.testing.turns) is part of the loop's wait.
        selecting = selecting and (_file(frame) == _SELECTORS or turns.in_select(frame))
        frame = frame.f_back
    return True


def _in_main_task(frame: FrameType | None) -> bool:
    """Whether the task now taking a step is the one `run_until_complete` (asyncio.run, the test's
    runner) waits for, found in that call's frame below `frame`."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no loop runs in this thread: a coroutine driven by hand
        return True
    while frame is not None:
        if frame.f_code.co_name == "run_until_complete" and _file(frame) == _BASE_EVENTS:
            return frame.f_locals.get("future", task) is task
        frame = frame.f_back
    return True


class _Phase:
    """Whether one of a test's phases (setup, call, teardown) is running: pytest turns what is
    raised there into the test's failure. Between them pytest makes and logs its reports, and an
    exception raised there is an internal error that ends the whole run (exit code 3): a time limit
    that ran out just before a phase ended, its raise put off for a moment that loses nothing,
    struck there (CI, 2026-12-02: a round of 4 exercises' variants ended with it)."""

    def __init__(self) -> None:
        self.running = False

    @contextlib.contextmanager
    def of_a_test(self) -> Iterator[None]:
        self.running = True
        try:
            yield
        finally:
            self.running = False


PHASE = _Phase()


class _Patience:
    """When the limit ran out, and whether it is still worth waiting for a moment that loses nothing."""

    def __init__(self) -> None:
        self.since: float | None = None

    def raise_now(self, frame: FrameType | None) -> bool:
        """Never outside a test's phase (the phase's end cancels nothing: the next phase, or the
        timer's cancel at the end of the test, comes soon); in one, at a moment that loses nothing,
        or anywhere once PATIENCE has run out."""
        now = time.monotonic()
        if self.since is None:
            self.since = now
        if not PHASE.running:
            return False
        return safe_to_raise(frame) or now - self.since >= PATIENCE


def has_alarm() -> bool:
    return hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")


class _Alarm:
    """SIGALRM after `seconds`: the POSIX way, interrupting even a blocking system call."""

    armed = False  # a test's time limit is set and not yet cancelled (kata.testing.signal_timers)

    def __init__(self, seconds: float) -> None:
        patience = _Patience()

        def alarm(signum, frame):
            __tracebackhide__ = True
            if not patience.raise_now(frame):
                signal.setitimer(signal.ITIMER_REAL, RETRY)
                return
            raise TimedOut(MESSAGE.format(seconds=seconds))

        signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        _Alarm.armed = True

    def cancel(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        _Alarm.armed = False


def alarm_armed() -> bool:
    """Whether the kata's time limit (SIGALRM) is set for a test and not yet cancelled: pytest-timeout
    cancels it before the teardown of a test that failed (its pytest_exception_interact)."""
    return _Alarm.armed


class _InterruptTimer:
    """SIGINT raised by a timer thread after `seconds`, turned into TimedOut in the main thread."""

    def __init__(self, seconds: float) -> None:
        self.fired = threading.Event()
        self.previous = signal.getsignal(signal.SIGINT)
        patience = _Patience()

        def on_sigint(signum, frame):
            __tracebackhide__ = True
            if self.fired.is_set():
                if not patience.raise_now(frame):
                    self._start(RETRY)
                    return
                raise TimedOut(MESSAGE.format(seconds=seconds))
            if callable(self.previous):  # a real Ctrl-C
                return self.previous(signum, frame)
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_sigint)
        self.cancelled = False
        self._start(seconds)

    def _start(self, seconds: float) -> None:
        if self.cancelled:
            return
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self) -> None:
        self.fired.set()
        if hasattr(signal, "pthread_kill"):
            # At the main thread itself: its blocking wait (an event loop's select with no timer
            # due) ends, and the handler runs there. Raised in this thread, the signal would wait for
            # the main thread's next wake-up, which an idle loop without the guard's heartbeat (the
            # learner's own loop, in a plain test) may never have.
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        else:  # Windows: the signal also wakes a sleeping main thread (and the proactor loop)
            signal.raise_signal(signal.SIGINT)

    def cancel(self) -> None:
        self.cancelled = True
        self.timer.cancel()
        signal.signal(signal.SIGINT, self.previous)


class KataTimeouts:
    """pytest-timeout's timer hooks, answered first for its signal method (the kata's setting)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_timeout_set_timer(self, item: pytest.Item, settings) -> bool | None:
        if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
            return None  # pytest-timeout's thread method
        timer = _Alarm(settings.timeout) if has_alarm() else _InterruptTimer(settings.timeout)
        item.stash[_TIMER] = timer
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_timeout_cancel_timer(self, item: pytest.Item) -> bool | None:
        timer = item.stash.get(_TIMER, None)
        if timer is None:
            return None
        timer.cancel()
        del item.stash[_TIMER]
        return True

    # Outermost (tryfirst), so that the phase covers every other plugin's wrapper of it too (the
    # loop guard's): all of it runs within pytest's CallInfo, which makes a raise a failure.
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        with PHASE.of_a_test():
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item):
        with PHASE.of_a_test():
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None):
        with PHASE.of_a_test():
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        """Before pytest describes a failure, every traceback entry gets a line: the alarm can
        strike an instruction that has none (a loop's jump back), and pytest's report then broke
        with an internal error that ended the whole run (kata.tracebacks)."""
        if call.excinfo is not None and give_line_numbers(call.excinfo.value):
            call.excinfo = pytest.ExceptionInfo.from_exception(call.excinfo.value)
        return (yield)


_TIMER = pytest.StashKey["_Alarm | _InterruptTimer"]()


# pytest-timeout's name in the plugin manager: "timeout" when pytest loads it by its entry point,
# "pytest_timeout" when given as `-p pytest_timeout` (batch grading, where autoload is off: there
# its raw handler went on raising in asyncio callbacks and in pytest's own report, INTERNALERROR).
TIMEOUT_PLUGIN_NAMES = ("timeout", "pytest_timeout")


def install(config: pytest.Config) -> None:
    """Take over pytest-timeout's signal method, when pytest-timeout is in use."""
    if any(config.pluginmanager.has_plugin(name) for name in TIMEOUT_PLUGIN_NAMES):
        config.pluginmanager.register(KataTimeouts(), "kata-timeouts")
