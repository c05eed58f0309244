"""Judge mode (issue 15): a submission that forges its verdict from inside earns nothing.

Each forgery in tests/harness/judge_forgeries is an exercise's untouched stub (or a wrong
variant) plus a way to rewrite the verdict that works when the tests and the code share a
process: replacing the plugin's verdict function, rewriting every report to "passed", hiding
that in `exec(bytes.fromhex(...))`, writing the fake service's call log by hand, finding the
fakes on the heap with `gc`, silencing the loop guard. In one
process each one passes tests it should fail (so the attack is real); in judge mode every task
of every one has a failing test, which is 0 points (a task earns its points only when all of
its tests pass). Attacks on judge mode itself are there too: `execs_in_the_judge` reads the
frame of a coroutine the judge lent, and calls the judge's own `exec` through it.
"""

from __future__ import annotations

import contextlib
import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from kata.catalog import REPO_ROOT
from kata.runner import child_env, pytest_command, run_tests, with_second_chance
from tests.harness.alive import alive_with, still_alive_after

# Each test grades a submission in a child pytest run (and a judge mode run starts a sandbox).
pytestmark = pytest.mark.timeout(120)

FORGERIES = Path(__file__).parent / "judge_forgeries"
WALL_LIMIT = 120.0


APPENDED = "# appended to "


def submission(path: Path) -> str:
    """A forgery is what it adds to the file its first line names: the exercise's stub, or a
    variant (so that every forgery starts from that file as it is now)."""
    text = path.read_text()
    first = text.splitlines()[0]
    if not first.startswith(APPENDED):
        return text
    base = first.removeprefix(APPENDED).split(" (")[0]
    base_path = REPO_ROOT / "exercises" / path.name if base == "the exercise's stub" else REPO_ROOT / base
    return base_path.read_text() + "\n\n" + text


def graded(folder: Path, tmp_path: Path, *modes: str):
    (submitted,) = folder.glob("[0-9][0-9]_*.py")
    target = tmp_path / "target"
    target.mkdir()
    (target / submitted.name).write_text(submission(submitted))
    tests = REPO_ROOT / "tests" / f"test_{submitted.name}"
    extra = ("--kata-seed", "5", *modes)
    run = run_tests([tests], target, wall_limit=WALL_LIMIT, extra=extra)
    assert run.results, f"no test ran:\n{run.output[-2000:]}"
    # As grade.py and batch grading judge: a test that failed only on time is run again (the CI at
    # c1d36f2 failed the solution of 02 on a loop frozen 0.12 s "while the machine was busy").
    return with_second_chance(run, target, wall_limit=WALL_LIMIT, extra=extra).results


def batch_graded(students: list[Path], out: Path, *options: str) -> tuple[list[dict], list[dict]]:
    """`grade.py batch` on `students` into `out`: (results.csv rows, gradebook.csv rows)."""
    command = [
        sys.executable,
        "grade.py",
        "batch",
        *map(str, students),
        "--out",
        str(out),
        "--plain",
        *options,
    ]
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"grade.py batch failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    tables = []
    for name in ("results.csv", "gradebook.csv"):
        with (out / name).open(newline="") as rows:
            tables.append(list(csv.DictReader(rows)))
    return tables[0], tables[1]


def tasks_earned(results) -> list[int]:
    tasks: dict[int, bool] = {}
    for result in results:
        tasks[result.task] = tasks.get(result.task, True) and result.outcome == "passed"
    return sorted(task for task, passed in tasks.items() if passed)


FORGERY_NAMES = sorted(p.name for p in FORGERIES.iterdir() if any(p.glob("[0-9][0-9]_*.py")))
# Found by attacking judge mode: `execs_in_the_judge` has nothing to forge in one process, and
# `hides_its_sessions` (22's wrong_session_per_page, its sessions made with an __init__ copied
# before the count began) fooled a count that is now the server's, in both modes; so did
# `hides_its_sessions_per_url` (the same trick on 09's wrong_session_per_url).
AGAINST_THE_JUDGE = {"execs_in_the_judge", "hides_its_sessions", "hides_its_sessions_per_url"}
# Tasks a forgery does right (its forgery is in another task): earned in any mode.
HONEST_TASKS = {"hides_its_sessions": [1, 2], "hides_its_sessions_per_url": [1]}


