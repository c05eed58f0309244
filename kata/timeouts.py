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
"""

from __future__ import annotations

import signal
import threading

import pytest

# pytest-timeout's message (kata.report.is_pytest_timeout reads it), so reports stay the same.
MESSAGE = "Timeout (>{seconds}s) from pytest-timeout."


class TimedOut(pytest.fail.Exception, SystemExit):
    """A test's time limit ran out. asyncio re-raises SystemExit from callbacks and task steps
    (it catches every other BaseException there), and pytest reports a Failed as a failure."""


# Shown as pytest shows its own Failed ("Failed: Timeout (>1.0s) ..."), so every report reads the same.
TimedOut.__module__ = "builtins"
TimedOut.__name__ = TimedOut.__qualname__ = "Failed"


def has_alarm() -> bool:
    return hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")


class _Alarm:
    """SIGALRM after `seconds`: the POSIX way, interrupting even a blocking system call."""

    def __init__(self, seconds: float) -> None:
        def alarm(signum, frame):
            __tracebackhide__ = True
            raise TimedOut(MESSAGE.format(seconds=seconds))

        signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)

    def cancel(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


class _InterruptTimer:
    """SIGINT raised by a timer thread after `seconds`, turned into TimedOut in the main thread."""

    def __init__(self, seconds: float) -> None:
        self.fired = threading.Event()
        self.previous = signal.getsignal(signal.SIGINT)

        def on_sigint(signum, frame):
            __tracebackhide__ = True
            if self.fired.is_set():
                raise TimedOut(MESSAGE.format(seconds=seconds))
            if callable(self.previous):  # a real Ctrl-C
                return self.previous(signum, frame)
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_sigint)
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self) -> None:
        self.fired.set()
        signal.raise_signal(signal.SIGINT)

    def cancel(self) -> None:
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


_TIMER = pytest.StashKey["_Alarm | _InterruptTimer"]()


def install(config: pytest.Config) -> None:
    """Take over pytest-timeout's signal method, when pytest-timeout is in use."""
    if config.pluginmanager.has_plugin("timeout"):
        config.pluginmanager.register(KataTimeouts(), "kata-timeouts")
