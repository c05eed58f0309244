"""The self-check's own load (6 runs per core) is not a learner's. What must pass and failed on
time twice under it runs once more with the machine to itself; a mistake, and what must fail,
never get that run."""

from dataclasses import replace
from pathlib import Path

import pytest

from kata import runner, selfcheck, shards
from kata.report import TestResult
from kata.runner import Run, run_tests, with_second_chance
from tests.harness.test_guard import make_suite

pytestmark = pytest.mark.timeout(120)

# Slow on its first two runs in a folder, fast after: a machine busy through both runs.
LEARNER = """
from dataclasses import replace
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


def _result(test, outcome="passed", time_only=False):
    return TestResult(f"t.py::{test}", "99_demo", test, 1, outcome, time_only=time_only)


def test_the_self_check_runs_what_needs_a_run_alone_only_after_every_other_run(monkeypatch):
    """run_checked, as the pool's runs call it, only notes what needs a run alone; the runs alone
    come later, one by one, when nothing else is going (self_check waits for every run first)."""
    asked = []

    def run_tests(tests, target, **options):
        asked.append((list(tests), options["extra"]))
        if len(asked) == 1:  # the pool's run: a failure on time (twice), and a mistake
            return Run(results=[_result("test_slow", "failed", True), _result("test_wrong", "failed")])
        return Run(results=[_result("test_slow")])

    def second_chance(run, target, **options):
        asked.append(("second chance", options["extra"]))
        return run

    monkeypatch.setattr(selfcheck, "run_tests", run_tests)
    monkeypatch.setattr(selfcheck, "with_second_chance", second_chance)
    later: list[selfcheck.RunAlone] = []
    part = ("-p", "kata.shards", shards.OPTION, "2/3")
    run = selfcheck.run_checked([Path("t.py")], Path("target"), part, alone_later=later)
    assert [tests for tests, _ in asked] == [[Path("t.py")], "second chance"], (
        "no run alone may start while the pool's runs go on"
    )
    assert [alone.run for alone in later] == [run], "what must pass and failed on time twice is noted"
    selfcheck.run_alone_at_the_end(later)
    assert asked[2][0] == ["t.py::test_slow"], "only what failed on time runs alone, not the mistake"
    assert {r.test: r.outcome for r in run.results} == {"test_slow": "passed", "test_wrong": "failed"}
    assert run.passed_alone == ["t.py::test_slow"]
    assert shards.OPTION in asked[0][1], "the first run is the part"
    assert [shards.OPTION in extra for _, extra in asked[1:]] == [False, False], (
        "a run again names its tests: with the part kept, one test of part 2/3 ran nothing"
    )


def test_a_part_is_dropped_from_the_options_and_nothing_else():
    options = ("--kata-seed", "5", "-p", "kata.shards", shards.OPTION, "2/3", "--timeout", "120")
    assert shards.without_part(options) == ("--kata-seed", "5", "-p", "kata.shards", "--timeout", "120")
    assert shards.without_part(("--timeout", "1")) == ("--timeout", "1")


def test_a_whole_run_stopped_at_its_wall_limit_gets_a_run_alone_for_what_must_pass():
    """Under the self-check's load a run can outlast its wall limit: its tests never ran, which
    is the machine, not the code, for what must pass."""
    never_ran = _result("test_a", "failed")
    stopped = Run(results=[never_ran], timed_out=True)
    assert selfcheck.to_run_alone(stopped, must_pass=lambda result: True) == [never_ran]
    assert selfcheck.to_run_alone(stopped, must_pass=lambda result: False) == []
    assert selfcheck.to_run_alone(Run(results=[never_ran]), must_pass=lambda result: True) == [], (
        "a failure that is not on time, in a run that was not stopped, is a verdict"
    )


MARKED = """
import time

import pytest

@pytest.mark.load_sensitive
def test_marked_bound():
    started = time.monotonic()
    assert time.monotonic() - started < 0, "a bound a busy machine broke"