@pytest.mark.parametrize("forgery", sorted(set(FORGERY_NAMES) - AGAINST_THE_JUDGE))
def test_the_forgery_works_in_one_process(forgery, tmp_path):
    results = graded(FORGERIES / forgery, tmp_path)
    passed = [r.test for r in results if r.outcome == "passed"]
    assert passed, f"{forgery} forges nothing even in one process: not a test of judge mode"


@pytest.mark.parametrize("forgery", FORGERY_NAMES)
def test_the_forgery_earns_nothing_in_judge_mode(forgery, tmp_path):
    results = graded(FORGERIES / forgery, tmp_path, "--kata-judge")
    earned = [task for task in tasks_earned(results) if task not in HONEST_TASKS.get(forgery, [])]
    assert not earned, f"{forgery} earned task(s) {earned} in judge mode: " + "; ".join(
        f"{r.test} {r.outcome}" for r in results
    )


@pytest.mark.load_sensitive
def test_the_solution_still_earns_everything_in_judge_mode(tmp_path):
    solution = tmp_path / "solution"
    solution.mkdir()
    shutil.copyfile(REPO_ROOT / "solutions" / "02_gather.py", solution / "02_gather.py")
    results = graded(solution, tmp_path, "--kata-judge")
    assert tasks_earned(results) == [1, 2], "; ".join(f"{r.test}: {r.message}" for r in results)


@pytest.mark.load_sensitive  # 02's task 2 must pass in judge mode
def test_code_that_ends_its_process_fails_in_plain_words_and_the_next_test_gets_a_fresh_one(tmp_path):
    solution = (REPO_ROOT / "solutions" / "02_gather.py").read_text()
    exits = solution.replace(
        "async def fetch_all(fetch_user, user_ids):",
        "async def fetch_all(fetch_user, user_ids):\n    import os\n\n    os._exit(3)\n",
        1,
    )
    assert exits != solution
    folder = tmp_path / "exits"
    folder.mkdir()
    (folder / "02_gather.py").write_text(exits)
    results = graded(folder, tmp_path, "--kata-judge")
    by_task = {task: [r for r in results if r.task == task] for task in (1, 2)}
    assert all("ended (exit code 3)" in r.message for r in by_task[1]), [r.message for r in by_task[1]]
    assert tasks_earned(results) == [2], "fetch_profile is right: a fresh sandbox must serve its tests"


LEAVES_THREADS = """
import threading

_never = threading.Event()
for _ in range(20):
    threading.Thread(target=_never.wait, daemon=True).start()
"""


def test_every_exercise_gets_a_host_of_its_own(tmp_path):
    """Batch grading runs a submission's exercises in one judge, and what one exercise's code did
    to the process it ran in must end with that exercise: threads it left (a correct 10 that
    started 32 worker threads at each import took the sandbox to its task limit, and three later
    exercises failed with "can't start new thread"), or a host it rewrote (below)."""
    from kata.judge.session import JudgeSession

    folder = tmp_path / "target"
    folder.mkdir()
    first = (REPO_ROOT / "solutions" / "01_coroutines.py").read_text()
    (folder / "01_coroutines.py").write_text(LEAVES_THREADS + first)
    shutil.copy(REPO_ROOT / "solutions" / "02_gather.py", folder / "02_gather.py")
    session = JudgeSession(folder)
    try:
        for _ in range(3):  # three tests of 01, each loading the file afresh
            session.module("01_coroutines")
        host = session.link.process
        assert session.link.process is host, "the tests of one exercise share a host"
        threads_then = session.link.ask("thread_count")
        session.module("02_gather")
        assert session.link.process is not host, "02 was served by the host 01 left 60 threads in"
        assert session.link.ask("thread_count") < threads_then - 50
    finally:
        session.close()


# A red team's 01 (batch grading, 2026-12-05): the reference answer, plus a "warm-up" that walks
# from the object it was lent to the host's own (by a slot name read at run time, through
# string.Formatter, which the scan did not flag) and silences its reports for good.
SILENCES_THE_HOST = """

import string as _string


def _tune(lent):
    try:
        where = "0.%s.exports._objects[0]" % type(lent).__slots__[-1]
        host = _string.Formatter().get_field(where, (lent,), {})[0]
        finish = host.finish

        async def quiet():
            await finish()
            return []

        host.finish = quiet
        host.left_running = list
    except Exception:
        pass


_greet = greet


async def greet(fetch_name, user_id):
    _tune(fetch_name)
    return await _greet(fetch_name, user_id)
"""


