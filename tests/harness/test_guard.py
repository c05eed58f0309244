"""Every test runs guarded: the classic async mistakes fail with plain words.

One child pytest run (through kata.runner, as the grader runs it) tests a learner
file full of mistakes; each test here checks the verdict on one of them.
"""

import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kata.runner import run_tests

# These tests start child pytest runs; on a loaded 2-core machine a child's start-up
# alone can take seconds, so the 10 s per-test limit would fail them for the wrong reason.
pytestmark = pytest.mark.timeout(90)

LEARNER = """
import asyncio, time
import aiohttp

async def blocks():
    time.sleep(0.3)

async def blocks_in_a_wait():
    quiet = __import__("socket").socket(2, 2); quiet.bind(("127.0.0.1", 0)); quiet.settimeout(0.3)
    with __import__("contextlib").suppress(OSError): quiet.recv(1)  # a socket's wait: not named
    quiet.close()  # no thread of its own: Executor.map's left one, and the machine looked busy

async def leaves_a_pool_while_its_job_runs():
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        asyncio.get_running_loop().run_in_executor(pool, time.sleep, 0.3)  # never awaited: the exit waits

async def naps(fetch):
    from time import sleep
    results = []
    for n in (1, 2, 3):
        sleep(0.005)  # "be polite": 15 ms in all, far below the guard's limit
        results.append(await fetch(n))
    return results

async def loops_without_awaiting(fetch):
    for next_done in asyncio.as_completed([fetch(1), fetch(2)]):
        pass

async def sleeps_in_a_thread():
    await asyncio.to_thread(time.sleep, 0.02)

async def leaks_a_task():
    asyncio.create_task(asyncio.sleep(5))

async def waits_long():
    await asyncio.sleep(5)

async def leaks_a_call(fetch):
    asyncio.create_task(fetch(1))
    await asyncio.sleep(0)

async def loses_an_error():
    async def fail():
        raise ValueError("lost")
    asyncio.create_task(fail())
    await asyncio.sleep(0.01)

KEPT = []

async def loses_an_error_of_a_task_kept_alive():
    async def fail():
        raise ValueError("kept")
    KEPT.append(asyncio.create_task(fail()))  # something keeps the task: it is not freed in the test
    await asyncio.sleep(0.01)

async def leaks_a_task_made_without_the_factory():
    asyncio.Task(asyncio.sleep(5))  # skips the loop's task factory: seen at its first step
    await asyncio.sleep(0)

async def loses_an_error_of_a_task_made_without_the_factory():
    async def fail():
        raise ValueError("unmade")
    KEPT.append(asyncio.Task(fail()))
    await asyncio.sleep(0.01)

async def loses_an_error_under_a_factory_of_its_own():
    loop = asyncio.get_running_loop()
    loop.set_task_factory(None)  # the guard's factory gone
    async def fail():
        raise ValueError("own factory")
    KEPT.append(loop.create_task(fail()))
    await asyncio.sleep(0.01)

async def loses_an_error_in_a_kept_gather():
    async def fail():
        raise ValueError("gathered")
    KEPT.append(asyncio.gather(fail()))  # the gather reads its task's error; its own is lost
    await asyncio.sleep(0.01)

async def loses_an_error_in_a_kept_executor_future():
    def fail():
        raise ValueError("in a thread")
    KEPT.append(asyncio.get_running_loop().run_in_executor(None, fail))
    await asyncio.sleep(0.05)

async def loses_a_futures_error():
    future = asyncio.get_running_loop().create_future()
    future.set_exception(KeyError("nobody waits"))
    del future
    await asyncio.sleep(0)

async def never_awaits(fetch):
    fetch(1)

async def forgets_to_await_a_sleep():
    asyncio.sleep(0.01)

async def leaves_session_open(url):
    session = aiohttp.ClientSession()
    async with session.get(url) as response:
        return await response.text()

async def closes_its_session(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return await response.text()

async def patches_the_clock():
    time.perf_counter = lambda: 0.0

async def forgets_an_await(fetch):
    user = fetch(1)
    return user["name"]

def not_written(x):
    raise NotImplementedError

def spins():
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        pass

async def spins_in_async_code():
    spins()

async def waits_for_a_computing_thread():
    import _thread, threading
    # Its wait is a lock's, in C, made past threading (threading's Lock and Thread.join are named).
    done = _thread.allocate_lock(); done.acquire()
    threading.Thread(target=lambda: (spins(), done.release())).start()
    done.acquire()

async def blocks_then_is_late(fetch):
    time.sleep(0.3)
    return await fetch(1)

async def fine(fetch):
    return await asyncio.gather(fetch(1), fetch(2))

async def says_its_loop_froze():
    raise RuntimeError("the event loop was frozen for 0.50 s: not really")

async def says_it_timed_out():
    raise RuntimeError("Timeout (>1.0s) from pytest-timeout.")

async def raises_inside(fetch):
    users = await asyncio.gather(fetch(1), fetch(2))
    return index_by(users)

def index_by(users):
    return {users: 1}
"""

