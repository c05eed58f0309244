"""What a stall's time went to: the loop's thread computing, waiting for a core, the VM not run,
or the thread asleep (kata.testing.stall_cause). Only sleep, alone in the process, on a machine
that is not busy, is surely the code's blocking call."""

import asyncio
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

from kata.sandbox import host
from kata.testing import stall_cause
from kata.testing.loopguard import FROZEN_PREFIX, LoopGuard, blocked_asleep
from kata.testing.stall_cause import Mark, Stall

LINUX = sys.platform.startswith("linux")


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr(stall_cause, "machine_busy", lambda: False)


@pytest.fixture
def alone(monkeypatch):
    """The process has no thread but this one: an earlier test's may still be ending (a pipe's
    pump waiting for its end of file), and what is tested here is what the guard says then."""
    monkeypatch.setattr(stall_cause, "only_thread", lambda: True)


def test_what_the_thread_did_not_spend_awake_is_sleep(quiet):
    assert Stall(0.3, awake=0.02).asleep() == pytest.approx(0.28)
    assert Stall(0.3, awake=0.02).blocking_call(0.1), "slept 0.28 s, alone, on a quiet machine"
    assert not Stall(0.3, awake=0.25).blocking_call(0.1), "computed or waited for a core: the machine's?"


def test_sleep_is_the_codes_only_alone_on_a_quiet_machine_where_it_can_be_told(monkeypatch, quiet):
    assert not Stall(0.3, awake=0.0, alone=False).blocking_call(0.1), "it may have waited on another thread"
    assert not Stall(0.3, awake=None).blocking_call(0.1), "no figures: cannot tell"
    monkeypatch.setattr(stall_cause, "machine_busy", lambda: True)
    assert not Stall(0.3, awake=0.0).blocking_call(0.1), "a busy machine"


def test_a_thread_whose_figures_cannot_be_read_marks_nothing(monkeypatch):
    counters = stall_cause._Counters()
    monkeypatch.setattr(stall_cause, "open_readonly", lambda path: None)
    assert counters.thread() is None and counters.steal() == 0.0
    monkeypatch.setattr(stall_cause, "_COUNTERS", counters)
    assert stall_cause.mark() == Mark(None)
    assert Stall.since(Mark(None), 0.3).asleep() is None


def on_a_core_since(before):
    """Seconds the calling thread ran on a core since `before` (a Mark): what no load adds to.
    (Asleep is what it did not spend on a core, waiting for one, or stolen: on a loaded machine a
    woken thread may wait for a core long enough to leave little of a sleep "asleep", and the
    guard then rightly blames nobody; these tests check what the figures are made of.)"""
    return stall_cause.mark().ran - before.ran


@pytest.mark.skipif(not LINUX, reason="schedstat and /proc/stat are Linux's")
def test_a_sleeping_thread_is_seen_asleep_and_a_spinning_one_awake():
    before = stall_cause.mark()
    assert before.ran is not None, "this Linux has /proc/thread-self/schedstat: the grader relies on it"
    time.sleep(0.2)
    slept_on_a_core = on_a_core_since(before)
    before = stall_cause.mark()
    started = time.monotonic()
    while time.monotonic() - started < 0.2:
        pass
    spun = Stall.since(before, time.monotonic() - started)
    assert slept_on_a_core < 0.05, f"slept 0.2 s, seen on a core {slept_on_a_core:.3f} s"
    assert spun.asleep() < 0.05, f"spun 0.2 s, seen asleep {spun.asleep():.3f} s"


@pytest.mark.skipif(not LINUX, reason="schedstat is Linux's")
def test_another_threads_computing_is_not_the_stalled_threads():
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    other = threading.Thread(target=spin)
    other.start()
    try:
        before = stall_cause.mark()
        assert not stall_cause.only_thread()
        started = time.monotonic()
        time.sleep(0.2)
        stall = Stall.since(before, time.monotonic() - started)
        on_a_core = on_a_core_since(before)
    finally:
        stop.set()
        other.join()
    assert on_a_core < 0.05, f"this thread slept; on a core {on_a_core:.3f} s (the spinner's time?)"
    assert not stall.alone, "another thread was there"
    # An earlier test's thread may still live (an executor's): the spinner, joined, must not count.
    assert other not in stall_cause.other_threads(), "the spinning thread, joined, still counts"


@pytest.mark.skipif(not LINUX, reason="schedstat is Linux's")
def test_the_kata_own_watchdogs_work_is_not_another_threads_computing(monkeypatch):
    """The frozen-loop sampler's looks (every 20 ms) came to 4-6 ms of CPU in a 0.3 s stall,
    against OTHERS_CPU's 10: on some runs a blocking call on a quiet machine was not told as one.
    A kata thread's work counted as its own is taken out; a learner's thread computing is not."""
    monkeypatch.setattr(stall_cause, "only_thread", lambda: True)  # the threads alone decide here

    def computes(seconds, counted):
        def work():
            started = time.thread_time()
            while time.thread_time() - started < seconds:
                pass
            if counted:
                stall_cause.count_own_cpu(time.thread_time() - started)

        before = stall_cause.mark()
        thread = threading.Thread(target=work, name="kata-demo" if counted else "learner")
        thread.start()
        thread.join()
        return Stall.since(before, 0.2)

    assert computes(0.03, counted=True).alone, "the kata's own work held nothing"
    assert not computes(0.03, counted=False).alone, "another thread computed for 30 ms"


HERE = Path(__file__).parent


def _a_librarys_wait():
    with ThreadPoolExecutor(1) as pool:  # its shutdown waits for the job: a library's wait, not named
        pool.submit(time.sleep, 0.2)