@pytest.mark.load_sensitive  # 01 must pass in judge mode
def test_code_that_silences_its_host_cannot_hide_another_exercises_mistakes(tmp_path):
    """The red team's 01 silenced the host that then served 02: 02's loop-blocking answer (which
    only the host's report catches) earned everything, unflagged, though its own file is plain."""
    target = tmp_path / "target"
    target.mkdir()
    (target / "01_coroutines.py").write_text(
        (REPO_ROOT / "solutions" / "01_coroutines.py").read_text() + SILENCES_THE_HOST
    )
    shutil.copy(
        REPO_ROOT / "tests" / "variants" / "02_gather" / "wrong_blocks_the_loop.py", target / "02_gather.py"
    )
    tests = [REPO_ROOT / "tests" / "test_01_coroutines.py", REPO_ROOT / "tests" / "test_02_gather.py"]
    run = run_tests(tests, target, wall_limit=WALL_LIMIT, extra=("--kata-seed", "5", "--kata-judge"))
    first = [r for r in run.results if r.stem == "01_coroutines"]
    second = [r for r in run.results if r.stem == "02_gather"]
    assert first and all(r.outcome == "passed" for r in first), "01 is a correct answer (with its hook)"
    assert second and any(r.outcome != "passed" for r in second), (
        "02 blocks the loop, and passed every test once 01 had silenced the host: "
        + "; ".join(f"{r.test} {r.outcome}" for r in second)
    )


@pytest.mark.load_sensitive  # task 2 must pass under a 2 s limit
def test_code_that_hangs_is_stopped_per_test_and_the_next_test_gets_a_fresh_sandbox(tmp_path):
    solution = (REPO_ROOT / "solutions" / "02_gather.py").read_text()
    hangs = solution.replace(
        "async def fetch_all(fetch_user, user_ids):",
        "async def fetch_all(fetch_user, user_ids):\n    import time\n\n    while True:\n        try:\n"
        "            time.sleep(0.05)\n        except BaseException:\n            pass\n",
        1,
    )
    folder = tmp_path / "hangs"
    folder.mkdir()
    (folder / "02_gather.py").write_text(hangs)
    results = graded(folder, tmp_path, "--kata-judge", "--timeout", "2")
    assert all(r.outcome != "passed" for r in results if r.task == 1)
    assert tasks_earned(results) == [2], "; ".join(f"{r.test}: {r.message[:120]}" for r in results)


@pytest.mark.parametrize("mode", [(), ("--kata-judge",)], ids=["one_process", "judge_mode"])
def test_code_that_waits_for_ever_is_told_where_it_waits_in_both_modes(tmp_path, mode):
    """A deadlock (a learner trial's crawl held a semaphore's slot while waiting for its children)
    is a timeout with none of the code running: one process named the line it waited at, judge
    mode said none of the code was running or waiting."""
    solution = (REPO_ROOT / "solutions" / "02_gather.py").read_text()
    waits = solution.replace(
        "async def fetch_all(fetch_user, user_ids):",
        "async def fetch_all(fetch_user, user_ids):\n    await asyncio.Event().wait()  # nobody sets it",
        1,
    )
    assert waits != solution and "import asyncio" in waits
    folder = tmp_path / "waits"
    folder.mkdir()
    (folder / "02_gather.py").write_text(waits)
    results = graded(folder, tmp_path, *mode, "--timeout", "2")
    hung = [r for r in results if r.task == 1 and "did not finish in time" in r.message]
    assert hung, [r.message[:200] for r in results]
    for result in hung:
        assert "your code was waiting here" in result.message, result.message
        assert "await asyncio.Event().wait()" in result.message, result.message