TESTS = """
import asyncio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from kata.testing import FakeService

async def test_blocking(ex):
    await ex.blocks()

@pytest.mark.stall_limit(1.0)
async def test_blocking_allowed_by_marker(ex):
    await ex.spins_in_async_code()

async def test_short_sleeps(ex):
    await ex.naps(FakeService("fetch", delay=0))

async def test_as_completed_not_awaited(ex):
    await ex.loops_without_awaiting(FakeService("fetch", delay=0))

async def test_sleep_in_a_thread(ex):
    await ex.sleeps_in_a_thread()

async def test_leak(ex):
    await ex.leaks_a_task()

async def test_fails_while_its_own_task_runs(ex):
    asyncio.create_task(ex.waits_long())
    await asyncio.sleep(0)
    raise AssertionError("the test's own verdict")

async def test_fails_after_the_code_leaked(ex):
    await ex.leaks_a_task()
    raise AssertionError("the test's own verdict")

async def test_leaked_call_of_a_fake(ex):
    await ex.leaks_a_call(FakeService("fetch_user", delay=5))

async def test_lost_error(ex):
    await ex.loses_an_error()

async def test_lost_error_of_a_task_kept_alive(ex):
    await ex.loses_an_error_of_a_task_kept_alive()

async def test_leak_past_the_factory(ex):
    await ex.leaks_a_task_made_without_the_factory()

async def test_lost_error_past_the_factory(ex):
    await ex.loses_an_error_of_a_task_made_without_the_factory()

async def test_lost_error_under_own_factory(ex):
    await ex.loses_an_error_under_a_factory_of_its_own()

async def test_lost_error_in_a_kept_gather(ex):
    await ex.loses_an_error_in_a_kept_gather()

async def test_lost_error_in_a_kept_executor_future(ex):
    await ex.loses_an_error_in_a_kept_executor_future()

async def test_lost_error_of_a_future(ex):
    await ex.loses_a_futures_error()

async def test_never_awaited(ex):
    await ex.never_awaits(FakeService("fetch_user", delay=0))

async def serve():
    app = web.Application()
    async def hello(request):
        return web.Response(text="hi")
    app.router.add_get("/", hello)
    return TestServer(app, host="127.0.0.1")

async def test_unclosed_session(ex):
    async with await serve() as server:
        await ex.leaves_session_open(str(server.make_url("/")))

async def test_closed_session(ex):
    async with await serve() as server:
        assert await ex.closes_its_session(str(server.make_url("/"))) == "hi"

async def test_patched_clock(ex):
    await ex.patches_the_clock()

async def test_forgotten_await(ex):
    await ex.forgets_an_await(FakeService("fetch_user", delay=0))

def test_not_written(ex):
    ex.not_written(1)

def test_function_renamed_away(ex):
    ex.renamed_away(1)

async def test_blocked_and_failed(ex):
    from kata.testing import margins
    await ex.blocks_then_is_late(FakeService("fetch", delay=0))
    if margins.over(0.5, 0.2, "99 demo: late"):
        raise AssertionError("a timing check failed")

async def test_blocked_and_wrong(ex):
    assert await ex.blocks_then_is_late(FakeService("fetch", delay=0)) == 2, "a wrong result"

async def test_fine(ex):
    assert await ex.fine(FakeService("fetch", delay=0.01)) == [1, 2]

async def gather_users(ex):
    return await ex.fine(FakeService("fetch", delay=0))

async def test_wrong_answer_through_a_helper(ex):
    assert await gather_users(ex) == [2, 1], "the users came back in the wrong order"

async def test_asyncio_sleep_never_awaited(ex):
    await ex.forgets_to_await_a_sleep()

def test_sync_never_awaited(ex):
    ex.never_awaits(FakeService("fetch_user", delay=0))

def test_seed_is_used(rng, seed):
    print("SEED", seed, rng.random())

async def test_learner_error(ex):
    await ex.raises_inside(FakeService("fetch", delay=0))

async def test_learner_error_in_the_guards_words(ex):
    await ex.says_its_loop_froze()

async def test_learner_error_in_the_timeouts_words(ex):
    await ex.says_it_timed_out()

async def test_verdict_on_an_error_of_the_code(ex):
    try:
        await ex.raises_inside(FakeService("fetch", delay=0))
    except TypeError as error:
        raise AssertionError("the users could not be indexed") from error

async def test_timing_bound(ex, quiet_machine):
    from kata.testing import margins
    if margins.over(0.5, 0.2, "99 demo bound"):
        raise AssertionError("took too long")

async def test_timing_bound_on_a_busy_machine(ex, busy_machine):
    from kata.testing import margins
    if margins.over(0.5, 0.2, "99 demo bound"):
        raise AssertionError("took too long")

# Whether the machine is busy (kata.testing.stall_cause), told, not measured: the loop thread's own
# figures are real. A blocking call sleeps however loaded the machine really is.
@pytest.fixture
def quiet_machine(monkeypatch):
    from kata.testing import stall_cause
    monkeypatch.setattr(stall_cause, "machine_busy", lambda: False)

@pytest.fixture
def busy_machine(monkeypatch):
    from kata.testing import stall_cause
    monkeypatch.setattr(stall_cause, "machine_busy", lambda: True)

@pytest.fixture
def unknown_machine(monkeypatch, quiet_machine):
    from kata.testing import stall_cause
    monkeypatch.setattr(stall_cause, "mark", lambda **_: stall_cause.Mark(None))

async def test_blocking_on_a_quiet_machine(ex, quiet_machine):
    await ex.blocks_in_a_wait()

async def test_blocking_on_a_busy_machine(ex, busy_machine):
    await ex.blocks_in_a_wait()

async def test_leaving_a_pool_while_its_job_runs(ex):
    await ex.leaves_a_pool_while_its_job_runs()

async def test_blocking_where_the_machine_cannot_be_read(ex, unknown_machine):
    await ex.blocks_in_a_wait()

async def test_spinning_on_a_quiet_machine(ex, quiet_machine):
    await ex.spins_in_async_code()

async def test_waiting_for_a_computing_thread(ex, quiet_machine):
    await ex.waits_for_a_computing_thread()

async def test_blocked_and_late_on_a_quiet_machine(ex, quiet_machine):
    from kata.testing import margins
    await ex.blocks_in_a_wait()
    if margins.over(0.5, 0.2, "99 demo bound"):
        raise AssertionError("took too long")

def test_zz_the_loops_of_the_tests_before_are_let_go():
    # Last in the file: every test above ran on a loop of its own, now closed.
    import gc
    gc.collect()
    kept = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_closed()]
    assert len(kept) <= 1, f"{len(kept)} closed loops of earlier tests are still kept"
"""


def make_suite(folder: Path, learner: str = LEARNER, tests: str = TESTS) -> tuple[Path, Path]:
    """A tiny kata: pyproject with the kata's pytest settings, one test file, one target."""
    root = Path(__file__).resolve().parents[2]
    (folder / "pyproject.toml").write_text((root / "pyproject.toml").read_text())
    (folder / "conftest.py").write_text('pytest_plugins = ["kata.plugin"]\n')
    (folder / "tests").mkdir()
    (folder / "tests" / "test_99_demo.py").write_text(textwrap.dedent(tests))
    (folder / "target").mkdir()
    (folder / "target" / "99_demo.py").write_text(textwrap.dedent(learner))
    return folder / "tests" / "test_99_demo.py", folder / "target"


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("guarded")
    test_file, target = make_suite(folder)
    run = run_tests([test_file], target, wall_limit=60, cwd=folder, extra=["--kata-seed", "1234"])
    return {r.test: r for r in run.results}


