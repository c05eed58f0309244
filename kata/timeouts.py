"""A test's time limit that stops the test wherever the alarm finds it.

pytest-timeout's signal method raises pytest's `Failed` from the SIGALRM handler, in whatever
code is running at that moment. When that is an asyncio callback or another task's step (the
loop guard's heartbeat, a learner's worker task), asyncio catches it: `Handle._run` hands it to
the loop's exception handler and the loop goes on, so the test waits on until the outer kill
(60 s and more), and a correct answer on a busy machine reads as a hang. Idle, the alarm nearly
always finds the loop asleep in `select()`; under load, often in a callback.

The kata's alarm raises `TimedOut`: pytest's `Failed` (reported as a plain failure, with
pytest-timeout's own words, which kata.report recognises) that is also a `SystemExit`, the one
kind of exception asyncio lets out of every callback and task step. Only code that catches
BaseException can keep it, as before; the report's backstop ends those.

Where SIGALRM does not exist (Windows), pytest-timeout's own methods stay in charge.
"""

from __future__ import annotations

import signal

import pytest

# pytest-timeout's message (kata.report.is_pytest_timeout reads it), so reports stay the same.
MESSAGE = "Timeout (>{seconds}s) from pytest-timeout."


class TimedOut(pytest.fail.Exception, SystemExit):
    """A test's time limit ran out. asyncio re-raises SystemExit from callbacks and task steps
    (it catches every other BaseException there), and pytest reports a Failed as a failure."""


# Shown as pytest shows its own Failed ("Failed: Timeout (>1.0s) ..."), so every report reads the same.
TimedOut.__module__ = "builtins"
TimedOut.__name__ = TimedOut.__qualname__ = "Failed"


class AlarmTimeouts:
    """pytest-timeout's timer hooks, answered first: SIGALRM with a TimedOut that escapes asyncio."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_timeout_set_timer(self, item: pytest.Item, settings) -> bool | None:
        if settings.method != "signal" or not hasattr(signal, "SIGALRM"):
            return None  # pytest-timeout's thread method

        def alarm(signum, frame):
            __tracebackhide__ = True
            raise TimedOut(MESSAGE.format(seconds=settings.timeout))

        signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, settings.timeout)
        item.stash[_ARMED] = True
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_timeout_cancel_timer(self, item: pytest.Item) -> bool | None:
        if not item.stash.get(_ARMED, False):
            return None
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        item.stash[_ARMED] = False
        return True


_ARMED = pytest.StashKey[bool]()


def install(config: pytest.Config) -> None:
    """Take over pytest-timeout's signal method, when pytest-timeout is in use."""
    if config.pluginmanager.has_plugin("timeout"):
        config.pluginmanager.register(AlarmTimeouts(), "kata-timeouts")
