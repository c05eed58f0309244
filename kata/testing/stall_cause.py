"""Why the event loop stood still: the code slept in a blocking call, or the machine was busy.

The loop guard (kata.testing.loopguard) sees a frozen loop as a late heartbeat. Late, because the
learner's code blocked it (time.sleep, a blocking read), or because a busy machine did not give
the loop's thread a core in time. A failure that a busy machine may have caused gets a second
run; a blocking call should not (04's untouched stub took 11 s, every test run twice).

What the time of a stall went to, on Linux:
- computing: the loop thread's own CPU time (time.thread_time);
- the machine: how long any task on it waited for a core, for I/O or for memory (pressure stall
  information, /proc/pressure/*), and how long this VM was not run at all (steal, /proc/stat).
What is neither, the thread spent asleep, with nothing on the machine waiting: a blocking call.
The machine's share is counted over the whole stall and after it, up to the test's end, so a
busy moment anywhere near it excuses it.

Where these counters cannot be read (macOS, Windows, a kernel without PSI), `machine_waits()` is
None and `asleep` says nothing: every frozen loop may then be the machine's, and gets its second
run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

# Bound before any learner code is imported (it may replace the time module's functions).
_thread_time = time.thread_time

PRESSURE = ("/proc/pressure/cpu", "/proc/pressure/io", "/proc/pressure/memory")
STAT = "/proc/stat"


class _Counters:
    """The kernel's files, opened once per process and read with pread (a few microseconds)."""

    def __init__(self) -> None:
        self._fds: list[int] | None = None
        self._stat: int | None = None
        self._opened_in = -1

    def _open(self) -> None:
        self._opened_in = os.getpid()
        try:
            fds = [os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)) for path in PRESSURE]
        except OSError:
            return
        self._fds = fds
        try:
            self._stat = os.open(STAT, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            self._stat = None
        if self.read() is None:  # PSI compiled in but switched off (psi=0) refuses to be read
            self._fds = None

    def read(self) -> float | None:
        """Seconds that tasks on this machine waited (PSI "some": for a core, I/O, memory), plus
        the seconds this VM was not run (steal), since boot; None where they cannot be read."""
        if self._opened_in != os.getpid():
            self._open()
        if self._fds is None:
            return None
        try:
            micros = 0
            for fd in self._fds:
                text = os.pread(fd, 256, 0)
                start = text.index(b"total=") + 6
                micros += int(text[start : text.index(b"\n", start)])
            seconds = micros / 1e6
            if self._stat is not None:
                # "cpu  user nice system idle iowait irq softirq steal ...", in clock ticks
                seconds += int(os.pread(self._stat, 256, 0).split(None, 9)[8]) / _TICKS
            return seconds
        except (OSError, ValueError, IndexError):
            return None


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_COUNTERS = _Counters()


def machine_waits() -> float | None:
    """A running count of the seconds the machine made its tasks wait (see _Counters.read)."""
    return _COUNTERS.read()


@dataclass(frozen=True)
class Mark:
    """Where the calling thread's CPU time and the machine's waits stood at one moment."""

    cpu: float
    waits: float | None


def mark() -> Mark:
    return Mark(_thread_time(), machine_waits())


@dataclass(frozen=True)
class Stall:
    """A stretch in which the loop stood still: `seconds` long (its own waiting excused), of
    which the loop's thread computed `cpu`; `waits` is the machine's count when it began."""

    seconds: float
    cpu: float
    waits: float | None

    @classmethod
    def since(cls, before: Mark, seconds: float) -> Stall:
        """A stall of `seconds` that began at `before` and ends now (on the stalled thread)."""
        return cls(seconds, _thread_time() - before.cpu, before.waits)

    def asleep(self, waits_now: float | None) -> float | None:
        """Seconds of it the thread slept with nothing on the machine waiting, the machine's count
        taken as `waits_now` (at the stall's end or later); None where it cannot be told."""
        if self.waits is None or waits_now is None:
            return None
        return self.seconds - self.cpu - max(0.0, waits_now - self.waits)
