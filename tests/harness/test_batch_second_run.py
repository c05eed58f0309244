"""Batch grading runs a test that failed only on time once more, as grade.py does: a busy machine
must not cost a student a point, and a mistake still fails (kata.batch.isolation._second_chance).

Only loop stalls had a second run: 6 copies of the reference solutions graded at -j 4 on 2 cores
lost one point, on 10's pool test (a timing bound: the loop waited 0.59 s while the pools
computed). The children are replaced here by a stand-in that says what a second run would.
"""

from dataclasses import replace
from pathlib import Path

import pytest

from kata.batch import isolation
from kata.report import NOT_RUN_AFTER_HANG_IN_EXERCISE, TestResult

TIMED_OUT = "this test did not finish in time (10.0s). None of your code was running or waiting"


def expected(test: str, stem: str = "10_cpu_bound") -> TestResult:
    return TestResult(id=f"tests/test_{stem}.py::{test}", stem=stem, test=test, task=1)


def failed(test: TestResult, message: str, **flags) -> TestResult:
    return replace(test, outcome="failed", message=message, **flags)


@pytest.fixture
def second_runs(monkeypatch):
    """The tests each second run was asked for; every one of them passes there."""
    asked: list[list[str]] = []

    def child(tests, work, grading, uid, judge):
        asked.append([t.test for t in tests])
        events = []
        for t in tests:
            events += [{"event": "started", "id": t.id}, {"event": "test", "id": t.id, "outcome": "passed"}]
        return isolation._ChildRun(events, 0, None, "", 0)

    monkeypatch.setattr(isolation, "_run_child", child)
    return asked


def second_chance(tests, results, busy, monkeypatch, busy_before=None, starved=None):
    """`starved`: the tests the child saw starved of CPU (None: it could not tell, so all of them)."""
    monkeypatch.setattr(isolation, "machine_is_busy", lambda: busy)
    before = busy if busy_before is None else busy_before
    run = isolation.GradedRun(results=[], starved=starved)
    isolation._second_chance(tests, results, Path("."), None, None, run, True, before)


def test_a_timing_bound_broken_once_is_run_again_and_its_pass_stands(second_runs, monkeypatch):
    bound, wrong = expected("test_bound"), expected("test_wrong")
    results = {
        bound.id: failed(bound, "the event loop was frozen while the pool computed", time_only=True),
        wrong.id: failed(wrong, "count_primes_in_pool's result: expected [3], got [4]"),
    }
    second_chance([bound, wrong], results, busy=False, monkeypatch=monkeypatch)
    assert second_runs == [["test_bound"]], "only the failure on time is run again"
    assert results[bound.id].outcome == "passed", "a test that passes the second time passes"
    assert results[wrong.id].outcome == "failed", "a wrong result is never run again"


def test_a_timeout_is_run_again_with_the_tests_it_kept_from_running_only_on_a_busy_machine(
    second_runs, monkeypatch
):
    hung, after, other = expected("test_hung"), expected("test_after"), expected("test_x", "02_gather")
    tests = [hung, after, other]

    def results():
        return {
            hung.id: failed(hung, TIMED_OUT, time_only=True),
            after.id: failed(after, NOT_RUN_AFTER_HANG_IN_EXERCISE),
            other.id: failed(other, NOT_RUN_AFTER_HANG_IN_EXERCISE),
        }

    idle = results()
    second_chance(tests, idle, busy=False, monkeypatch=monkeypatch)
    assert second_runs == [], "idle, a timeout is the code's: it is not run again"
    busy = results()
    second_chance(tests, busy, busy=True, monkeypatch=monkeypatch)
    assert second_runs == [["test_hung", "test_after"]], "the hung test, and its exercise's tests after it"
    assert busy[hung.id].outcome == busy[after.id].outcome == "passed"
    assert busy[other.id].outcome == "failed", "another exercise's tests are not its to run again"


def test_a_timeout_on_a_machine_busy_only_once_the_submission_ran_is_not_run_again(second_runs, monkeypatch):
    # A red team's answer made the machine busy itself (40 threads hashing) and hung unless it was:
    # busy at the end of its run, it earned the second run its own load made it pass.
    hung = expected("test_hung")
    results = {hung.id: failed(hung, TIMED_OUT, time_only=True)}
    second_chance([hung], results, busy=True, busy_before=False, monkeypatch=monkeypatch)
    assert second_runs == [], "busy only by the submission's own doing: its timeout is its code's"
    assert results[hung.id].outcome == "failed"


def test_a_timeout_its_test_slept_through_is_not_run_again_however_busy_the_machine(second_runs, monkeypatch):
    # Red team W3: a classmate kept the machine busy (40 busy processes), and an answer that hung
    # in its first run only got the second run the load average opened: its hang slept, starved of
    # nothing (kata.batch.starving).
    slept, starved = expected("test_slept"), expected("test_starved")
    results = {
        slept.id: failed(slept, TIMED_OUT, time_only=True),
        starved.id: failed(starved, TIMED_OUT, time_only=True),
    }
    second_chance([slept, starved], results, busy=True, starved={starved.id}, monkeypatch=monkeypatch)
    assert second_runs == [["test_starved"]], "only the test that waited for a CPU is run again"
    assert results[slept.id].outcome == "failed"
    assert results[starved.id].outcome == "passed"


def test_a_timing_bound_is_run_again_however_the_machine_was(second_runs, monkeypatch):
    bound = expected("test_bound")
    results = {bound.id: failed(bound, "the event loop was frozen while the pool computed", time_only=True)}
    second_chance([bound], results, busy=True, busy_before=False, monkeypatch=monkeypatch)
    assert second_runs == [["test_bound"]]


def test_only_a_true_flag_in_the_childs_report_asks_for_a_second_run():
    test = expected("test_bound")
    for flag, kept in ((True, True), ("yes", False), (1, False), (None, False)):
        results: dict[str, TestResult] = {}
        events = [
            {"event": "started", "id": test.id},
            {"event": "test", "id": test.id, "outcome": "failed", "message": "late", "time_only": flag},
        ]
        isolation._collect(events, {test.id: test}, results)
        assert results[test.id].time_only is kept, f"time_only={flag!r} in the report"
