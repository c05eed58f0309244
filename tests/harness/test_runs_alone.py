"""The self-check's own load (6 runs per core) is not a learner's. What must pass and failed on
time twice under it runs once more with the machine to itself; a mistake, and what must fail,
never get that run."""

import threading
import time

import pytest

from kata import runner, selfcheck
from kata.runner import run_tests, with_second_chance
from kata.turns import Turns
from tests.harness.test_guard import make_suite

pytestmark = pytest.mark.timeout(120)

# Slow on its first two runs in a folder, fast after: a machine busy through both runs.
LEARNER = """
from pathlib import Path

def seconds_taken():
    runs = Path(__file__).with_name("runs")
    count = int(runs.read_text()) if runs.exists() else 0
    runs.write_text(str(count + 1))
    return 0.5 if count < 2 else 0.1

def always_slow():
    return 0.5

def wrong_sum(a, b):
    return a - b
"""

TESTS = """
from kata.testing import margins

def test_busy_twice(ex):
    if margins.over(ex.seconds_taken(), 0.3, "99 demo: fast enough"):
        raise AssertionError("too slow")

def test_always_slow(ex):
    if margins.over(ex.always_slow(), 0.3, "99 demo: fast enough, always slow"):
        raise AssertionError("too slow")

def test_wrong(ex):
    assert ex.wrong_sum(2, 2) == 4, "wrong sum"
"""


def _judged(tmp_path, monkeypatch, must_pass):
    monkeypatch.setattr(runner, "machine_is_busy", lambda: False)
    test_file, target = make_suite(tmp_path, learner=LEARNER, tests=TESTS)
    first = run_tests([test_file], target, wall_limit=60, cwd=tmp_path)
    twice = with_second_chance(first, target, wall_limit=60, cwd=tmp_path)
    assert {r.test: r.outcome for r in twice.results} == dict.fromkeys(
        ("test_busy_twice", "test_always_slow", "test_wrong"), "failed"
    ), "the demo should fail its timing twice before a run alone"
    run = selfcheck.with_a_run_alone(
        twice, target, wall_limit=60, extra=(), must_pass=must_pass, cwd=tmp_path
    )
    return {r.test: r for r in run.results}, run


def test_what_must_pass_and_failed_on_time_twice_passes_when_run_alone(tmp_path, monkeypatch):
    after, run = _judged(tmp_path, monkeypatch, must_pass=lambda result: True)
    assert after["test_busy_twice"].outcome == "passed", after["test_busy_twice"].message
    assert [test.rsplit("::", 1)[-1] for test in run.passed_alone] == ["test_busy_twice"], (
        "the self-check should name what passed only alone: its margin is thin under load"
    )
    assert after["test_always_slow"].outcome == "failed", "slow every time is slow, alone too"
    assert selfcheck.FAILED_ALONE in after["test_always_slow"].message
    assert after["test_wrong"].outcome == "failed", "a mistake is not run alone, and still fails"
    assert selfcheck.FAILED_ALONE not in after["test_wrong"].message


def test_what_need_not_pass_gets_no_run_alone(tmp_path, monkeypatch):
    after, run = _judged(tmp_path, monkeypatch, must_pass=lambda result: False)
    assert after["test_busy_twice"].outcome == "failed", "a wrong variant's verdict stands after two runs"
    assert run.passed_alone == []


def _started(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_a_run_alone_waits_for_the_runs_going_and_no_new_run_starts_until_it_has_run():
    turns, events = Turns(), []
    first_may_end = threading.Event()

    def first_run():
        with turns.ordinary():
            events.append("first started")
            first_may_end.wait(10)
            events.append("first ended")

    def run_alone():
        with turns.alone(patience=10):
            events.append("alone started")
            time.sleep(0.05)
            events.append("alone ended")

    def later_run():
        with turns.ordinary():
            events.append("later started")

    threads = [_started(first_run)]
    while turns.running == 0:
        time.sleep(0.001)
    threads.append(_started(run_alone))
    time.sleep(0.05)  # the run alone now waits; a run asked for after it must wait too
    threads.append(_started(later_run))
    time.sleep(0.05)
    assert events == ["first started"], "neither the run alone nor a new run may start meanwhile"
    first_may_end.set()
    for thread in threads:
        thread.join(10)
    assert events == ["first started", "first ended", "alone started", "alone ended", "later started"]


def test_a_run_alone_waits_no_longer_than_its_patience_for_a_run_that_goes_on():
    turns, going = Turns(), threading.Event()

    def long_run():
        with turns.ordinary():
            going.wait(10)

    thread = _started(long_run)
    while turns.running == 0:
        time.sleep(0.001)
    started = time.monotonic()
    with turns.alone(patience=0.2):
        waited = time.monotonic() - started
    going.set()
    thread.join(10)
    assert 0.15 < waited < 5, f"the run alone waited {waited:.2f} s for a run that went on (patience 0.2 s)"