@pytest.mark.parametrize(
    ("test", "words"),
    [
        ("test_blocking", "the event loop was frozen for 0.3"),
        ("test_leak", "1 task was still running after your code had finished: sleep"),
        ("test_leaked_call_of_a_fake", "1 task was still running after your code had finished: fetch_user."),
        ("test_lost_error", "a task failed with ValueError('lost') and nobody awaited it"),
        # asyncio says so only when the task is freed: one that something keeps is found ended.
        ("test_lost_error_of_a_task_kept_alive", "a task failed with ValueError('kept') and nobody awaited"),
        # A task made as `asyncio.Task(coro)`, or after the code set the loop's task factory, skips
        # the guard's factory: seen as the loop runs it (kata.testing.loop_runs).
        ("test_leak_past_the_factory", "1 task was still running after your code had finished: sleep"),
        ("test_lost_error_past_the_factory", "a task failed with ValueError('unmade') and nobody"),
        ("test_lost_error_under_own_factory", "a task failed with ValueError('own factory') and nobody"),
        # A future the code keeps is freed after the test, or never: its lost error is looked for.
        ("test_lost_error_in_a_kept_gather", "a future ended with ValueError('gathered') and nobody"),
        ("test_lost_error_in_a_kept_executor_future", "a future ended with ValueError('in a thread') and"),
        # Not a task: "a task failed" misled a learner whose cache set an exception on a future.
        ("test_lost_error_of_a_future", "a future ended with KeyError('nobody waits') and nobody awaited it"),
        ("test_never_awaited", "you called fetch_user() but never awaited it"),
        ("test_sync_never_awaited", "you called never_awaits() but never awaited it"),
        ("test_asyncio_sleep_never_awaited", "you called asyncio.sleep() but never awaited it"),
        ("test_unclosed_session", "an aiohttp ClientSession was never closed"),
        ("test_patched_clock", "time.perf_counter was replaced while your code ran"),
        ("test_forgotten_await", "an `await` is missing before the call that produced it"),
        ("test_not_written", "`not_written` in target/99_demo.py is not written yet"),
        ("test_function_renamed_away", "target/99_demo.py has no `renamed_away`, which this test calls"),
    ],
)
def test_each_mistake_fails_with_a_plain_words_message(verdicts, test, words):
    assert verdicts[test].outcome == "failed", f"{test} should fail"
    assert words in verdicts[test].message


def test_a_finished_test_lets_its_event_loop_go(verdicts):
    """An item lives as long as the run: one that kept its test's loop (for the message after a
    timeout) kept every loop of the run alive, and each collection of the guard's scanned them all
    (batch grading runs every exercise in one process: 2 ms a collection by the end, not 0.04)."""
    verdict = verdicts["test_zz_the_loops_of_the_tests_before_are_let_go"]
    assert verdict.outcome == "passed", verdict.message


def test_a_wrong_answer_names_where_the_function_the_test_calls_is_defined(verdicts):
    """The tests' own verdict (no error of the learner's to trace) points at the learner's
    function it checks, found through the test's helpers too, as file:line and the def line."""
    message = verdicts["test_wrong_answer_through_a_helper"].message
    assert "the users came back in the wrong order" in message, message
    assert re.search(
        r"what this test calls, in your code:\n\s+target/99_demo\.py:\d+, in fine\n\s+async def fine", message
    ), message


def test_a_failed_test_names_only_the_tasks_the_learners_code_left_running(verdicts):
    """A test that failed before awaiting a task of its own (the learner's function, started by the
    test) did not leak it: only tasks the learner's code made are named."""
    own = verdicts["test_fails_while_its_own_task_runs"].message
    assert "the test's own verdict" in own and "still running" not in own, own
    leaked = verdicts["test_fails_after_the_code_leaked"].message
    assert "Also: 1 task was still running after your code had finished: sleep" in leaked, leaked


def test_a_frozen_loop_leads_the_message_of_a_failed_check(verdicts):
    message = verdicts["test_blocked_and_failed"].message
    assert message.startswith("the event loop was frozen for 0.3"), message
    assert "Because of it, this check failed too: a timing check failed" in message


def test_a_wrong_result_leads_its_message_and_is_not_a_failure_on_time_though_the_loop_froze(verdicts):
    """A freeze cannot make a right answer wrong; a second run must not rescue a wrong result
    (code that blocks on purpose and answers right only when run again)."""
    verdict = verdicts["test_blocked_and_wrong"]
    assert verdict.outcome == "failed" and not verdict.time_only, verdict.message
    assert verdict.message.startswith("AssertionError: a wrong result") or verdict.message.startswith(
        "a wrong result"
    ), verdict.message
    assert "Also: the event loop was frozen for 0.3" in verdict.message, verdict.message


@pytest.mark.load_sensitive  # a child's 0.3 s spin under a 1 s stall limit
def test_a_test_that_fills_the_cpu_on_purpose_can_raise_the_stall_limit(verdicts):
    verdict = verdicts["test_blocking_allowed_by_marker"]
    assert verdict.outcome == "passed", verdict.message


def test_an_error_from_the_learners_code_shows_their_lines_as_python_would(verdicts):
    verdict = verdicts["test_learner_error"]
    first = verdict.message.splitlines()[0]  # Python's own words: 3.14 says more than 3.11 did
    assert first.startswith("TypeError: ") and "unhashable type: 'list'" in first, verdict.message
    lines = verdict.message.splitlines()
    assert lines[1] == "raised here, in your code:", verdict.message
    assert "target/99_demo.py:" in lines[2] and lines[2].endswith(", in raises_inside"), verdict.message
    assert lines[3].strip() == "return index_by(users)", "each place is followed by the line itself"
    assert lines[4].endswith(", in index_by") and lines[5].strip() == "return {users: 1}", verdict.message
    assert "test_99_demo" not in verdict.message, "only the learner's frames, not the tests'"


def test_a_verdict_on_an_error_the_code_raised_points_at_the_line_that_raised_it(verdicts):
    """A test that catches the learner's error and says what it means (`raise AssertionError(...)
    from error`) shows where that error was raised, the line to fix, not where the function is
    defined (learner trials: a Lease whose __aexit__ raised a KeyError was told only that it never
    released, at its `class Lease:` line)."""
    message = verdicts["test_verdict_on_an_error_of_the_code"].message
    assert "the users could not be indexed" in message, message
    assert re.search(
        r"TypeError\(.*\) was raised here, in your code:\n(.*\n)*\s+target/99_demo\.py:\d+, in index_by\n"
        r"\s+return \{users: 1\}",
        message,
    ), message
    assert "what this test calls" not in message, message


@pytest.mark.load_sensitive  # a stall in the child's leak test makes it one on time
def test_only_failures_on_time_are_marked_for_a_second_run(verdicts):
    assert verdicts["test_timing_bound"].time_only, "a broken timing bound"
    assert verdicts["test_blocking_on_a_busy_machine"].time_only, "a frozen loop on a busy machine"
    assert verdicts["test_blocking_where_the_machine_cannot_be_read"].time_only, "cause unknown"
    assert verdicts["test_spinning_on_a_quiet_machine"].time_only, "computing: a slow core?"
    assert verdicts["test_waiting_for_a_computing_thread"].time_only, "that thread may have waited for a core"
    for test in ("test_learner_error", "test_leak", "test_forgotten_await", "test_not_written"):
        assert not verdicts[test].time_only, f"{test} failed for more than time"
    # Only the guards' own findings and pytest-timeout's failure are on time: an error of the
    # code's own in their words is the code's (a red team's earned a second run, and a regrade at
    # every batch run, until a flaky answer passed).
    for test in ("test_learner_error_in_the_guards_words", "test_learner_error_in_the_timeouts_words"):
        assert verdicts[test].outcome == "failed" and not verdicts[test].time_only, verdicts[test].message