def test_a_learners_line_waiting_for_the_tests_answer_to_a_call_is_waiting_not_running(tmp_path):
    """In judge mode a call of what the tests lend waits for its answer in the calling thread
    (Peer.request). After a timeout a learner trial's 04 poll, stopped in `await check()` there,
    was told its code "had not let the event loop run". A line of theirs inner to that wait (a
    call back from the tests) is running."""
    import traceback

    from kata.remote import peer
    from kata.sandbox.host import learners_places

    learner = str(tmp_path / "04_blocking.py")

    def stack(*entries):
        return [traceback.FrameSummary(file, line, name, lookup_line=False) for file, line, name in entries]

    waiting = stack(
        ("asyncio/events.py", 80, "_run"), (learner, 9, "poll_until_ready"), (peer.__file__, 437, "request")
    )
    assert learners_places(waiting, tmp_path) == ([], [("04_blocking.py", 9, "poll_until_ready")])
    nested = stack(
        *[
            (f, n, name)
            for f, n, name in [
                (learner, 9, "poll_until_ready"),
                (peer.__file__, 437, "request"),
                (learner, 30, "on_result"),
            ]
        ]
    )
    assert learners_places(nested, tmp_path) == (
        [("04_blocking.py", 30, "on_result")],
        [("04_blocking.py", 9, "poll_until_ready")],
    )
    running = stack(("asyncio/events.py", 80, "_run"), (learner, 12, "poll_until_ready"))
    assert learners_places(running, tmp_path) == ([("04_blocking.py", 12, "poll_until_ready")], [])


@pytest.mark.parametrize("mode", [(), ("--kata-judge",)], ids=["one_process", "judge_mode"])
def test_an_error_lost_in_a_callback_is_named_when_the_test_runs_out_of_time_in_both_modes(tmp_path, mode):
    """A learner trial's lambda, handed to call_soon_threadsafe to settle a future, raised NameError
    there (asyncio only logs it): the future stayed pending and the test hung, told only where the
    code waited. The error, and the learner's line that raised it, are named too."""
    solution = (REPO_ROOT / "solutions" / "02_gather.py").read_text()
    lost = solution.replace(
        "async def fetch_all(fetch_user, user_ids):",
        "async def fetch_all(fetch_user, user_ids):\n"
        "    future = asyncio.get_running_loop().create_future()\n"
        "    asyncio.get_running_loop().call_soon(lambda: future.set_result(undefined_name))\n"
        "    await future",
        1,
    )
    assert lost != solution and "import asyncio" in lost
    folder = tmp_path / "lost"
    folder.mkdir()
    (folder / "02_gather.py").write_text(lost)
    results = graded(folder, tmp_path, *mode, "--timeout", "2")
    hung = [r for r in results if r.task == 1 and "did not finish in time" in r.message]
    assert hung, [r.message[:200] for r in results]
    for result in hung:
        assert "await future" in result.message, result.message
        assert "Meanwhile, an error was raised in a callback the event loop ran: NameError(" in result.message
        assert "future.set_result(undefined_name)" in result.message, "the line that raised it is shown"


# Learner code that never gives the host's main thread back: in Python (other threads still get
# turns), and in one long C call that keeps every other thread of the process waiting.
SPINS = {
    "spins_in_python": (
        "    while True:\n        try:\n            pass\n        except BaseException:\n            pass\n"
    ),
    "spins_in_one_c_call": "    sum(range(10**15))\n",
}
STARTED_SPINNING = "spinning.flag"


def spinning_submission(folder: Path, how: str) -> Path:
    solution = (REPO_ROOT / "solutions" / "02_gather.py").read_text()
    flag = folder / STARTED_SPINNING
    spins = solution.replace(
        "async def fetch_all(fetch_user, user_ids):",
        f"async def fetch_all(fetch_user, user_ids):\n    open({str(flag)!r}, 'w').close()\n{SPINS[how]}",
        1,
    )
    assert spins != solution
    (folder / "02_gather.py").write_text(spins)
    return flag


def hosts_serving(target: Path) -> list[int]:
    return sorted(set(alive_with("kata.sandbox.host")) & set(alive_with(str(target))))


