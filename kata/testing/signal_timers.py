"""Timers the learner's code arms for the process (`signal.setitimer`, `signal.alarm`): their
handler runs later in the main thread, between any two lines of whatever runs then (a later test,
the tests' own checks), where no event loop or thread of the code's is left to watch.

    timers = SignalTimers(learner_folder)
    timers.start()                 # the handlers as the test begins
    ...                            # the test
    problems = timers.finish()     # a timer still armed: a failure; handlers put back

A timer still armed when the test ends is work left after the function returned, whoever's handler
it calls; the kata's own time limit (a SIGALRM handler in the kata's files) is not the code's. The
handlers the code set are put back as they were, so that a later test, and the kata's time limit,
run as they would have. Where there are no interval timers (Windows), nothing is watched.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

from kata import where
from kata.testing.waiting import code_of

# Each interval timer and the signal it sends when it runs out.
TIMERS: tuple[tuple[int, int, str], ...] = (
    (
        (signal.ITIMER_REAL, signal.SIGALRM, "signal.setitimer(signal.ITIMER_REAL, ...) or alarm(...)"),
        (signal.ITIMER_VIRTUAL, signal.SIGVTALRM, "signal.setitimer(signal.ITIMER_VIRTUAL, ...)"),
        (signal.ITIMER_PROF, signal.SIGPROF, "signal.setitimer(signal.ITIMER_PROF, ...)"),
    )
    if hasattr(signal, "setitimer")
    else ()
)

LEFT_ARMED = (
    "Your code left a timer of the process armed when the test ended ({how}): {left:.2f} s later "
    "its signal stops whatever runs then, to call {handler}\nA signal's handler runs after your "
    "function has returned, and nobody waits for it or hears of its errors. Do the work before "
    "returning (`await asyncio.sleep(...)`, then the call), not in a timer of the process."
)


def _kata_limit_armed() -> bool:
    """Whether the kata's time limit is still set for this test (kata.timeouts, where loaded).

    pytest-timeout cancels it before the teardown of a test that failed; putting its handler back
    then, and arming it again with the time left (0.01 s after a timeout), left an alarm with no
    test to stop: plain pytest ended 'Alarm clock' (exit code 142) after a test that timed out."""
    timeouts = sys.modules.get("kata.timeouts")
    return timeouts is None or timeouts.alarm_armed()


class SignalTimers:
    """The interval timers during one test (see the module's doc)."""

    def __init__(self, learner_folder: Path) -> None:
        self._folder = learner_folder
        self._handlers: dict[int, Any] = {}
        self._armed: dict[int, float] = {}  # the kata's own timers as the test began: when they end
        self._started = 0.0

    def start(self) -> None:
        self._started = time.monotonic()
        self._handlers = {sent: signal.getsignal(sent) for _, sent, _ in TIMERS}
        self._armed = {timer: signal.getitimer(timer)[0] for timer, _, _ in TIMERS}

    def finish(self) -> list[str]:
        """A failure for each timer armed by the code; every handler put back as it was."""
        problems = []
        for timer, sent, how in TIMERS:
            left = signal.getitimer(timer)[0]
            handler = signal.getsignal(sent)
            if left > 0 and not self._kata_s(handler):
                signal.setitimer(timer, 0)
                problems.append(LEFT_ARMED.format(how=how, left=left, handler=self._named(handler)))
            before = self._handlers.get(sent, handler)
            if handler is not before and before is not None:
                if self._kata_s(before) and not _kata_limit_armed():
                    continue  # the kata cancelled its own time limit (a failed test's): nothing to put back
                self._put_back(timer, sent, before)
        return problems

    def _put_back(self, timer: int, sent: int, handler: Any) -> None:
        """The handler as it was, and the kata's time limit armed again if the code took it over."""
        try:
            signal.signal(sent, handler)
        except (ValueError, OSError):  # not the main thread: nothing to put back from here
            return
        was_left = self._armed.get(timer, 0.0)
        if was_left > 0 and self._kata_s(handler) and signal.getitimer(timer)[0] == 0:
            signal.setitimer(timer, max(was_left - (time.monotonic() - self._started), 0.01))

    def _kata_s(self, handler: Any) -> bool:
        code = code_of(handler)
        return code is not None and code.co_filename.startswith(where.KATA_FOLDER)

    def _named(self, handler: Any) -> str:
        if handler == signal.SIG_DFL:
            return "nothing: its default is to end the process"
        if handler == signal.SIG_IGN:
            return "nothing (the signal is ignored)"
        code = code_of(handler)
        if code is None:
            return f"{handler!r}"
        place = where.defined_by(code, self._folder)
        if place is None:
            return f"{code.co_name} ({Path(code.co_filename).name}:{code.co_firstlineno})"
        return f"{code.co_name}, set by your code:\n{place.shown(self._folder)}"
