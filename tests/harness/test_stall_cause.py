"""What a stall's time went to: the thread computing, the machine making tasks wait, or the thread
asleep in a blocking call (kata.testing.stall_cause). Only the last is surely the code's."""

import sys
import threading
import time

import pytest

from kata.testing import stall_cause
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