@pytest.mark.parametrize(
    "how",
    [
        "spins_in_python",
        pytest.param(
            "spins_in_one_c_call",
            marks=pytest.mark.skipif(
                not sys.platform.startswith("linux"), reason="only the kernel can end it (PR_SET_PDEATHSIG)"
            ),
        ),
    ],
)
def test_a_sandbox_never_outlives_its_judge_killed_alone(how, tmp_path):
    """The judge is killed by itself (not its group, as a crash or an OOM kill would): the host,
    in a session of its own and busy with the learner's code, must end too. (A runner that stops
    a judge also kills what left its group: tests/harness/test_supervise.py.)"""
    target = tmp_path / "target"
    target.mkdir()
    flag = spinning_submission(target, how)
    tests = REPO_ROOT / "tests" / "test_02_gather.py"
    command = pytest_command([tests], target, tmp_path / "report.jsonl", ("--kata-judge", "--timeout", "300"))
    judge = subprocess.Popen(
        command, cwd=REPO_ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists() and judge.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flag.exists(), "the learner's code never started: nothing to test"
        assert hosts_serving(target), "no sandbox host found while the learner's code runs"
        judge.kill()
        judge.wait()
        left = still_alive_after(str(target), seconds=10)
        assert not left, f"a sandbox host outlived its judge by 10 s: pids {left}"
    finally:
        if judge.poll() is None:
            judge.kill()
            judge.wait()
        for pid in alive_with(str(target)):
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()


@pytest.mark.load_sensitive  # the solution must earn every task
def test_batch_grading_gives_every_forgery_nothing_and_the_solution_everything(tmp_path):
    """`grade.py batch` grades in judge mode: each forgery earns no task but those it does
    honestly; the reference solution earns every task of the same exercises."""
    submissions = tmp_path / "submissions"
    forged: dict[str, str] = {}
    for forgery in FORGERY_NAMES:
        (folder := submissions / forgery).mkdir(parents=True)
        for path in (FORGERIES / forgery).glob("[0-9][0-9]_*.py"):
            (folder / path.name).write_text(submission(path))
            forged[forgery] = path.stem
    stems = sorted(set(forged.values()))
    (solution := submissions / "the_solution").mkdir()
    for stem in stems:
        shutil.copyfile(REPO_ROOT / "solutions" / f"{stem}.py", solution / f"{stem}.py")
    numbers = [stem[:2] for stem in stems]
    students = sorted(submissions.iterdir())
    rows, _ = batch_graded(students, tmp_path / "out", "--exercises", *numbers, "--seed", "5", "--jobs", "2")
    earned: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        tasks = earned.setdefault((row["student"], row["exercise"]), [])
        if row["status"] == "passed":
            tasks.append(int(row["task"]))
    for forgery, stem in forged.items():
        assert earned[(forgery, stem)] == HONEST_TASKS.get(forgery, []), (
            f"{forgery} earned tasks {earned[(forgery, stem)]} of {stem} in batch grading"
        )
    for stem in stems:
        assert earned[("the_solution", stem)], f"the solution earned nothing for {stem}"
    tasks = {
        stem: {task for (student, s), got in earned.items() if s == stem for task in got} for stem in stems
    }
    for stem in stems:
        assert set(earned[("the_solution", stem)]) >= tasks[stem], f"the solution lost a task of {stem}"


REACHES_FOR_THE_JUDGE = """
import os


def _reached():
    judge, reached = os.getppid(), []
    for name in ("environ", "mem", "maps"):
        try:
            with open(f"/proc/{judge}/{name}", "rb") as found:
                found.read(64)
            reached.append(name)
        except OSError:
            pass
    try:
        reached.append(f"descriptors {os.listdir(f'/proc/{judge}/fd')}")
    except OSError:
        pass
    return reached


async def fetch_all(fetch_user, user_ids):
    raise RuntimeError(f"reached: {_reached() or 'nothing'}")
"""


def test_in_batch_grading_the_students_process_cannot_read_the_judges_memory_or_descriptors(tmp_path):
    """The judge shares the submission's sandbox: its memory (the nonce) and descriptors (the
    result pipe) stay out of reach, whether the student's code runs as another uid (root's
    sandbox) or as the same one (a user namespace: the judge is not dumpable)."""
    (student := tmp_path / "submissions" / "reaches").mkdir(parents=True)
    (student / "02_gather.py").write_text(REACHES_FOR_THE_JUDGE)
    rows, _ = batch_graded([student], tmp_path / "out", "--exercises", "02")
    messages = [row["message"] for row in rows if row["task"] == "1"]
    assert messages and "reached: nothing" in messages[0], messages


@pytest.mark.load_sensitive
def test_a_loop_the_learners_code_keeps_frozen_in_the_sandbox_is_broken_there_in_plain_words(tmp_path):
    """18's Progress.wait_until spinning with no `await` freezes the sandbox's loop, which then
    answers nothing: the sandbox's own FrozenLoopBreaker (asked for by the test, through the
    `loop_breaker` fixture) raises the test's sentence inside that code, as in one process,
    instead of leaving each test to its timeout."""
    folder = tmp_path / "spins"
    folder.mkdir()
    variant = REPO_ROOT / "tests" / "variants" / "18_event" / "wrong_busy_wait_blocks_the_loop.py"
    shutil.copyfile(variant, folder / "18_event.py")
    started = time.monotonic()
    results = graded(folder, tmp_path, "--kata-judge")
    waiting = [
        r for r in results if r.test.startswith(("test_each_waiter", "test_one_advance", "test_a_big"))
    ]
    assert len(waiting) == 3, [r.test for r in results]
    assert all(
        r.outcome == "failed" and "wait_until kept the event loop frozen" in r.message for r in waiting
    ), [r.message[:200] for r in waiting]
    assert time.monotonic() - started < 25, "no test was left to its 10 s timeout"


REFUSES_TO_END = """
import asyncio
import os
import threading
import time

os._exit = lambda code: None  # the host's own end (kata.sandbox.host.end_with_the_judge) does nothing
threading.Thread(target=lambda: time.sleep(3600), daemon=False).start()


async def fetch_all(fetch_user, user_ids):
    await asyncio.sleep(3600)
"""


@pytest.mark.load_sensitive  # 02 must end within its time limit
def test_in_batch_grading_the_judge_stops_a_student_process_that_refuses_to_end(tmp_path):
    """After a test times out the judge stops the student's process (another uid, in the same
    sandbox): the test fails on its own timeout, and the exercise's time limit is never reached.
    Found by the red team: without the capability to signal another uid, the judge waited for
    the exercise's time limit."""
    (student := tmp_path / "submissions" / "stays").mkdir(parents=True)
    (student / "02_gather.py").write_text(REFUSES_TO_END)
    options = ("--exercises", "02", "--test-timeout", "2", "--time-limit", "40")
    rows, (grades,) = batch_graded([student], tmp_path / "out", *options)
    messages = [row["message"] for row in rows if row["task"] == "1"]
    assert messages and "did not finish in time" in messages[0], messages
    assert "time limit" not in grades["flags"], (
        f"the judge could not stop the student's process: {grades['flags']}"
    )


TIMER_LEARNER = """
import asyncio

class Ticker:
    def tick(self):
        raise RuntimeError("a timer left by an earlier test fired")

async def start():
    asyncio.get_running_loop().call_later(0.3, Ticker().tick)

async def noop():
    return None
"""

TIMER_TESTS = """
import asyncio

async def test_leaves_a_timer(ex):
    await ex.start()

async def test_later(ex):
    await asyncio.sleep(0.6)
    await ex.noop()
"""


@pytest.mark.parametrize("mode", [(), ("--kata-judge",)], ids=["one_process", "judge_mode"])
@pytest.mark.load_sensitive  # child tests that must pass
def test_a_timer_the_code_left_pending_ends_with_its_test_as_in_one_process(tmp_path, mode):
    """In judge mode one sandbox serves every test (and exercise) of a run: a timer left pending
    must not fire in a later test, as it cannot in one process, where the test's loop is closed."""
    from kata.runner import run_tests
    from tests.harness.test_guard import make_suite

    test_file, target = make_suite(tmp_path, learner=TIMER_LEARNER, tests=TIMER_TESTS)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=mode)
    results = {r.test: r for r in run.results}
    assert results["test_leaves_a_timer"].outcome == "passed", results["test_leaves_a_timer"].message
    assert results["test_later"].outcome == "passed", results["test_later"].message


