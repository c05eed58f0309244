"""Whether a test that timed out in batch grading was starved of CPU or hung by itself
(kata.batch.starving): the run delay Linux counts for every thread of the child's process tree,
over the stretch the grader saw the test run. Red team W3's hang slept through its timeout beside
a classmate's 40 busy processes, and the load average earned it a second run."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kata.batch import starving

needs_schedstat = pytest.mark.skipif(
    not Path("/proc/self/schedstat").exists(), reason="no /proc/<pid>/schedstat here (Linux only)"
)


def delays_from(samples, began):
    delays = starving.RunDelays(os.getpid())
    delays.readable = True
    delays.samples = samples
    delays.began = began
    delays._per_task = {(1, 1): samples[-1][1] if samples else 0.0}  # tasks were read
    return delays


def test_a_stretch_spent_waiting_for_a_cpu_is_starved_and_one_spent_asleep_is_not():
    # From 0 to 10 s the tree waited 6 s for a CPU; from 10 to 20 s, 0.1 s.
    samples = [(0.0, 0.0), (5.0, 3.0), (10.0, 6.0), (15.0, 6.05), (20.0, 6.1)]
    delays = delays_from(samples, [(0.0, "t::starved"), (10.0, "t::slept")])
    assert delays.starved() == {"t::starved"}


def test_where_nothing_was_measured_every_test_counts_as_starved():
    delays = delays_from([], [(0.0, "t::a")])
    delays.readable = False
    assert delays.starved() is None, "not measured: a second run as before, never a point lost"
    unread = delays_from([(0.0, 0.0), (10.0, 0.0)], [(0.0, "t::a")])
    unread._per_task = {}  # no task of the tree could be read (another user's, hidden)
    assert unread.starved() is None


def _tree_waits(command: list[str], seconds: float, cpu_hogs: int = 0) -> float:
    """The share of `seconds` the process tree of `command` spent waiting for a CPU, with
    `cpu_hogs` busy processes beside it, all on the same one core."""
    core = {min(os.sched_getaffinity(0))}

    def on_the_core():
        os.sched_setaffinity(0, core)

    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=on_the_core)
        for _ in range(cpu_hogs)
    ]
    child = subprocess.Popen(command, preexec_fn=on_the_core)
    try:
        delays = starving.RunDelays(child.pid)
        delays.test_began("t::it")
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            delays.sample(force=True)
            time.sleep(0.1)
        delays.sample(force=True)
        return delays.share(delays.samples[0][0], delays.samples[-1][0])
    finally:
        for process in [child, *hogs]:
            process.kill()
            process.wait()


@needs_schedstat
def test_a_sleeping_process_waits_for_no_cpu_even_beside_busy_ones():
    share = _tree_waits([sys.executable, "-c", "import time; time.sleep(30)"], 1.5, cpu_hogs=2)
    # (Its start, importing Python among the busy ones, is the little it waited: 0.07 here.)
    assert share is not None and share < starving.STARVED_SHARE, share


@needs_schedstat
def test_a_busy_process_sharing_its_core_with_two_others_is_starved():
    share = _tree_waits([sys.executable, "-c", "while True: pass"], 1.5, cpu_hogs=2)
    assert share is not None and share >= starving.STARVED_SHARE, share