def test_a_timing_failure_on_a_busy_machine_says_the_machine_may_be_its_cause(verdicts):
    """A broken timing bound on a busy machine says so, in every test that has one (a learner
    trial's references were told "returned after 0.33 s" at a load of 6-8, not a word of the
    machine); on a quiet machine nothing is added."""
    busy = verdicts["test_timing_bound_on_a_busy_machine"]
    assert busy.time_only and busy.message.startswith("took too long"), busy.message
    assert "This machine was busy meanwhile" in busy.message, busy.message
    assert "This machine was busy" not in verdicts["test_timing_bound"].message
    assert "This machine was busy" not in verdicts["test_learner_error"].message, "not a timing failure"


@pytest.mark.load_sensitive  # a measured 0.3 s stall, and a quiet machine
def test_a_loop_asleep_in_a_blocking_call_on_a_quiet_machine_gets_no_second_run(verdicts):
    verdict = verdicts["test_blocking_on_a_quiet_machine"]
    assert verdict.outcome == "failed" and not verdict.time_only, "slept, nothing waiting: the code"
    assert verdict.message.startswith("the event loop was frozen for 0.3"), verdict.message
    assert "asleep in a blocking call" in verdict.message, verdict.message
    late = verdicts["test_blocked_and_late_on_a_quiet_machine"]
    assert late.outcome == "failed" and not late.time_only, "the timing it broke was the block's doing"
    assert late.message.startswith("the event loop was frozen for 0.3"), late.message
    for test in (
        "test_blocking_on_a_busy_machine",
        "test_blocking_where_the_machine_cannot_be_read",
        "test_waiting_for_a_computing_thread",
    ):
        assert "asleep" not in verdicts[test].message, f"{test}: the machine may have caused it"


@pytest.mark.load_sensitive  # the watchdog must look during a 0.3 s stall
def test_a_frozen_loop_names_the_learners_line_that_held_it(verdicts):
    """The heartbeat measures a freeze after it ended; a learner trial's `with ThreadPoolExecutor()`
    block (its exit waits for every thread) was told only "something blocked it". The line the
    loop's thread was in while frozen is named, for any blocking call, whatever the machine."""
    for test in ("test_blocking_on_a_quiet_machine", "test_blocking_on_a_busy_machine"):
        message = verdicts[test].message
        assert "While it was frozen, your code was running here:" in message, message
        assert "target/99_demo.py:10, in blocks_in_a_wait" in message, message
        assert "quiet.recv(1)" in message, "the line itself is shown"


@pytest.mark.load_sensitive  # a measured 0.3 s stall, seen by the watchdog
def test_a_loop_frozen_by_a_pool_s_shutdown_says_so(verdicts):
    """A learner trial's `with ThreadPoolExecutor()` block, left after a cancel while its jobs ran,
    was told to move blocking calls to run_in_executor, which it had done."""
    message = verdicts["test_leaving_a_pool_while_its_job_runs"].message
    assert message.startswith("the event loop was frozen for 0.3"), message
    assert "It was waiting for a pool to shut down" in message, message
    assert "in leaves_a_pool_while_its_job_runs" in message, message
    plain = verdicts["test_blocking_on_a_quiet_machine"].message
    assert "pool" not in plain, "said only where a pool's shutdown was seen"


def test_time_sleep_in_async_code_is_named_with_its_line_however_short_and_gets_no_second_run(verdicts):
    """A call is a fact, not a measurement: 3 sleeps of 5 ms (far below the guard's 0.1 s) fail,
    with the learner's line, and no busy machine can have made them."""
    for test, words in (("test_short_sleeps", "3 times"), ("test_blocking", "frozen for 0.30 s")):
        verdict = verdicts[test]
        assert verdict.outcome == "failed" and not verdict.time_only, verdict.message
        assert "your code called time.sleep in async code" in verdict.message, verdict.message
        assert words in verdict.message and "target/99_demo.py:" in verdict.message, verdict.message
    assert "sleep(0.005)" in verdicts["test_short_sleeps"].message, "the line itself is shown"


@pytest.mark.load_sensitive  # a child suite under the 0.1 s stall limit
def test_time_sleep_in_a_thread_of_its_own_blocks_no_loop(verdicts):
    assert verdicts["test_sleep_in_a_thread"].outcome == "passed", verdicts["test_sleep_in_a_thread"].message


def test_a_loop_over_as_completed_that_never_awaits_is_named_in_the_learners_words(verdicts):
    """Not asyncio's inner `_wait_for_one() (92 times)`, which the learner never wrote (its name
    and place differ between Python versions)."""
    verdict = verdicts["test_as_completed_not_awaited"]
    assert verdict.outcome == "failed" and "_wait_for_one" not in verdict.message, verdict.message
    words = "you looped over asyncio.as_completed(...) but never awaited"
    assert words in verdict.message, verdict.message


@pytest.mark.load_sensitive  # a child suite under the 0.1 s stall limit
def test_correct_code_passes_the_guard(verdicts):
    assert verdicts["test_fine"].outcome == "passed", verdicts["test_fine"].message
    assert verdicts["test_closed_session"].outcome == "passed", verdicts["test_closed_session"].message


def test_a_missing_target_is_a_one_line_usage_error(tmp_path):
    test_file, _ = make_suite(tmp_path)
    run = run_tests([test_file], tmp_path / "nowhere", wall_limit=60, cwd=tmp_path)
    assert run.returncode == 4
    assert "--target" in run.output and "no such directory" in run.output
    assert "Traceback" not in run.output


def test_a_hanging_test_times_out_and_the_run_goes_on(tmp_path):
    tests = """
    import asyncio
    async def test_hangs(ex):
        await asyncio.sleep(60)
    def test_after():
        pass
    """
    test_file, target = make_suite(tmp_path, learner="", tests=tests)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=["--timeout", "1"])
    verdict = {r.test: r for r in run.results}
    assert verdict["test_hangs"].outcome == "failed"
    assert "did not finish in time (1.0s)" in verdict["test_hangs"].message
    assert verdict["test_hangs"].time_only, "a timeout may be a busy machine: it is worth a second run"
    assert verdict["test_after"].outcome == "passed"


