"""The kata's own clock, bound before any learner code is imported.

Timing checks read these references, never `time.perf_counter` looked up at call
time, so a submission that patches the `time` module cannot fake "concurrent"
timings. `find_tampering` reports (and undoes) any such patch.
"""

import asyncio
import sys
import time

perf_counter = time.perf_counter
monotonic = time.monotonic

# How early asyncio may wake a sleeper, as this clock (perf_counter) sees it. asyncio runs a timer
# once it is within its own clock's resolution (time.monotonic), and that clock may lag one step
# behind: a few microseconds on Linux and macOS (and Windows from Python 3.13), where 5 ms is kept
# for noise, but a 15.6 ms tick on Windows before 3.13, so two ticks there. Every lower time bound
# ("waited at least the delay") allows this much; the tests' delays are far longer.
LOOP_CLOCK_RESOLUTION = time.get_clock_info("monotonic").resolution


def early_by(sleeps: int) -> float:
    """How early `sleeps` sleeps in a row may end in all: each may wake two clock steps early."""
    return max(0.005, sleeps * 2 * LOOP_CLOCK_RESOLUTION)


EARLY_WAKE = early_by(1)

_WATCHED = {
    (time, "perf_counter"): time.perf_counter,
    (time, "monotonic"): time.monotonic,
    (time, "time"): time.time,
    (time, "sleep"): time.sleep,
    (asyncio, "sleep"): asyncio.sleep,
    (asyncio, "gather"): asyncio.gather,
    (asyncio.BaseEventLoop, "time"): asyncio.BaseEventLoop.time,
    (sys.modules[__name__], "perf_counter"): perf_counter,
    (sys.modules[__name__], "monotonic"): monotonic,
}


def rebind(owner: object, name: str, value: object) -> None:
    """The kata's own replacement of a watched function (kata.testing.sleep_watch): not tampering."""
    setattr(owner, name, value)
    _WATCHED[(owner, name)] = value


def find_tampering() -> list[str]:
    """Return the names of clock/asyncio functions that were replaced, restoring each one."""
    replaced = []
    for (owner, name), original in _WATCHED.items():
        if getattr(owner, name) is not original:
            replaced.append(f"{owner.__name__}.{name}")
            setattr(owner, name, original)
    return replaced
