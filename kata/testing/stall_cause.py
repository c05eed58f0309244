"""Why the event loop stood still: the code slept in a blocking call, or the machine was busy.

The loop guard (kata.testing.loopguard) sees a frozen loop as a long stretch of its running.
Long, because the learner's code blocked it (time.sleep, a blocking read), or because a busy
machine did not give the loop's thread a core in time. A failure that a busy machine may have
caused gets a second run; a blocking call should not (04's untouched stub took 11 s, every test
run twice).

What the time of a stall went to, on Linux, for the loop's own thread:
- computing: its CPU time (/proc/thread-self/schedstat, first field);
- waiting for a core: its run-queue time (schedstat, second field);
- this VM not being run at all: the machine's steal time (/proc/stat).
What is none of these, the thread slept: it waited in a blocking call. That is surely the code's
only when nothing else could have held it: no other thread in the process at the stall's start
and end, none that computed during it (the thread might wait for one that waits for a core: the
GIL, a join), and a machine that is not busy (its load average below its cores). Then a frozen
loop gets no second run.

Pressure stall information (/proc/pressure/cpu) was tried first and dropped: on the 2-core VM
this was made on, it counted 22 ms of waiting in 2 s with 6 CPU burners running (2026-12-01).

Where this cannot be read (macOS, Windows, a kernel without schedstat), `mark()` has no thread
figures and `asleep` says nothing: every frozen loop may then be the machine's, as before.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

STAT = "/proc/stat"
NANOS = 1e9
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
OWN_THREADS_PREFIX = "kata-"  # the kata's own idle threads (a watchdog, a hang backstop): not another thread
OTHERS_CPU = 0.01  # the process's other threads computed less than this in the stall: they held nothing
# How old a reading of the machine's steal time may be where a stall may begin (the loop guard marks
# the start of every stretch the loop runs): reading /proc/stat costs about three times the rest of
# a mark (9 us against 3 us for the thread's own figures, 2026-12-03), at every turn of the loop.
STEAL_AGE = 0.05
_process_time = time.process_time  # every thread's CPU, the ended ones' too; bound before learner code
_monotonic = time.monotonic
# CPU the kata's own threads spent at their work (a watchdog's looks at the loop's thread), as they
# count it themselves: it held nothing of the learner's, and is taken out of a stall's `others`.
# Without it, the looks in a 0.3 s stall came to 4-6 ms of OTHERS_CPU's 10.
_own_cpu = 0.0
_own_lock = threading.Lock()


def count_own_cpu(seconds: float) -> None:
    """Note `seconds` of CPU a thread of the kata's own (OWN_THREADS_PREFIX) spent working."""
    global _own_cpu
    with _own_lock:
        _own_cpu += seconds


class _Counters:
    """The kernel's files, opened once per thread (schedstat) or process (stat), read with pread
    (a few microseconds a look)."""

    def __init__(self) -> None:
        self._pid = -1
        self._threads: dict[int, int | None] = {}  # native thread id -> its schedstat, or None
        self._stat: int | None = None
        self._steal, self._steal_at = 0.0, float("-inf")  # the last reading, and when (monotonic s)

    def _reset(self) -> None:
        """In a new process (forked), nothing opened before is ours."""
        self._pid = os.getpid()
        self._threads = {}
        self._stat = open_readonly(STAT)

    def thread(self) -> tuple[float, float] | None:
        """The calling thread's seconds on a core and waiting for one, since it started."""
        if self._pid != os.getpid():
            self._reset()
        native = threading.get_native_id()
        if native not in self._threads:
            self._threads[native] = open_readonly(f"/proc/self/task/{native}/schedstat")
        fd = self._threads[native]
        if fd is None:
            return None
        try:
            ran, waited, *_ = os.pread(fd, 128, 0).split()
            return int(ran) / NANOS, int(waited) / NANOS
        except (OSError, ValueError):
            return None

    def steal(self, age: float = 0.0) -> float:
        """Seconds this VM's cores were not run by its host, since boot (0 where unknown), read at
        most `age` seconds ago. An older reading at a stall's start counts more of it as steal, so
        less of it as sleep: never the other way."""
        if self._pid != os.getpid():
            self._reset()
        if self._stat is None:
            return 0.0
        now = _monotonic()
        if now - self._steal_at <= age:
            return self._steal
        try:  # "cpu  user nice system idle iowait irq softirq steal ...", in clock ticks
            steal = int(os.pread(self._stat, 256, 0).split(None, 9)[8]) / _TICKS
        except (OSError, ValueError, IndexError):
            return 0.0
        self._steal, self._steal_at = steal, now
        return steal