def test_under_plain_pytest_a_timeout_says_where_the_learners_code_was_too(tmp_path):
    """Every exercise names `pytest tests/test_NN.py` beside grade.py: a learner trial's hang there
    got pytest-timeout's words and a traceback deep in the selector alone."""
    test_file, target = make_suite(tmp_path, learner=HANGING_LEARNER, tests=HANGING_TESTS)
    command = [sys.executable, "-m", "pytest", str(test_file), "--target", str(target), "--timeout", "1"]
    run = subprocess.run(
        [*command, "-q", "-p", "no:cacheprovider", "-k", "test_waits"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1, run.stdout
    assert "your code" in run.stdout and "this test did not finish in time (1.0s)" in run.stdout, run.stdout
    assert "target/99_demo.py:9, in wait_one" in run.stdout, run.stdout


HANGING_LEARNER = """
import asyncio

async def waits_for_nothing(items):
    never = asyncio.Event()
    await asyncio.gather(*(wait_one(never) for _ in items))

async def wait_one(event):
    await event.wait()

async def spins():
    count = 0
    while True:
        count += 1
"""

HANGING_TESTS = """
async def test_waits(ex):
    await ex.waits_for_nothing([1, 2])

async def test_spins(ex):
    await ex.spins()
"""


def test_a_timeout_says_where_the_learners_code_was_waiting_or_running(tmp_path):
    test_file, target = make_suite(tmp_path, learner=HANGING_LEARNER, tests=HANGING_TESTS)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=["--timeout", "1"])
    verdict = {r.test: r.message for r in run.results}
    waits = verdict["test_waits"]
    assert waits.startswith(
        "this test did not finish in time (1.0s). When it was stopped, your code was waiting"
    )
    assert "target/99_demo.py:9, in wait_one\n    await event.wait()" in waits, waits
    assert "probably" not in waits, "it says what was seen, not a guess"
    spins = verdict["test_spins"]
    assert "your code was running here, and had not let the event loop run" in spins, spins
    assert "in spins" in spins, spins


BUSY_LOOP_LEARNER = """
import asyncio
import time

def _work(loop):
    end = time.perf_counter() + 0.02
    while time.perf_counter() < end:
        pass
    loop.call_soon(_work, loop)

async def callbacks_forever():
    loop = asyncio.get_running_loop()
    loop.call_soon(_work, loop)
    await asyncio.Event().wait()

async def _worker():
    while True:
        end = time.perf_counter() + 0.02
        while time.perf_counter() < end:
            pass
        await asyncio.sleep(0)

async def workers_forever():
    workers = [asyncio.create_task(_worker()) for _ in range(2)]
    await asyncio.Event().wait()
"""

BUSY_LOOP_TESTS = """
async def test_callbacks(ex):
    await ex.callbacks_forever()

async def test_workers(ex):
    await ex.workers_forever()
"""


def test_a_timeout_stops_the_test_even_when_the_alarm_lands_inside_a_callback_or_another_task(tmp_path):
    """Under load the alarm often finds asyncio running a callback or another task's step, not
    asleep in select(): asyncio catches what is raised there, and the test hung until the outer
    kill (a correct answer on a busy machine read as a hang). Here the loop is always busy."""
    test_file, target = make_suite(tmp_path, learner=BUSY_LOOP_LEARNER, tests=BUSY_LOOP_TESTS)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=["--timeout", "1"])
    assert not run.timed_out, f"the run needed the outer kill after {run.seconds:.0f} s: a timeout was lost"
    verdict = {r.test: r for r in run.results}
    for name in ("test_callbacks", "test_workers"):
        assert verdict[name].message.startswith("this test did not finish in time (1.0s)"), verdict[name]
        assert verdict[name].time_only, "a timeout may be a busy machine: it is worth a second run"


UNSTOPPABLE_TESTS = """
import time
def test_ignores_every_interrupt():
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass
def test_after():
    pass
"""


@pytest.mark.load_sensitive  # a 10 s wall limit on a child's start-up
def test_code_that_defeats_the_timeout_is_killed_and_the_running_test_is_named(tmp_path):
    test_file, target = make_suite(tmp_path, learner="", tests=UNSTOPPABLE_TESTS)
    # The wall limit leaves a loaded machine time to start the child and collect both tests.
    run = run_tests([test_file], target, wall_limit=10, cwd=tmp_path, extra=["--timeout", "1"])
    assert run.timed_out and run.seconds < 30
    verdict = {r.test: r for r in run.results}
    assert set(verdict) == {"test_ignores_every_interrupt", "test_after"}
    assert verdict["test_ignores_every_interrupt"].message.startswith(
        "this test was still running when it was stopped"
    )
    assert verdict["test_after"].message.startswith("not run")
    assert all(r.outcome == "failed" for r in verdict.values())


def test_stop_on_hang_gives_up_on_unstoppable_code_three_seconds_after_its_timeout(tmp_path):
    """What grade.py runs with: no waiting for the outer kill, and the next tests are skipped."""
    test_file, target = make_suite(tmp_path, learner="", tests=UNSTOPPABLE_TESTS)
    run = run_tests(
        [test_file], target, wall_limit=60, cwd=tmp_path, extra=["--timeout", "1", "--kata-stop-on-hang"]
    )
    assert not run.timed_out, "the backstop, not the outer kill, should have ended the run"
    verdict = {r.test: r for r in run.results}
    hung = verdict["test_ignores_every_interrupt"]
    assert "did not finish in time" in hung.message and "did not even stop when interrupted" in hung.message
    assert verdict["test_after"].message == (
        "not run: checking stopped after test_ignores_every_interrupt did not finish in time"
    )


def test_stop_on_hang_skips_the_tests_after_a_timeout(tmp_path):
    tests = """
    import asyncio
    async def test_waits_forever():
        await asyncio.Event().wait()
    def test_after():
        pass
    """
    test_file, target = make_suite(tmp_path, learner="", tests=tests)
    run = run_tests(
        [test_file], target, wall_limit=60, cwd=tmp_path, extra=["--timeout", "1", "--kata-stop-on-hang"]
    )
    verdict = {r.test: r for r in run.results}
    assert verdict["test_waits_forever"].message.startswith("this test did not finish in time (1.0s)")
    assert verdict["test_after"].message.startswith("not run: checking stopped after test_waits_forever")


def test_the_seed_replays_the_same_inputs(tmp_path):
    test_file, target = make_suite(tmp_path)
    runs = [
        run_tests(
            [test_file], target, wall_limit=60, cwd=tmp_path, extra=["--kata-seed", "77", "-s", "-k", "seed"]
        )
        for _ in range(2)
    ]
    lines = [next(line for line in run.output.splitlines() if "SEED" in line) for run in runs]
    assert lines[0] == lines[1] and lines[0].startswith("SEED 77 ")


KEEPS_IN_A_GLOBAL = """
import aiohttp

_kept = []

async def keeps_its_session(url):
    session = aiohttp.ClientSession()
    _kept.append(session)  # never closed: only the module's globals hold it
    async with session.get(url) as response:
        return await response.text()

async def fine():
    return 1
"""

KEEPS_TESTS = """
from aiohttp import web
from aiohttp.test_utils import TestServer

async def test_a_session_kept_in_a_global(ex):
    app = web.Application()
    async def hello(request):
        return web.Response(text="hi")
    app.router.add_get("/", hello)
    async with TestServer(app, host="127.0.0.1") as server:
        assert await ex.keeps_its_session(str(server.make_url("/"))) == "hi"

async def test_the_next_test(ex):
    assert await ex.fine() == 1

def test_a_plain_test_after_it(ex):
    assert ex.fine is not None
"""