def test_plain_bound():
    started = time.monotonic()
    assert time.monotonic() - started < 0, "the same bound, not marked"
"""


def test_a_harness_test_marked_load_sensitive_fails_only_on_time(tmp_path):
    """A harness test whose bound is meant for a machine running one grading says so
    (pytest.mark.load_sensitive): its failure is on time, so it gets the runs the load can
    need; an unmarked failure is a verdict."""
    test_file, target = make_suite(tmp_path, learner="", tests=MARKED)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path)
    assert {r.test: (r.outcome, r.time_only) for r in run.results} == {
        "test_marked_bound": ("failed", True),
        "test_plain_bound": ("failed", False),
    }


def test_tests_a_run_never_reached_because_its_process_ended_run_once_more(monkeypatch):
    """One variant's test ended a round's process (exit code 3 under load): the other variants'
    tests were never run, and must be judged, not counted as failures."""
    asked = []

    def run_tests(tests, target, **options):
        asked.append(list(tests))
        return Run(results=[_result("test_later")])

    monkeypatch.setattr(runner, "run_tests", run_tests)
    unrun = runner.NOT_RUN.format(reason="exit code 3")
    ended = Run(
        results=[
            _result("test_running", "failed"),  # the one running when the process ended
            replace(_result("test_later", "failed"), message=unrun),
        ],
        returncode=3,
    )
    runner.with_the_unrun_run(ended, Path("target"), wall_limit=60, extra=())
    assert asked == [["t.py::test_later"]], "only the tests never run run again"
    assert {r.test: r.outcome for r in ended.results} == {"test_running": "failed", "test_later": "passed"}
    stopped = Run(results=[replace(_result("test_later", "failed"), message=unrun)], timed_out=True)
    runner.with_the_unrun_run(stopped, Path("target"), wall_limit=60, extra=())
    assert len(asked) == 1, "a run stopped at its wall limit is the runs alone's to judge (to_run_alone)"


def test_tests_never_reached_run_again_until_each_has_a_verdict(monkeypatch):
    """A learner's code that ends the process in some tests (sys.exit, os._exit): each run ends at
    the next such test, which keeps its failure, and the tests after it run once more; a process
    that ends before its first test is not started again and again."""
    unrun = runner.NOT_RUN.format(reason="exit code 3")
    died = runner.DIED_DURING.format(code=3)
    answers = [
        Run(
            results=[
                replace(_result("test_b", "failed"), message=died),
                replace(_result("test_c", "failed"), message=unrun),
            ]
        ),
        Run(results=[_result("test_c")]),
    ]
    asked = []

    def run_tests(tests, target, **options):
        asked.append(list(tests))
        return answers[len(asked) - 1]

    monkeypatch.setattr(runner, "run_tests", run_tests)
    first = Run(
        results=[
            replace(_result("test_a", "failed"), message=died),
            replace(_result("test_b", "failed"), message=unrun),
            replace(_result("test_c", "failed"), message=unrun),
        ],
        returncode=3,
    )
    runner.with_the_unrun_run(first, Path("target"), wall_limit=60)
    assert asked == [["t.py::test_b", "t.py::test_c"], ["t.py::test_c"]]
    assert {r.test: r.outcome for r in first.results} == {
        "test_a": "failed",
        "test_b": "failed",
        "test_c": "passed",
    }
    assert first.results[1].message == died, "the test running when its process ended keeps that failure"

    asked.clear()
    answers[0] = Run(results=[replace(_result(t, "failed"), message=unrun) for t in ("test_b", "test_c")])
    again = Run(
        results=[replace(_result(t, "failed"), message=unrun) for t in ("test_b", "test_c")], returncode=3
    )
    runner.with_the_unrun_run(again, Path("target"), wall_limit=60)
    assert len(asked) == 1, "a process that ended before its first test is not run again"