def open_readonly(path: str) -> int | None:
    """A kernel file opened to be read with pread, not passed on to children; None if it cannot be."""
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


def read_text(fd: int | None, size: int = 64) -> str:
    """What a kernel file opened with `open_readonly` says now, stripped; "" if it cannot be read."""
    if fd is None:
        return ""
    try:
        return os.pread(fd, size, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""


def read_once(path: str, size: int = 64) -> str | None:
    """A kernel file read once (/proc/self/task/<id>/wchan, say); None if it cannot be opened."""
    fd = open_readonly(path)
    if fd is None:
        return None
    try:
        return read_text(fd, size)
    finally:
        os.close(fd)


_COUNTERS = _Counters()


@dataclass(frozen=True)
class Mark:
    """Where the calling thread's time stood at one moment: on a core, waiting for one, the
    machine's steal, and the whole process's CPU; `ran` is None where the thread's figures
    cannot be read."""

    ran: float | None
    waited: float = 0.0
    steal: float = 0.0
    process: float = 0.0
    own: float = 0.0  # of `process`, what the kata's own threads counted (count_own_cpu)


def mark(steal_age: float = 0.0) -> Mark:
    """The calling thread's figures now; the machine's steal read at most `steal_age` s ago (only
    a stall's start may take an older one: see `_Counters.steal`)."""
    figures = _COUNTERS.thread()
    if figures is None:
        return Mark(None)
    return Mark(figures[0], figures[1], _COUNTERS.steal(steal_age), _process_time(), _own_cpu)


@dataclass(frozen=True)
class Stall:
    """A stretch in which the loop stood still, `seconds` long (its own excused waiting taken out);
    how much of it the loop's thread did not sleep (`awake`: it computed, waited for a core, or
    the VM was not run), None where that cannot be told; and whether it was the process's only
    thread at its start and end (`alone`)."""

    seconds: float
    awake: float | None
    alone: bool = True

    @classmethod
    def since(cls, before: Mark, seconds: float, *, alone: bool = True) -> Stall:
        """A stall of `seconds` that began at `before` and ends now, on the stalled thread."""
        now = mark()
        alone = alone and only_thread()
        if before.ran is None or now.ran is None:
            return cls(seconds, None, alone)
        ran = now.ran - before.ran
        awake = ran + (now.waited - before.waited) + (now.steal - before.steal)
        # A thread that lived and ended within the stall is not seen at either end: its CPU is.
        # The kata's own threads' work is not another thread's: it is taken out.
        others = (now.process - before.process) - ran - (now.own - before.own)
        return cls(seconds, awake, alone and others < OTHERS_CPU)

    def asleep(self) -> float | None:
        """Seconds of it the thread slept (in a blocking call, or waiting on something else);
        None where that cannot be told."""
        return None if self.awake is None else self.seconds - self.awake

    def blocking_call(self, limit: float) -> bool:
        """Whether the thread, alone in its process, slept for more than `limit` of it: surely
        the code's blocking call, on a machine that is not busy (see the module's doc)."""
        slept = self.asleep()
        return self.alone and slept is not None and slept > limit and not machine_busy()


def other_threads() -> list[threading.Thread]:
    """The process's threads but the calling one and the kata's own idle threads."""
    me = threading.current_thread()
    return [t for t in threading.enumerate() if t is not me and not t.name.startswith(OWN_THREADS_PREFIX)]


def only_thread() -> bool:
    """Whether the calling thread is the process's only one (the kata's own idle threads aside):
    then its sleep waited on no other thread of its own."""
    return not other_threads()


def machine_busy() -> bool:
    """More runnable tasks than cores over the last minute, or no way to tell."""
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1)
    except (AttributeError, OSError):
        return True
