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


def find_tampering() -> list[str]:
    """Return the names of clock/asyncio functions that were replaced, restoring each one."""
    replaced = []
    for (owner, name), original in _WATCHED.items():
        if getattr(owner, name) is not original:
            replaced.append(f"{owner.__name__}.{name}")
            setattr(owner, name, original)
    return replaced
