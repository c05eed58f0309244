"""Python as on Windows, as far as the kata can tell: imported at start-up by every process that
has this folder on PYTHONPATH (tests/harness/test_portable.py puts it there).

Gone: SIGALRM and the interval timers, process groups and sessions (os.killpg, os.setsid,
os.getpgid), waiting without reaping (os.waitid), the load average, and the modules fcntl,
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
for name in ("killpg", "setsid", "getpgid", "waitid", "WNOWAIT", "getloadavg"):
    if hasattr(os, name):
        delattr(os, name)
for name in ("fcntl", "resource", "termios"):
    sys.modules[name] = None  # `import fcntl` now raises ImportError (ModuleNotFoundError)
multiprocessing.set_start_method("spawn", force=True)