@pytest.mark.parametrize("mode", [[], ["--kata-judge"]], ids=["one process", "judge mode"])
@pytest.mark.load_sensitive  # child tests that must pass
def test_a_session_kept_in_a_module_global_is_reported_in_the_test_that_made_it(tmp_path, mode):
    """Whatever the Python version's collector does: the module loaded for a test ends with it, so
    what its globals kept is freed, and reported, there (Python 3.15 once reported it in whichever
    later test its collector happened to run in, and only in one process)."""
    test_file, target = make_suite(tmp_path, learner=KEEPS_IN_A_GLOBAL, tests=KEEPS_TESTS)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=["--kata-seed", "1", *mode])
    verdict = {r.test: r for r in run.results}
    kept = verdict["test_a_session_kept_in_a_global"]
    assert kept.outcome == "failed" and "an aiohttp ClientSession was never closed" in kept.message, (
        kept.message
    )
    for later in ("test_the_next_test", "test_a_plain_test_after_it"):
        assert verdict[later].outcome == "passed", f"{later} was blamed: {verdict[later].message}"


KEEPS_MANY = """
import asyncio
import gc

def keep_many():
    asyncio.kept_by_a_test = [[] for _ in range(50_000)]  # alive after the test, in a library

def scanned():
    return len(gc.get_objects())
"""

KEEPS_MANY_TESTS = """
def test_keeps_many(ex):
    ex.keep_many()

def test_scans(ex):
    print("SCANNED", ex.scanned())
"""


@pytest.mark.parametrize("mode", [[], ["--kata-judge"]], ids=["one process", "judge mode"])
@pytest.mark.load_sensitive  # child tests that must pass, one in judge mode
def test_the_guards_collections_scan_only_what_the_test_made(tmp_path, mode):
    """What earlier tests left alive is set aside before the next test begins, in the process that
    runs the learner's code: otherwise every collection of the guard's (four a test) scans it all,
    and a run's later tests pay for its earlier ones."""
    test_file, target = make_suite(tmp_path, learner=KEEPS_MANY, tests=KEEPS_MANY_TESTS)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=["--kata-seed", "1", "-s", *mode])
    assert [r.outcome for r in run.results] == ["passed", "passed"], run.output
    scanned = int(re.search(r"SCANNED (\d+)", run.output).group(1))
    assert scanned < 20_000, f"the second test's collections would scan {scanned} objects"


async def test_a_task_the_kata_runs_a_learners_call_in_is_named_after_the_learners_coroutine():
    """In judge mode the sandbox runs each call from the judge in a task of the kata's own
    (kata.remote.peer); a leftover of that kind must be named as the learner knows it (Cache.get),
    never by the kata's own coroutine (Peer._run_async)."""
    import asyncio

    from kata.testing.cancelling import Run
    from kata.testing.loopguard import _task_name

    class Cache:
        async def get(self, key):
            await asyncio.Event().wait()

    run = Run(Cache().get("x"))  # its task runs the kata's Run._watch, which awaits Cache.get
    await asyncio.sleep(0)
    try:
        assert _task_name(run.task) == "Cache.get", _task_name(run.task)
    finally:
        await run.stop()


THREADS_LEARNER = """
import asyncio, select, selectors, threading, time
from concurrent.futures import ThreadPoolExecutor

POOL = ThreadPoolExecutor(2)
_AT_IMPORT = ThreadPoolExecutor(1)
_AT_IMPORT.submit(int).result()  # its worker is made now, at import, before the test's watch

def _works_on():
    time.sleep(5)

async def _naps():
    await asyncio.sleep(5)

def _fails():
    raise ValueError("in a thread of its own")

def _quick():
    return 1

async def leaves_a_thread_at_work():
    threading.Thread(target=_works_on, daemon=True).start()
    await asyncio.sleep(0)

async def leaves_a_loop_in_a_thread():
    threading.Thread(target=asyncio.run, args=(_naps(),), daemon=True).start()
    await asyncio.sleep(0.05)

async def leaves_a_timer():
    timer = threading.Timer(5, _quick)
    timer.daemon = True
    timer.start()

async def leaves_a_call_in_a_pool():
    POOL.submit(_works_on)

async def loses_an_error_in_a_thread():
    threading.Thread(target=_fails).start()
    await asyncio.sleep(0.05)

async def loses_an_error_in_a_threads_loop():
    async def fails():
        _fails()
    threading.Thread(target=asyncio.run, args=(fails(),)).start()
    await asyncio.sleep(0.05)

def _fails_late():
    time.sleep(1.5)
    raise ValueError("late")

async def leaves_a_thread_that_fails_later():
    threading.Thread(target=_fails_late).start()

def _audits(_future=None):
    time.sleep(1.5)

async def leaves_a_done_callback_behind_a_librarys_sleep():
    pool = ThreadPoolExecutor(1)
    pool.submit(time.sleep, 3).add_done_callback(_audits)  # no function of the code's runs yet
    pool.shutdown(wait=False)

async def leaves_a_scheduler_waiting():
    import sched
    later = sched.scheduler()
    later.enter(3, 0, _audits)
    threading.Thread(target=later.run, daemon=True).start()

async def leaves_a_timer_that_starts_a_thread():
    audit = threading.Thread(target=_audits, daemon=True)
    timer = threading.Timer(3, audit.start)
    timer.daemon = True
    timer.start()

async def gives_work_to_a_pool_made_at_import():
    _AT_IMPORT.submit(_audits)

async def loses_an_error_in_a_pools_future():
    POOL.submit(_fails)
    await asyncio.sleep(0.05)

async def loses_an_error_in_a_threadsafe_future():
    async def fails():
        _fails()
    asyncio.run_coroutine_threadsafe(fails(), _service_loop())
    await asyncio.sleep(0.05)

async def reads_the_error_of_a_pools_future():
    return repr(POOL.submit(_fails).exception())

def _fails_soon():
    time.sleep(0.1)
    _fails()

async def gives_up_on_a_call_in_a_thread():
    try:
        await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(POOL, _fails_soon), 0.01)
    except TimeoutError:
        return "gave up"

def _audits_after_a_timed_wait(wait=threading.Event().wait):
    wait(3)  # a wait with a time limit is a sleep: the audit follows it

def _audits_after_a_timed_acquire(held=threading.Lock()):
    held.acquire(blocking=False)
    held.acquire(timeout=3)  # in C: a futex with a time limit, a sleep

def _audits_after_a_timed_select(selector=selectors.DefaultSelector()):
    selector.select(3)

async def leaves_a_thread_in_a_timed_acquire():
    threading.Thread(target=_audits_after_a_timed_acquire, daemon=True).start()

async def leaves_a_thread_in_a_timed_select():
    threading.Thread(target=_audits_after_a_timed_select, daemon=True).start()

async def leaves_a_thread_in_a_timed_wait():
    threading.Thread(target=_audits_after_a_timed_wait, daemon=True).start()

def plain_leaves_a_thread_at_work():
    threading.Thread(target=_works_on, daemon=True).start()

async def waits_for_its_thread():
    worker = threading.Thread(target=_quick)
    worker.start()
    await asyncio.to_thread(worker.join)

_SERVICE = []

def _service_loop():
    if not _SERVICE:
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        _SERVICE.append(loop)
    return _SERVICE[0]

async def uses_a_loop_kept_in_a_thread():
    future = asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01, result=3), _service_loop())
    return await asyncio.wrap_future(future)

class _OwnSelector(selectors.DefaultSelector):
    # Waits in a function of its own, as Windows' proactor loop does (not in the selectors module);
    # what it uses is bound here, as the module's globals are cleared after each test.
    def select(self, timeout=None, _wait=select.select, _select=selectors.DefaultSelector.select):
        _wait([], [], [], 0.02 if timeout is None else min(timeout, 0.02))
        return _select(self, 0)

_OWN = []

async def uses_a_loop_kept_in_a_thread_that_waits_its_own_way():
    if not _OWN:
        _OWN.append(asyncio.SelectorEventLoop(_OwnSelector()))
        threading.Thread(target=_OWN[0].run_forever, daemon=True).start()
    future = asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01, result=4), _OWN[0])
    return await asyncio.wrap_future(future)

_WAITING = []

async def serves_from_a_loop_that_waits_for_an_event():
    if not _WAITING:
        ready = threading.Event()
        async def serve(box=_WAITING):
            box.append(asyncio.get_running_loop())
            ready.set()
            await asyncio.Event().wait()  # a task for the life of the program, waiting
        threading.Thread(target=asyncio.run, args=(serve(),), daemon=True).start()
        await asyncio.to_thread(ready.wait)  # ready.wait() here would block the test's loop
    future = asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01, result=5), _WAITING[0])
    return await asyncio.wrap_future(future)

def _take_jobs(jobs):
    while True:
        jobs.get()()  # a SimpleQueue waits in C: no frame of the standard library's says so

_JOBS = []

async def uses_workers_of_its_own():
    import queue
    if not _JOBS:
        _JOBS.append(queue.SimpleQueue())
        for _ in range(2):
            threading.Thread(target=_take_jobs, args=(_JOBS[0],), daemon=True).start()
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    _JOBS[0].put(lambda: loop.call_soon_threadsafe(future.set_result, 6))
    return await future

async def uses_a_pool_it_keeps():
    return await asyncio.get_running_loop().run_in_executor(POOL, _quick)

def _audits_on_a_signal(signum, frame):
    raise RuntimeError("audited too late")

async def leaves_a_timer_of_the_process():
    import signal
    signal.signal(signal.SIGALRM, _audits_on_a_signal)
    signal.setitimer(signal.ITIMER_REAL, 2.5)

def plain_leaves_an_alarm():
    import signal
    try:
        signal.signal(signal.SIGALRM, _audits_on_a_signal)
    except ValueError:
        pass  # judge mode runs a plain function in a thread of the sandbox's: no handler from there
    signal.alarm(3)

async def waits_for_its_timer_of_the_process():
    import signal
    loop = asyncio.get_running_loop()
    rang = loop.create_future()
    def ring(signum, frame):
        loop.call_soon_threadsafe(rang.set_result, 7)
    signal.signal(signal.SIGPROF, ring)
    signal.setitimer(signal.ITIMER_PROF, 0.01)  # CPU time: the wait below uses some
    while not rang.done():
        sum(range(10_000))
        await asyncio.sleep(0)
    return await rang
"""

