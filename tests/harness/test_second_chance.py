"""A test that failed only on time gets a second run before the learner is told (grade.py and the
self-check judge alike): a busy machine must never fail correct code, and a mistake still fails."""

import pytest

from kata import runner, selfcheck
from kata.runner import run_tests, with_second_chance
from tests.harness.test_guard import make_suite

pytestmark = pytest.mark.timeout(120)

# Slow the first time it runs in a folder, fast after: what a busy moment looks like to a test.
LEARNER = """
from pathlib import Path

def seconds_taken():
    marker = Path(__file__).with_name("ran-once")
    first = not marker.exists()
    marker.touch()
    return 0.5 if first else 0.1

def wrong_sum(a, b):
    return a - b

async def waits_on_first_run():
    import asyncio
    marker = Path(__file__).with_name("waited-once")
    if not marker.exists():
        marker.touch()
        await asyncio.Event().wait()
"""

TESTS = """
from kata.testing import margins

def test_busy_once(ex):
    if margins.over(ex.seconds_taken(), 0.3, "99 demo: fast enough"):
        raise AssertionError("too slow")

def test_wrong(ex):
    assert ex.wrong_sum(2, 2) == 4, "wrong sum"

async def test_hangs_once(ex):
    await ex.waits_on_first_run()
"""


def _run(tmp_path, busy: bool, monkeypatch):
    monkeypatch.setattr(runner, "machine_is_busy", lambda: busy)
    test_file, target = make_suite(tmp_path, learner=LEARNER, tests=TESTS)
    extra = ["--timeout", "1"]
    first = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=extra)
    before = {r.test: r.outcome for r in first.results}
    run = with_second_chance(first, target, wall_limit=60, cwd=tmp_path, extra=extra)
    return before, {r.test: r for r in run.results}, run


def test_a_failure_on_time_is_run_again_and_the_second_verdict_stands(tmp_path, monkeypatch):
    before, after, run = _run(tmp_path, busy=False, monkeypatch=monkeypatch)
    assert before["test_busy_once"] == "failed", "the first run broke the timing bound"
    assert after["test_busy_once"].outcome == "passed", after["test_busy_once"].message
    assert after["test_wrong"].outcome == "failed", "a wrong answer is not run again, and still fails"
    assert after["test_hangs_once"].outcome == "failed", "idle, a timeout is not run again"
    assert run.second_runs == 1
    assert [test.rsplit("::", 1)[-1] for test in run.passed_second_time] == ["test_busy_once"], (
        "the run should name the test that passed only the second time (the machine's load)"
    )


@pytest.mark.load_sensitive  # the second run must pass
def test_on_a_busy_machine_a_timeout_is_run_again_with_a_longer_limit(tmp_path, monkeypatch):
    before, after, run = _run(tmp_path, busy=True, monkeypatch=monkeypatch)
    assert before["test_hangs_once"] == "failed"
    assert after["test_hangs_once"].outcome == "passed", after["test_hangs_once"].message
    assert run.second_runs == 2


def test_a_second_failure_says_it_was_run_twice(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "machine_is_busy", lambda: False)
    tests = """
    from kata.testing import margins
    def test_always_slow():
        if margins.over(0.5, 0.3, "99 demo: always slow"):
            raise AssertionError("too slow")
    """
    test_file, target = make_suite(tmp_path, learner="", tests=tests)
    first = run_tests([test_file], target, wall_limit=60, cwd=tmp_path)
    run = with_second_chance(first, target, wall_limit=60, cwd=tmp_path)
    (result,) = run.results
    assert result.outcome == "failed"
    assert run.passed_second_time == [], "a test that failed twice did not pass the second time"
    assert result.message.startswith("too slow") and "run a second time" in result.message, result.message


# The last call starts late on the first run only: what a process kept from a core looks like.
STARTS_LATE_ONCE = """
import asyncio
from pathlib import Path

async def fetch_all(fetch, ids, sequential=False):
    marker = Path(__file__).with_name("started-late-once")
    first = not marker.exists()
    marker.touch()

    async def one(n):
        if first and n == ids[-1]:
            await asyncio.sleep(0.15)
        return await fetch(n)

    if sequential:
        return [await fetch(n) for n in ids]
    return await asyncio.gather(*(one(n) for n in ids))
"""