STUCK_LEARNER = """
import asyncio

async def waits_for_nothing():
    await asyncio.Event().wait()  # nobody sets it
"""

STUCK_TESTS = """
from kata.testing.hang_guard import hang_guard

async def test_gives_up(ex):
    async with hang_guard(0.5, "99 demo: gives up", "waits_for_nothing had not returned after 0.5 s."):
        await ex.waits_for_nothing()
"""


@pytest.mark.parametrize("mode", [(), ("--kata-judge",)], ids=["one_process", "judge_mode"])
def test_a_test_that_gives_up_waiting_says_where_the_code_waits_in_both_modes(tmp_path, mode):
    """A test's own limit (hang_guard) named where the learner's code waited in one process only:
    in judge mode their tasks live in the sandbox, which is now asked."""
    from kata.runner import run_tests
    from tests.harness.test_guard import make_suite

    test_file, target = make_suite(tmp_path, learner=STUCK_LEARNER, tests=STUCK_TESTS)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=mode)
    message = {r.test: r for r in run.results}["test_gives_up"].message
    assert "When the test gave up, your code was waiting here:" in message, message
    assert "target/99_demo.py:5, in waits_for_nothing" in message, message


LATE_LEARNER = """
import asyncio
import time

started = []

async def start_late_call(fetch):
    async def late():
        until = time.monotonic() + 0.15  # holds the loop's thread: in judge mode the call arrives late
        while time.monotonic() < until:
            pass
        await fetch(1)

    started.append(asyncio.create_task(late()))
"""