THREADS_TESTS = """
async def test_a_thread_at_work(ex):
    await ex.leaves_a_thread_at_work()

async def test_a_loop_in_a_thread(ex):
    await ex.leaves_a_loop_in_a_thread()

async def test_a_timer(ex):
    await ex.leaves_a_timer()

async def test_a_call_in_a_pool(ex):
    await ex.leaves_a_call_in_a_pool()

async def test_an_error_in_a_thread(ex):
    await ex.loses_an_error_in_a_thread()

async def test_an_error_in_a_threads_loop(ex):
    await ex.loses_an_error_in_a_threads_loop()

async def test_a_thread_that_fails_later(ex):
    await ex.leaves_a_thread_that_fails_later()

async def test_the_test_after_it(ex):
    import asyncio
    await asyncio.sleep(1.0)  # the thread of the test before fails meanwhile

async def test_a_done_callback_behind_a_librarys_sleep(ex):
    await ex.leaves_a_done_callback_behind_a_librarys_sleep()

async def test_a_scheduler(ex):
    await ex.leaves_a_scheduler_waiting()

async def test_a_timer_that_starts_a_thread(ex):
    await ex.leaves_a_timer_that_starts_a_thread()

async def test_a_pool_made_at_import(ex):
    await ex.gives_work_to_a_pool_made_at_import()

async def test_an_error_in_a_pools_future(ex):
    await ex.loses_an_error_in_a_pools_future()

async def test_an_error_in_a_threadsafe_future(ex):
    await ex.loses_an_error_in_a_threadsafe_future()

async def test_a_timed_acquire(ex):
    await ex.leaves_a_thread_in_a_timed_acquire()

async def test_a_timed_select(ex):
    await ex.leaves_a_thread_in_a_timed_select()

async def test_a_timed_wait(ex):
    await ex.leaves_a_thread_in_a_timed_wait()

def test_a_plain_function_leaves_a_thread(ex):
    ex.plain_leaves_a_thread_at_work()

async def test_a_pools_error_read(ex):
    assert await ex.reads_the_error_of_a_pools_future() == "ValueError('in a thread of its own')"

async def test_a_call_given_up_on(ex):
    assert await ex.gives_up_on_a_call_in_a_thread() == "gave up"

async def test_a_joined_thread(ex):
    await ex.waits_for_its_thread()

async def test_a_loop_kept_in_a_thread(ex):
    assert await ex.uses_a_loop_kept_in_a_thread() == 3

async def test_the_kept_loop_again(ex):
    assert await ex.uses_a_loop_kept_in_a_thread() == 3

async def test_a_loop_kept_in_a_thread_that_waits_its_own_way(ex):
    assert await ex.uses_a_loop_kept_in_a_thread_that_waits_its_own_way() == 4

async def test_a_loop_in_a_thread_whose_task_waits(ex):
    assert await ex.serves_from_a_loop_that_waits_for_an_event() == 5

async def test_workers_of_its_own(ex):
    assert await ex.uses_workers_of_its_own() == 6

async def test_a_pool_kept(ex):
    assert await ex.uses_a_pool_it_keeps() == 1

async def test_a_timer_of_the_process(ex):
    await ex.leaves_a_timer_of_the_process()

def test_a_plain_function_leaves_an_alarm(ex):
    ex.plain_leaves_an_alarm()

async def test_after_the_timers_of_the_process(ex):
    import asyncio
    await asyncio.sleep(3.2)  # the timers put out would have gone off by now

async def test_a_timer_of_the_process_waited_for(ex):
    assert await ex.waits_for_its_timer_of_the_process() == 7
"""


