"""How long a sandboxed child's processes waited for a CPU, test by test: whether a test that timed
out was starved, or hung by itself.

A timeout earns a second run only on a busy machine (kata.batch.isolation._second_chance). The load
average says the machine is busy, but not whose doing that is, nor whether the test that timed out
was the one kept from running: red team W3 graded, beside a classmate that started 40 busy
processes, an answer that hung in its first run only, and its sleeping hang got the second run the
classmate's load had opened (4 of 4 points; 0 of 2 on an idle machine). A test that timed out
because the machine starved it spent much of its time waiting for a CPU; a hang that sleeps spent
none. Linux counts that wait for every thread (`run_delay`, the second field of
/proc/<pid>/task/<tid>/schedstat, in nanoseconds); this samples it over the child's process tree,
on the grader's own clock, with the moments the grader itself saw each test begin.

Where it cannot be read (no /proc schedstat), every test counts as starved: a second run as before.
"""

from __future__ import annotations

import time
from pathlib import Path

from kata import reaping

# A test counts as starved when its processes, together, waited for a CPU at least this share of
# its wall time. Correct code that times out on a busy machine waited far longer than it ran (a
# test that takes 1 s idle and 10 s when starved waited about 9 s); a sleeping hang waits ~0.
STARVED_SHARE = 0.25
SAMPLE_EVERY = 0.5  # seconds between two readings (each walks the process table)


class RunDelays:
    """Samples of the total CPU wait (seconds) of the process tree rooted at `pid`, and the moments
    the grader saw each test begin, both on time.monotonic()."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.readable = Path(f"/proc/{pid}/schedstat").exists()
        self._per_task: dict[tuple[int, int], float] = {}  # (pid, tid) -> the most it was seen at
        self.samples: list[tuple[float, float]] = []
        self.began: list[tuple[float, str]] = []  # (when it was seen to begin, test id)
        self._next = 0.0

    def sample(self, force: bool = False) -> None:
        """Read the tree's CPU wait now, if SAMPLE_EVERY s have passed (or `force`)."""
        now = time.monotonic()
        if not self.readable or (now < self._next and not force):
            return
        self._next = now + SAMPLE_EVERY
        for pid in self._tree():
            for task in _tasks(pid):
                waited = _run_delay(pid, task)
                if waited is not None:
                    key = (pid, task)
                    self._per_task[key] = max(self._per_task.get(key, 0.0), waited)
        self.samples.append((now, sum(self._per_task.values())))

    def test_began(self, test_id: str) -> None:
        self.began.append((time.monotonic(), test_id))

    def starved(self) -> set[str] | None:
        """The tests whose stretch (from the moment it was seen to begin to the next test's, or the
        last sample) spent at least STARVED_SHARE of it waiting for a CPU; None if not measured."""
        if not self.readable or len(self.samples) < 2 or not self._per_task:
            return None  # nothing read (a /proc that hides other users' processes): not measured
        found: set[str] = set()
        ends = [at for at, _ in self.began[1:]] + [self.samples[-1][0]]
        for (start, test_id), end in zip(self.began, ends, strict=True):
            share = self.share(start, end)
            if share is None or share >= STARVED_SHARE:
                found.add(test_id)
        return found

    def share(self, start: float, end: float) -> float | None:
        """The share of [start, end] the tree spent waiting for a CPU, from the samples around it."""
        before = [s for s in self.samples if s[0] <= start]
        after = [s for s in self.samples if s[0] >= end]
        first = before[-1] if before else self.samples[0]
        last = after[0] if after else self.samples[-1]
        span = last[0] - first[0]
        if span <= 0:
            return None
        return (last[1] - first[1]) / span

    def _tree(self) -> list[int]:
        return [self.pid, *(child.pid for child in reaping.descendants(self.pid))]


def _tasks(pid: int) -> list[int]:
    try:
        return [int(entry.name) for entry in Path(f"/proc/{pid}/task").iterdir()]
    except (OSError, ValueError):
        return []


def _run_delay(pid: int, task: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()
        return int(fields[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None