def _frozen_by_a_sleep(guard, block=_a_librarys_wait):
    """A loop frozen by `block`: by default a blocking call made here, in "the learner's" folder
    (a library's wait: time.sleep and the standard library's waits called here have their own
    finding, kata.testing.sleep_watch)."""

    async def main():
        await guard.start()
        await asyncio.sleep(0.02)
        block()
        await asyncio.sleep(0.02)
        return await guard.finish()

    return asyncio.run(main())


@pytest.mark.skipif(not LINUX, reason="schedstat is Linux's")
@pytest.mark.load_sensitive  # the watchdog must look during a 0.2 s stall
def test_the_guard_names_a_blocking_call_unless_told_not_to(quiet, alone):
    (found,) = _frozen_by_a_sleep(LoopGuard(learner_folder=HERE))
    assert blocked_asleep(found), found
    (found,) = _frozen_by_a_sleep(LoopGuard(learner_folder=HERE, tell_asleep=False))
    assert found.startswith(FROZEN_PREFIX) and not blocked_asleep(found), found


@pytest.mark.skipif(not LINUX, reason="schedstat is Linux's")
def test_asleep_with_none_of_the_learners_code_on_its_stack_may_be_the_machine(quiet, alone, tmp_path):
    # The loop's thread slept, but never under a line of the learner's: a VM not run, a turn to
    # run Python again (the GIL), a library's callback. Not surely the code's: a second run.
    (found,) = _frozen_by_a_sleep(LoopGuard(learner_folder=tmp_path))
    assert found.startswith(FROZEN_PREFIX) and not blocked_asleep(found), found


def test_a_futex_is_a_blocking_call_only_under_a_blocking_primitive():
    from kata.testing.frozen_at import _blocking

    def frame_in(filename):
        return SimpleNamespace(f_code=SimpleNamespace(co_filename=filename))

    anywhere = frame_in("/venv/lib/python3.11/site-packages/aiohttp/client.py")
    assert _blocking("hrtimer_nanosleep", anywhere), "asleep in a timer: a blocking sleep"
    assert _blocking("wait_woken", anywhere), "asleep on a socket: a blocking read"
    assert not _blocking("futex_do_wait", anywhere), "waiting for the GIL, anywhere: its turn"
    assert _blocking("futex_do_wait", frame_in("/usr/lib/python3.11/threading.py")), "Event().wait()"
    assert _blocking("futex_wait_queue", frame_in("/usr/lib/python3.11/concurrent/futures/_base.py"))
    assert not _blocking("0", anywhere) and not _blocking("", anywhere), "running, or not known"


def test_in_judge_mode_a_frozen_loop_is_never_called_asleep(monkeypatch):
    """The sandbox's loop thread can sleep on the judge in ways its guard does not excuse."""
    made = []
    monkeypatch.setattr(host, "LoopGuard", lambda *args, **kwargs: made.append(kwargs) or LoopGuard())
    sandbox = host.Host.__new__(host.Host)
    sandbox.peer = SimpleNamespace(waited_on=lambda loop: 0.0)
    sandbox.target = Path.cwd()
    sandbox._count_sessions = lambda: None

    async def begin():
        await sandbox.begin()
        await sandbox._guard.finish()
        sandbox._watch.__exit__(None, None, None)

    asyncio.run(begin())
    assert made and made[0].get("tell_asleep") is False, made


def test_grade_pys_hang_backstop_is_not_a_thread_the_loop_could_wait_on():
    """grade.py arms an idle timer thread per test (kata.report): a blocking call is still told."""
    from kata.report import ReportWriter, TestResult

    writer = ReportWriter(None, hang_backstop=60)
    writer.results["t.py::test_x"] = TestResult("t.py::test_x", "99_demo", "test_x", None)
    writer._emit = lambda record: None
    before = set(stall_cause.other_threads())  # earlier tests' may live on
    writer.pytest_runtest_logstart("t.py::test_x")
    try:
        assert writer.backstop is not None and writer.backstop.is_alive()
        others = stall_cause.other_threads()
        assert writer.backstop not in others, f"the backstop ({writer.backstop.name}) counts as another"
        assert set(others) <= before, [t.name for t in set(others) - before]
    finally:
        writer.backstop.cancel()


def test_the_guard_lets_go_of_a_task_once_it_has_ended_and_still_names_the_ones_running():
    """The guard holds every task made during a test, so that one left running is named even if
    nothing else refers to it. A task that has ended is let go at the next look: kept, each look
    walked them all, and in judge mode the sandbox looks after every call (0.5 ms a call after
    3,000 calls, found by a benchmark of the crossing)."""
    import weakref

    async def a_test():  # on a loop of its own: the kata's guard for this harness test holds none
        guard = LoopGuard(heartbeat=False)
        await guard.start()
        ended = asyncio.create_task(asyncio.sleep(0))
        await ended
        gone = weakref.ref(ended)
        del ended
        await asyncio.sleep(0)  # the loop's handle that woke this task with it is let go
        left = asyncio.create_task(asyncio.sleep(10))
        assert guard.running() == [left]
        assert gone() is None, "the guard still held a task that had ended"
        return await guard.finish()

    problems = asyncio.run(a_test())
    assert any("1 task was still running" in p for p in problems), problems


@pytest.mark.parametrize("busy", [True, False], ids=["busy", "idle"])
def test_a_frozen_loop_on_a_busy_machine_says_the_machine_may_have_done_it(busy, monkeypatch):
    """Not surely the code's (BLOCKED): the learner is told when the machine was busy, not otherwise."""
    monkeypatch.setattr(stall_cause, "machine_busy", lambda: busy)
    (found,) = _frozen_by_a_sleep(LoopGuard(tell_asleep=False))
    assert found.startswith(FROZEN_PREFIX), found
    assert ("the freeze may be its doing, not your code's" in found) == busy, found