@pytest.fixture(scope="module", params=[[], ["--kata-judge"]], ids=["one process", "judge mode"])
def thread_verdicts(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("threads")
    test_file, target = make_suite(folder, learner=THREADS_LEARNER, tests=THREADS_TESTS)
    extra = ["--kata-seed", "1", *request.param]
    run = run_tests([test_file], target, wall_limit=90, cwd=folder, extra=extra)
    return {r.test: r for r in run.results}


@pytest.mark.parametrize(
    ("test", "place"),
    [
        ("test_a_thread_at_work", "in _works_on"),
        ("test_a_loop_in_a_thread", "in _naps"),
        ("test_a_timer", "in _quick"),
        ("test_a_call_in_a_pool", "in _works_on"),
        ("test_a_thread_that_fails_later", "in _fails_late"),
        # No function of the code's on the thread's stack yet: it is at work all the same.
        ("test_a_done_callback_behind_a_librarys_sleep", "ThreadPoolExecutor"),
        ("test_a_scheduler", "(run)"),
        ("test_a_timer_that_starts_a_thread", "Thread"),
        ("test_a_pool_made_at_import", "in _audits"),
        ("test_a_plain_function_leaves_a_thread", "in _works_on"),
        ("test_a_timed_wait", "in _audits_after_a_timed_wait"),
        ("test_a_timed_acquire", "in _audits_after_a_timed_acquire"),
        ("test_a_timed_select", "in _audits_after_a_timed_select"),
    ],
)
@pytest.mark.load_sensitive  # threads of 1.5 s against a 1 s grace
def test_work_left_in_a_thread_of_the_codes_fails_and_names_the_function(thread_verdicts, test, place):
    """No loop of the test's runs it, in one process or in the sandbox: a plain thread, a loop run
    in a thread (`asyncio.run`), a Timer yet to fire, a pool's call nobody waits for."""
    verdict = thread_verdicts[test]
    assert verdict.outcome == "failed", f"{test} passed: its thread's work went unseen"
    assert "still doing its work" in verdict.message and place in verdict.message, verdict.message


@pytest.mark.load_sensitive  # a stall makes any failure one on time
def test_work_left_in_a_thread_is_a_failure_on_time_and_an_error_nobody_read_is_not(thread_verdicts):
    """A busy machine can end a correct answer's thread past the grace (or let it be seen idle
    only then): work left in a thread gets the second run every failure on time gets, and work
    left for good fails that too. An error nobody read is the code's on any machine."""
    left = thread_verdicts["test_a_thread_at_work"]
    assert left.outcome == "failed" and left.time_only, f"not a failure on time: {left.message}"
    for test in ["test_an_error_in_a_thread", "test_an_error_in_a_pools_future"]:
        lost = thread_verdicts[test]
        assert lost.outcome == "failed" and not lost.time_only, f"{test} taken as on time: {lost.message}"


@pytest.mark.parametrize("test", ["test_an_error_in_a_thread", "test_an_error_in_a_threads_loop"])
def test_an_error_that_ends_a_thread_of_the_codes_fails_and_names_its_line(thread_verdicts, test):
    verdict = thread_verdicts[test]
    assert verdict.outcome == "failed", f"{test} passed: the thread's error went unseen"
    words = "A thread your code started ended with an error nobody read: ValueError('in a thread of its own')"
    assert words in verdict.message and "in _fails" in verdict.message, verdict.message


@pytest.mark.parametrize("test", ["test_an_error_in_a_pools_future", "test_an_error_in_a_threadsafe_future"])
def test_an_error_kept_in_a_pools_future_nobody_read_fails(thread_verdicts, test):
    """A concurrent.futures future never says its error was lost: `executor.submit(...)`, and
    `asyncio.run_coroutine_threadsafe(...)`, whose error nobody asked for."""
    verdict = thread_verdicts[test]
    assert verdict.outcome == "failed", f"{test} passed: the future's error went unseen"
    words = "a pool's future ended with ValueError('in a thread of its own') and nobody read it"
    assert words in verdict.message and "in _fails" in verdict.message, verdict.message


@pytest.mark.parametrize(
    "test",
    [
        "test_a_joined_thread",
        "test_a_loop_kept_in_a_thread",
        "test_the_kept_loop_again",
        "test_a_pool_kept",
        "test_the_test_after_it",
        "test_a_pools_error_read",
        "test_a_call_given_up_on",
        "test_a_loop_kept_in_a_thread_that_waits_its_own_way",
        "test_a_loop_in_a_thread_whose_task_waits",
        "test_workers_of_its_own",
    ],
)
@pytest.mark.load_sensitive  # idle threads seen within the 1 s grace
def test_threads_waited_for_or_idle_are_no_leftovers(thread_verdicts, test):
    """A thread joined, a loop kept running in a thread with nothing of the code's left on it, a
    pool's idle workers: nothing of the code's is left running. Nor is a test to blame for the
    error of a thread an earlier test left running (that test has failed for it). A pool's error
    read is none lost, nor is one of a call the code gave up on (asyncio's future, cancelled,
    drops it). A loop with nothing to do is idle however it waits for events (Windows' proactor
    waits outside the selectors module), and so is one whose task waits on an Event; so are
    workers of the code's own blocked on a SimpleQueue (in C: Linux says they sleep in a futex
    and use no CPU)."""
    assert thread_verdicts[test].outcome == "passed", thread_verdicts[test].message


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timers here (Windows)")
@pytest.mark.parametrize(
    ("test", "how", "handler"),
    [
        ("test_a_timer_of_the_process", "signal.setitimer(signal.ITIMER_REAL", "in _audits_on_a_signal"),
        # In judge mode a plain function runs in a thread, where no handler can be set.
        ("test_a_plain_function_leaves_an_alarm", "alarm(...)", ""),
    ],
)
def test_a_timer_of_the_process_left_armed_fails_and_names_its_handler(thread_verdicts, test, how, handler):
    """`signal.setitimer` or `signal.alarm` with a handler of the code's: the handler runs later in
    the main thread, between two lines of whatever runs then (in one process, in the kata's time
    limit's place)."""
    verdict = thread_verdicts[test]
    assert verdict.outcome == "failed", f"{test} passed: its timer of the process went unseen"
    words = "Your code left a timer of the process armed when the test ended"
    assert words in verdict.message and how in verdict.message, verdict.message
    assert handler in verdict.message, verdict.message


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timers here (Windows)")
@pytest.mark.parametrize(
    "test", ["test_after_the_timers_of_the_process", "test_a_timer_of_the_process_waited_for"]
)
@pytest.mark.load_sensitive  # child tests that must pass
def test_timers_of_the_process_put_out_or_waited_for_are_no_leftovers(thread_verdicts, test):
    """The timers a failed test left armed are put out with it (no handler of theirs goes off in
    the next test, the kata's time limit in place again); a timer the code waits for is its work."""
    assert thread_verdicts[test].outcome == "passed", thread_verdicts[test].message