CONCURRENCY_TESTS = """
from kata.testing import FakeService, assert_ran_together, stopwatch

async def test_together(ex):
    fetch = FakeService("fetch", delay=0.1)
    with stopwatch() as run:
        await ex.fetch_all(fetch, [1, 2, 3, 4])
    assert_ran_together(fetch, run.elapsed, expected_calls=4)

async def test_one_after_another(ex):
    fetch = FakeService("fetch", delay=0.05)
    with stopwatch() as run:
        await ex.fetch_all(fetch, [1, 2, 3], sequential=True)
    assert_ran_together(fetch, run.elapsed, expected_calls=3)
"""


@pytest.mark.load_sensitive  # the second run must pass its bounds
def test_calls_that_started_late_once_are_run_again_and_a_sequential_answer_still_fails(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(runner, "machine_is_busy", lambda: False)
    test_file, target = make_suite(tmp_path, learner=STARTS_LATE_ONCE, tests=CONCURRENCY_TESTS)
    first = run_tests([test_file], target, wall_limit=60, cwd=tmp_path)
    assert {r.test: r.outcome for r in first.results} == {
        "test_together": "failed",
        "test_one_after_another": "failed",
    }, "the first run started one call late"
    run = with_second_chance(first, target, wall_limit=60, cwd=tmp_path)
    after = {r.test: r for r in run.results}
    assert after["test_together"].outcome == "passed", after["test_together"].message
    sequential = after["test_one_after_another"]
    assert sequential.outcome == "failed" and "ran one after another" in sequential.message
    assert "run a second time" in sequential.message, sequential.message


def test_a_settled_exercise_is_not_run_again(tmp_path, monkeypatch):
    """The self-check's wrong variant already caught by a real failure: a second run of its
    failures on time could not change "caught", and costs a child run."""
    monkeypatch.setattr(runner, "machine_is_busy", lambda: True)
    test_file, target = make_suite(tmp_path, learner=LEARNER, tests=TESTS)
    extra = ["--timeout", "1"]
    first = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=extra)
    run = with_second_chance(first, target, wall_limit=60, cwd=tmp_path, extra=extra, settled={"99_demo"})
    after = {r.test: r for r in run.results}
    assert run.second_runs == 0
    assert after["test_busy_once"].outcome == "failed" and after["test_busy_once"].time_only
    assert after["test_wrong"].outcome == "failed"


# The answer comes after the limit on the first run only: what a busy machine does to a fast call.
CUT_OFF_ONCE = """
import asyncio
from pathlib import Path

async def fetch_within(fetch, key, limit, always_late=False):
    marker = Path(__file__).with_name("late-once")
    late = always_late or not marker.exists()
    marker.touch()
    try:
        async with asyncio.timeout(limit):
            if late:
                await asyncio.sleep(limit * 2)
            return await fetch(key)
    except TimeoutError:
        return None
"""

CUT_OFF_TESTS = """
from kata.testing import FakeService, margins

async def check(ex, **options):
    fetch = FakeService("fetch", delay=0.01, reply=lambda key: key * 2)
    result = await ex.fetch_within(fetch, 21, 0.1, **options)
    if result is None:
        margins.cut_off("99 demo: a fast answer arrives within the limit")
        raise AssertionError("a fast answer was cut off by the limit")
    assert result == 42

async def test_cut_off_once(ex):
    await check(ex)

async def test_cut_off_every_time(ex):
    await check(ex, always_late=True)
"""


@pytest.mark.load_sensitive  # a 0.01 s call must beat a 0.1 s limit
def test_a_fast_answer_cut_off_by_a_limit_once_is_run_again_and_every_time_still_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "machine_is_busy", lambda: False)
    test_file, target = make_suite(tmp_path, learner=CUT_OFF_ONCE, tests=CUT_OFF_TESTS)
    first = run_tests([test_file], target, wall_limit=60, cwd=tmp_path)
    assert all(r.outcome == "failed" and r.time_only for r in first.results), first.results
    run = with_second_chance(first, target, wall_limit=60, cwd=tmp_path)
    after = {r.test: r for r in run.results}
    assert after["test_cut_off_once"].outcome == "passed", after["test_cut_off_once"].message
    always = after["test_cut_off_every_time"]
    assert always.outcome == "failed" and "run a second time" in always.message, always.message


