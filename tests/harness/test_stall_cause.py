"""What a stall's time went to: the thread computing, the machine making tasks wait, or the thread
asleep in a blocking call (kata.testing.stall_cause). Only the last is surely the code's."""

import asyncio
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from kata.sandbox import host
from kata.testing import stall_cause
from kata.testing.loopguard import FROZEN_PREFIX, LoopGuard, blocked_asleep
from kata.testing.stall_cause import Mark, Stall


def test_what_neither_the_thread_nor_the_machine_explains_is_sleep():
    stall = Stall(seconds=0.3, cpu=0.02, waits=10.0)
    assert stall.asleep(10.0) == pytest.approx(0.28), "nothing waited: all but the computing was sleep"
    assert stall.asleep(10.2) == pytest.approx(0.08), "the machine's 0.2 s of waiting is excused"
    assert stall.asleep(11.0) < 0, "a busy machine explains all of it"


def test_without_the_machines_counters_nothing_is_called_sleep():
    assert Stall(seconds=0.3, cpu=0.0, waits=None).asleep(10.0) is None
    assert Stall(seconds=0.3, cpu=0.0, waits=10.0).asleep(None) is None


def test_counters_that_cannot_be_opened_read_as_unknown(monkeypatch, tmp_path):
    monkeypatch.setattr(stall_cause, "PRESSURE", (str(tmp_path / "no-such-file"),))
    assert stall_cause._Counters().read() is None


def test_a_kernel_with_pressure_switched_off_reads_as_unknown(monkeypatch, tmp_path):
    empty = tmp_path / "cpu"
    empty.write_text("")  # what reading a switched-off PSI file gives is no total
    monkeypatch.setattr(stall_cause, "PRESSURE", (str(empty),))
    assert stall_cause._Counters().read() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PSI and /proc/stat are Linux's")
def test_this_machines_waits_are_read_and_only_grow():
    first = stall_cause.machine_waits()
    assert isinstance(first, float), "this Linux has /proc/pressure: the grader relies on it here"
    time.sleep(0.05)
    assert stall_cause.machine_waits() >= first


def test_the_stalled_threads_computing_is_its_own_not_another_threads():
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    other = threading.Thread(target=spin)
    other.start()
    try:
        before = stall_cause.mark()
        time.sleep(0.2)
        stall = Stall.since(before, 0.2)
    finally:
        stop.set()
        other.join()
    assert isinstance(before, Mark)
    assert stall.cpu < 0.1, f"this thread slept; {stall.cpu:.3f} s of CPU counted as its own"


def _frozen_by_a_sleep(guard):
    async def main():
        await guard.start()
        await asyncio.sleep(0.02)
        time.sleep(0.2)  # a blocking call, on a machine told to be quiet
        await asyncio.sleep(0.02)
        return await guard.finish()

    return asyncio.run(main())


def test_the_guard_names_a_blocking_call_unless_told_not_to(monkeypatch):
    monkeypatch.setattr(stall_cause, "machine_waits", lambda: 5.0)
    (found,) = _frozen_by_a_sleep(LoopGuard())
    assert blocked_asleep(found), found
    (found,) = _frozen_by_a_sleep(LoopGuard(tell_asleep=False))
    assert found.startswith(FROZEN_PREFIX) and not blocked_asleep(found), found


def test_in_judge_mode_a_frozen_loop_is_never_called_asleep(monkeypatch):
    """The sandbox's loop thread can sleep on the judge in ways its guard does not excuse."""
    made = []
    monkeypatch.setattr(host, "LoopGuard", lambda *args, **kwargs: made.append(kwargs) or LoopGuard())
    sandbox = host.Host.__new__(host.Host)
    sandbox.peer = SimpleNamespace(waited_on=lambda loop: 0.0)
    sandbox._count_sessions = lambda: None

    async def begin():
        await sandbox.begin()
        await sandbox._guard.finish()
        sandbox._watch.__exit__(None, None, None)

    asyncio.run(begin())
    assert made and made[0].get("tell_asleep") is False, made
