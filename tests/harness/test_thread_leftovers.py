"""The thread watch's grace (kata.testing.thread_leftovers), where the time it takes to look is
the point: what a whole test run says of threads is in test_guard's thread verdicts."""

import sys
import threading
import time

import pytest

from kata.testing import thread_leftovers
from tests.harness.learner_files import learners_file

WORKERS = """
import queue
import threading

jobs = queue.SimpleQueue()


def _work():
    while True:
        job = jobs.get()  # in C: no frame of Python's says it waits
        if job is None:
            return
        job()


def start(count):
    for n in range(count):
        threading.Thread(target=_work, name=f"worker-{n}", daemon=True).start()
"""


@pytest.fixture
def workers(tmp_path):
    module = learners_file(tmp_path, WORKERS, name="workers")
    yield tmp_path, module
    for _ in range(threading.active_count()):
        module.jobs.put(None)  # each worker ends at its next job


def asleep_in_futexes(module, count: int) -> None:
    """Wait (5 s at most) until `count` workers of `module` sleep in a futex."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        workers = [t.native_id for t in threading.enumerate() if t.name.startswith("worker-")]
        if sum("futex" in thread_leftovers._wchan(n) for n in workers if n is not None) >= count:
            return
        time.sleep(0.01)
    raise AssertionError("the workers never went to sleep on their queue")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a futex wait is read from Linux's /proc")
@pytest.mark.load_sensitive  # a first look within 0.05 s
def test_a_worker_seen_quiet_before_the_grace_ends_is_watched_until_it_has_been_quiet_long_enough(
    workers, monkeypatch
):
    """A correct answer's idle workers, blocked in C on a SimpleQueue, are taken as idle once they
    have used no CPU for QUIET seconds, however late in the grace they were first seen quiet (a
    CI run, loaded, failed such an answer). Here the grace is shorter than QUIET: every worker is
    first seen quiet too late to have been quiet long enough by its end."""
    folder, module = workers
    monkeypatch.setattr(thread_leftovers, "GRACE", thread_leftovers.QUIET / 4)
    watch = thread_leftovers.ThreadLeftovers(folder)
    watch.start()
    module.start(4)  # during the test: not idle when the test began
    asleep_in_futexes(module, 4)  # the test ends with its workers idle, as a correct answer's are
    problems = watch.finish_sync()
    assert problems == [], "\n".join(problems)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a futex wait is read from Linux's /proc")
def test_a_worker_still_at_work_after_the_grace_is_named_without_waiting_for_it_to_end(workers, monkeypatch):
    """The grace's end is kept for a thread that uses CPU past it: the watch does not wait on."""
    folder, module = workers
    monkeypatch.setattr(thread_leftovers, "GRACE", 0.1)
    watch = thread_leftovers.ThreadLeftovers(folder)
    watch.start()
    module.start(1)
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    module.jobs.put(spin)
    try:
        problems = watch.finish_sync()
    finally:
        stop.set()
    assert len(problems) == 1 and problems[0].startswith(thread_leftovers.LEFT_PREFIX), problems
    assert "in spin" in problems[0] or "in _work" in problems[0], problems[0]
