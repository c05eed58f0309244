"""Python as on Windows, as far as the kata can tell: imported at start-up by every process that
has this folder on PYTHONPATH (tests/harness/test_portable.py puts it there).

Gone: SIGALRM and the interval timers, process groups and sessions (os.killpg, os.setsid,
os.getpgid), os.fork, waiting without reaping (os.waitid), the load average, and the modules fcntl,
resource and termios. Child processes of multiprocessing are spawned, as on Windows and macOS.
Not simulated: paths and newlines, the 15.6 ms timer tick, a missing /proc (the learner's path
never reads it).
"""

import multiprocessing
import os
import signal
import sys

import psutil  # noqa: F401  its Linux backend needs resource, its Windows one does not: loaded before the block

for name in ("SIGALRM", "setitimer", "getitimer", "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF", "alarm"):
    if hasattr(signal, name):
        delattr(signal, name)
for name in ("killpg", "setsid", "getpgid", "waitid", "WNOWAIT", "getloadavg", "fork"):
    if hasattr(os, name):
        delattr(os, name)
for name in ("fcntl", "resource", "termios"):
    sys.modules[name] = None  # `import fcntl` now raises ImportError (ModuleNotFoundError)
multiprocessing.set_start_method("spawn", force=True)

# KATA_SIMULATED_TICK=0.015625: Windows' timer tick. Every wait (the event loop's select, time.sleep)
# ends on a tick boundary, and with KATA_SIMULATED_TICK_CLOCK=1 time.monotonic (the event loop's
# clock) also moves only once a tick, as on Windows before Python 3.13. For the benchmark
# (python bench/kata_bench.py --only windows-tick), not the self-check.
TICK = float(os.environ.get("KATA_SIMULATED_TICK") or 0)
if TICK > 0:
    import math
    import selectors
    import time

    _monotonic, _sleep, _clock_info = time.monotonic, time.sleep, time.get_clock_info

    def _until_tick(seconds):
        """A wait of `seconds` from now, lengthened to end on the next tick boundary."""
        now = _monotonic()
        return math.ceil((now + seconds) / TICK) * TICK - now

    def _sleep_in_ticks(seconds):
        _sleep(_until_tick(seconds) if seconds > 0 else seconds)

    time.sleep = _sleep_in_ticks
    for _name in ("EpollSelector", "PollSelector", "SelectSelector"):
        _selector = getattr(selectors, _name, None)
        if _selector is not None:

            def _select_in_ticks(self, timeout=None, _original=_selector.select):
                if timeout is not None and timeout > 0:
                    timeout = _until_tick(timeout)
                return _original(self, timeout)

            _selector.select = _select_in_ticks

    if os.environ.get("KATA_SIMULATED_TICK_CLOCK") == "1":

        def _monotonic_in_ticks():
            return math.floor(_monotonic() / TICK) * TICK

        def _get_clock_info(name):
            info = _clock_info(name)
            if name == "monotonic":
                info.resolution = TICK
            return info

        time.monotonic = _monotonic_in_ticks
        time.get_clock_info = _get_clock_info