LATE_TESTS = """
import pytest

from kata.testing import FakeService
from kata.testing.letting_run import let_the_code_run


@pytest.mark.stall_limit(2.0)
async def test_a_call_made_late_is_seen_once_the_code_has_run(ex):
    fetch = FakeService("fetch", delay=0.0)
    await ex.start_late_call(fetch)
    await let_the_code_run(0.01)
    assert fetch.calls, "the call the code had set going was not seen"
"""


@pytest.mark.parametrize("mode", [(), ("--kata-judge",)], ids=["one_process", "judge_mode"])
@pytest.mark.load_sensitive  # child tests that must pass
def test_letting_the_code_run_sees_every_call_it_set_going_in_both_modes(tmp_path, mode):
    """A test that checks something was not done waits first (kata.testing.letting_run). In judge
    mode a fixed sleep in the judge ended before a late call's message arrived (08's prefetch
    check, 01's not-yet-awaited check: a false pass on a busy machine); the wait is now the
    sandbox's own, and its answer comes after every call the code made meanwhile."""
    from tests.harness.test_guard import make_suite

    test_file, target = make_suite(tmp_path, learner=LATE_LEARNER, tests=LATE_TESTS)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=mode)
    result = {r.test: r for r in run.results}["test_a_call_made_late_is_seen_once_the_code_has_run"]
    assert result.outcome == "passed", result.message


LOADS_FOR_EVER = """
import time

time.sleep(1000)


async def greet():
    return "hello"
"""

LOADS_FOR_EVER_TESTS = """
async def test_greets(ex):
    assert await ex.greet() == "hello"
"""


@pytest.mark.parametrize("mode", [(), ("--kata-judge",)], ids=["one_process", "judge_mode"])
def test_a_file_that_hangs_as_it_loads_is_told_the_line_it_was_imported_at_in_both_modes(tmp_path, mode):
    """A file is imported as a test sets up: a hang there said 'none of your code was running or
    waiting' (only a test's own body was looked at), and a timeout there was taken for sys.exit()."""
    from kata.runner import run_tests
    from tests.harness.test_guard import make_suite

    test_file, target = make_suite(tmp_path, learner=LOADS_FOR_EVER, tests=LOADS_FOR_EVER_TESTS)
    extra = [*mode, "--timeout", "2", "--kata-stop-on-hang"]
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=extra)
    message = {r.test: r for r in run.results}["test_greets"].message
    assert "did not finish in time" in message, message
    assert "your file was still being imported, here" in message, message
    assert "target/99_demo.py:4, in <module>" in message, message


THREAD_NAMER = """
import threading


def thread_name():
    return threading.current_thread().name
"""

THREAD_NAME_TESTS = """
def test_from_a_plain_test(ex):
    assert ex.thread_name() == "MainThread"


async def test_from_an_async_test(ex):
    assert ex.thread_name() == "MainThread"
"""