# Hangs on the first run only: what a very busy machine does to code the test waits for.
HANGS_ONCE = """
import asyncio
from pathlib import Path

async def work(hang_always=False):
    marker = Path(__file__).with_name("hung-once")
    hang = hang_always or not marker.exists()
    marker.touch()
    if hang:
        await asyncio.Event().wait()
    return "done"

async def own_timeout():
    async with asyncio.timeout(0.01):
        await asyncio.sleep(1)
"""

HANG_GUARD_TESTS = """
from kata.testing.hang_guard import hang_guard

async def test_hangs_once(ex):
    async with hang_guard(0.2, "99 demo: work ends < 0.2 s", lambda: "work had not ended after 0.2 s"):
        assert await ex.work() == "done"

async def test_hangs_every_time(ex):
    async with hang_guard(0.2, "99 demo: work ends < 0.2 s", "work had not ended after 0.2 s"):
        await ex.work(hang_always=True)

async def test_the_code_s_own_timeout_passes_through(ex):
    async with hang_guard(5, "99 demo: own_timeout ends < 5 s", "own_timeout had not ended"):
        await ex.own_timeout()
"""


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
@pytest.mark.load_sensitive  # the second run must pass
def test_a_test_that_gave_up_waiting_is_run_again_only_on_a_busy_machine_like_a_timeout(
    tmp_path, monkeypatch, busy
):
    monkeypatch.setattr(runner, "machine_is_busy", lambda: busy)
    test_file, target = make_suite(tmp_path, learner=HANGS_ONCE, tests=HANG_GUARD_TESTS)
    first = run_tests([test_file], target, wall_limit=60, cwd=tmp_path)
    results = {r.test: r for r in first.results}
    for name in ("test_hangs_once", "test_hangs_every_time"):
        result = results[name]
        assert result.outcome == "failed" and result.time_only and result.gave_up, result
        waiting = "When the test gave up, your code was waiting here:"
        assert result.message.startswith(f"work had not ended after 0.2 s\n{waiting}"), result.message
        assert "await asyncio.Event().wait()" in result.message and ", in work" in result.message
    own = results["test_the_code_s_own_timeout_passes_through"]
    assert own.outcome == "failed" and not own.time_only and "TimeoutError" in own.message, own
    run = with_second_chance(first, target, wall_limit=60, cwd=tmp_path)
    after = {r.test: r for r in run.results}
    if busy:
        assert after["test_hangs_once"].outcome == "passed", after["test_hangs_once"].message
        always = after["test_hangs_every_time"]
        assert always.outcome == "failed" and "run a second time" in always.message, always.message
        assert run.second_runs == 2
    else:
        assert after["test_hangs_once"].outcome == "failed", "idle, a hang is not waited for twice"
        assert run.second_runs == 0


def test_the_self_check_counts_the_tests_that_passed_only_the_second_time_by_file():
    lines = []
    rescued = [
        "tests/14_shutdown.py::test_a",
        "tests/14_shutdown.py::test_a",
        "tests/harness/test_guard.py::test_b",
    ]
    selfcheck.report_rescued(rescued, listed=True, out=lines.append)
    assert lines[0].startswith("3 of them passed the second time"), lines
    assert "14_shutdown.py 2, test_guard.py 1" in lines[0], lines
    assert lines[1:] == ["  2 x tests/14_shutdown.py::test_a", "  1 x tests/harness/test_guard.py::test_b"]
    quiet = []
    selfcheck.report_rescued([], listed=True, out=quiet.append)
    assert quiet == [], "nothing to say when every second run failed again"


def test_a_variant_declares_the_tests_it_fails_for_each_python_its_mistake_trips_others_on():
    """asyncio's own fixes change which tests a mistake trips (wait_for keeps a second cancel from
    3.12): `# fails only from 3.12:` applies from 3.12, the plain line before it."""
    source = "# fails only: test_a, test_b\n# fails only from 3.12: test_b\n"
    assert selfcheck.declared_failures(source, minor=11) == {"test_a", "test_b"}
    assert selfcheck.declared_failures(source, minor=12) == {"test_b"}
    assert selfcheck.declared_failures(source, minor=14) == {"test_b"}
    assert selfcheck.declared_failures("# fails only from 3.13: test_c\n", minor=11) is None
    assert selfcheck.declared_failures('"""Wrong."""\nimport asyncio\n') is None
    gone = "# fails only: test_a\n# fails only from 3.13: none\n"  # Python's own mistake, mended there
    assert selfcheck.declared_failures(gone, minor=12) == {"test_a"}
    assert selfcheck.declared_failures(gone, minor=13) == set()