@pytest.mark.parametrize("mode", [(), ("--kata-judge",)], ids=["one_process", "judge_mode"])
@pytest.mark.load_sensitive  # child tests that must pass
def test_the_code_runs_in_a_thread_named_as_in_one_process(tmp_path, mode):
    """The tests call from their main thread, and in one process the learner's plain code runs
    there: what it says of its thread (a RuntimeError's "no current event loop in thread ...")
    read "Thread-2 (_serve_mirror)" or "kata-sandbox-main" in judge mode, the kata's own names."""
    from tests.harness.test_guard import make_suite

    test_file, target = make_suite(tmp_path, learner=THREAD_NAMER, tests=THREAD_NAME_TESTS)
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=mode)
    assert {r.test: r.outcome for r in run.results} == {
        "test_from_a_plain_test": "passed",
        "test_from_an_async_test": "passed",
    }, [r.message for r in run.results]


SETS_A_SIGNAL_HANDLER_AT_IMPORT = """
import asyncio
import signal
import threading

IMPORTED_IN = threading.current_thread() is threading.main_thread()
signal.signal(signal.SIGTERM, signal.getsignal(signal.SIGTERM))  # a correct answer's own handler
READY = asyncio.run(asyncio.sleep(0, result="ready"))


def where_imported():
    return IMPORTED_IN, READY
"""

SETS_A_SIGNAL_HANDLER_TESTS = """
def test_from_a_plain_test(ex):
    assert ex.where_imported() == (True, "ready")


async def test_from_an_async_test(ex):
    assert ex.where_imported() == (True, "ready")
"""


@pytest.mark.parametrize("mode", [(), ("--kata-judge",)], ids=["one_process", "judge_mode"])
@pytest.mark.load_sensitive  # child tests that must pass
def test_a_file_that_sets_a_signal_handler_or_runs_a_loop_at_import_loads_in_both_modes(tmp_path, mode):
    """In one process a file is imported in Python's main thread, with no loop running there:
    a correct answer that set a signal handler at import (signal.signal) raised "signal only
    works in main thread of the main interpreter" in judge mode only (a learner trial's), where
    the file was imported in a thread of the host named MainThread."""
    from tests.harness.test_guard import make_suite

    test_file, target = make_suite(
        tmp_path, learner=SETS_A_SIGNAL_HANDLER_AT_IMPORT, tests=SETS_A_SIGNAL_HANDLER_TESTS
    )
    run = run_tests([test_file], target, wall_limit=60, cwd=tmp_path, extra=mode)
    assert {r.test: r.outcome for r in run.results} == {
        "test_from_a_plain_test": "passed",
        "test_from_an_async_test": "passed",
    }, [r.message for r in run.results]


@pytest.mark.load_sensitive  # a stall makes a failure one on time
def test_a_test_after_a_change_of_exercise_is_set_up_on_the_host_its_code_runs_in(tmp_path):
    """Each exercise gets a host of its own, and a test's fixtures ask things of the host before the
    learner's module is loaded (the loops to keep until the test ends, say). Chosen only when the
    module was asked for, the new host missed them: 06's first test after 05, on a wrong answer
    that leaves its loops open, was told a loop was never closed (the self-check, in CI)."""
    target = tmp_path / "target"
    target.mkdir()
    shutil.copy(REPO_ROOT / "solutions" / "05_errors.py", target / "05_errors.py")
    never_closed = REPO_ROOT / "tests" / "variants" / "06_run_from_sync" / "wrong_never_closed.py"
    shutil.copy(never_closed, target / "06_run_from_sync.py")
    tests = [REPO_ROOT / "tests" / "test_05_errors.py", REPO_ROOT / "tests" / "test_06_run_from_sync.py"]
    run = run_tests(tests, target, wall_limit=WALL_LIMIT, extra=("--kata-seed", "5", "--kata-judge"))
    # A failure on time of the reference 05 is the machine's load (CI runs this beside the self-check).
    failed = {r.test for r in run.results if r.outcome != "passed" and not r.time_only}
    assert failed == {
        "test_its_event_loop_is_closed_when_it_returns",
        "test_the_loop_stays_open_until_close",
    }, [f"{r.test}: {r.message[:150]}" for r in run.results if r.outcome != "passed"]
