"""What `grade.py batch` prints and flags, in words an instructor reads: counts in the right
number, and who ended a test process (the student's code, or the grader at a time limit)."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from rich.console import Console

from kata import cli, reaping
from kata.batch import command
from kata.batch.reports import StudentResult
from kata.catalog import REPO_ROOT
from kata.sandbox import Jail, processes


def printed(students: list[StudentResult]) -> str:
    out = io.StringIO()
    command.summary(students, [], Console(file=out, width=200), command.Path("grades"))
    return out.getvalue()


def test_counts_are_singular_for_one_and_plural_otherwise():
    one = StudentResult("ann", [], ["a flag"], 1.0)
    assert "1 submission flagged for a look" in printed([one])
    assert "2 submissions flagged for a look" in printed([one, StudentResult("bob", [], ["x", "y"], 1.0)])
    assert ", 1 flag," in command._line(1, 1, one, cached=False)
    assert ", 2 flags," in command._line(1, 1, StudentResult("bob", [], ["x", "y"], 1.0), cached=False)


def test_a_time_limit_kill_says_the_grader_stopped_the_tests_not_that_the_student_ended_them():
    """`ended the test process: 03_create_task: the exercise's time limit (3 s) was up` read as if
    the student's code had ended it."""
    seconds = 3.0
    note = f"03_create_task: the exercise's time limit ({seconds:g} s) was up"  # as kata.batch.isolation
    assert command._ended(note) == (
        "03_create_task: the exercise's time limit (3 s) was up, and the grader stopped its tests"
    )
    ended = "02_gather: not passed: the test process ended while this test ran (exit code 0) (test_x)"
    assert command._ended(ended) == f"ended the test process: {ended}"


# ---------------------------------------------------------------------------- Ctrl-C


@pytest.mark.parametrize(
    ("stopped", "said"),
    [
        (KeyboardInterrupt(), "stopped before any student was graded; no gradebook was written"),
        (command.Stopped(0), "stopped before any student was graded; no gradebook was written"),
        (command.Stopped(1), "stopped; the gradebook holds the 1 student graded so far"),
        (command.Stopped(3), "stopped; the gradebook holds the 3 students graded so far"),
    ],
)
def test_ctrl_c_says_whether_a_gradebook_was_written(monkeypatch, capsys, tmp_path, stopped, said):
    """Ctrl-C before any student was graded said `the gradebook holds the students graded so
    far`, and there was no gradebook."""

    def interrupted(*_):
        raise stopped

    monkeypatch.setattr(command, "run", interrupted)
    assert cli.batch([str(tmp_path), "--out", str(tmp_path / "out")]) == 130
    assert capsys.readouterr().err.strip() == f"grade.py batch: {said}"


@pytest.mark.load_sensitive
def test_stopping_ends_the_running_children_at_once_and_starts_no_more(tmp_path, monkeypatch):
    def slow(*_, **__) -> Jail:
        return Jail(subprocess.Popen(["sleep", "60"], start_new_session=True))

    monkeypatch.setattr(command.Sandbox, "start", slow)
    chosen = command.Sandbox("none", why="a reason")
    sandbox = command.StoppableSandbox.around(chosen)
    assert (sandbox.kind, sandbox.why) == ("none", "a reason"), "everything else is the sandbox's own"
    jails = [sandbox.start(), sandbox.start()]
    started = time.monotonic()
    assert sandbox.stop() is True
    for jail in jails:
        assert reaping.wait_unreaped(jail.process, 5), "the child was not ended"
        jail.kill()  # what its grading thread does next
        assert jail.process.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5
    with pytest.raises(command.GradingStopped):
        sandbox.start()
    assert sandbox.stop() is False, "nothing running"


@pytest.mark.parametrize(
    ("stop", "code", "said"),
    [(signal.SIGINT, 130, "stopped;"), (signal.SIGTERM, 143, "stopped (SIGTERM);")],
    ids=["ctrl-c", "sigterm"],
)
@pytest.mark.load_sensitive  # a grading child within 1 s, an exit within 5 s
def test_ctrl_c_or_sigterm_during_a_grading_stops_it_at_once_says_so_and_leaves_nothing(
    tmp_path, stop, code, said
):
    """With one student graded and another hanging, the batch took 9.8 s to exit after SIGINT,
    saying nothing: it waited for the running grading to finish. SIGTERM (a CI job cancelled, a
    `timeout`) killed it on the spot, leaving its copy of the course in the temporary folder."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    for student, head in (("ann", ""), ("bob", "import time\ntime.sleep(1000)\n")):
        (tmp_path / student).mkdir()
        stub = (REPO_ROOT / "exercises" / "01_coroutines.py").read_text()
        (tmp_path / student / "01_coroutines.py").write_text(head + stub)
    out = tmp_path / "out"
    argv = [
        sys.executable,
        str(REPO_ROOT / "grade.py"),
        "batch",
        str(tmp_path / "ann"),
        str(tmp_path / "bob"),
    ]
    argv += ["--out", str(out), "-j", "1", "--exercises", "01", "--time-limit", "60"]
    env = {**os.environ, "TMPDIR": str(temporary)}
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as grader:
        try:
            lines = []
            for line in grader.stdout:
                lines.append(line)
                if line.startswith("[1/2] ann"):
                    break
            assert lines and lines[-1].startswith("[1/2] ann"), "".join(lines)
            time.sleep(1.0)  # bob's grading is under way
            children = [m.pid for m in processes.descendants(grader.pid) if m.pid != grader.pid]
            assert children, "bob's grading runs in a child"
            assert list(temporary.glob("kata-course-*")), "the course is copied into TMPDIR"
            sent = time.monotonic()
            grader.send_signal(stop)
            rest = grader.stdout.read()
            grader.wait(30)
            seconds = time.monotonic() - sent
        finally:
            if grader.poll() is None:
                grader.kill()
    assert grader.returncode == code, rest
    assert seconds < 5, f"{seconds:.1f} s from {stop.name} to exit"
    assert "stopping: ending the running gradings" in rest, rest
    assert f"{said} the gradebook holds the 1 student graded so far" in rest, rest
    assert "Traceback" not in rest
    alive = [pid for pid in children if _running(pid)]
    assert not alive, f"left running: {alive}"
    assert not list(temporary.iterdir()), f"left in TMPDIR: {sorted(p.name for p in temporary.iterdir())}"
    with (out / "gradebook.csv").open() as gradebook:
        assert [row["student"] for row in csv.DictReader(gradebook)] == ["ann"]


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="a signal aimed at one thread: POSIX only")
@pytest.mark.load_sensitive  # a wait woken within 1 s
def test_a_ctrl_c_the_kernel_hands_to_a_grading_thread_still_stops_the_wait_at_once():
    """The kernel may deliver a Ctrl-C to any thread, and Python runs its handler in the main
    thread only. Waiting with concurrent.futures.as_completed, the main thread slept on until the
    grading of a hanging student ended (the Ctrl-C test above failed so under load)."""
    release = threading.Event()
    sent = []

    def grading():
        time.sleep(0.3)  # the main thread is waiting by now
        sent.append(time.monotonic())
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # the kernel chose this thread
        release.wait(10)

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(grading)
        try:
            with pytest.raises(KeyboardInterrupt):
                list(command.as_they_finish([future]))
            waited = time.monotonic() - sent[0]
        finally:
            release.set()
    assert waited < 5 * command.WAKE_EVERY, f"the Ctrl-C was seen {waited:.1f} s after it came"


@pytest.mark.load_sensitive  # a 0.2 s gap between two jobs
def test_the_gradings_are_given_as_they_finish_each_once():
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(time.sleep, delay) for delay in (0.3, 0.0, 0.1)]
        finished = list(command.as_they_finish(futures))
    assert sorted(map(id, finished)) == sorted(map(id, futures))
    assert finished[-1] is futures[0], "the slowest is given last"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize(
    ("how", "kept"),
    [("passed", True), ("failed", True), ("failed_on_time", False), ("stopped_at_the_time_limit", False)],
)
def test_a_grading_that_may_owe_a_lost_point_to_the_machine_is_not_cached(tmp_path, monkeypatch, how, kept):
    """A red team saw it: a test that failed only on time (its second run too), on a machine
    someone else was loading, was cached, and every later run into that --out kept the load's
    verdict (\"unchanged: not graded again\"). Now such a student is graded again next time."""
    from kata.batch.cache import Cache, Graded
    from kata.batch.points import load_points
    from kata.batch.submissions import Submission
    from kata.catalog import discover
    from kata.report import TestResult

    course = [e for e in discover() if e.stem == "01_coroutines"]
    result = TestResult("01::test_x", "01_coroutines", "test_x", 1)
    flags = []
    if how != "passed":
        result.outcome = "failed"
        result.time_only = how == "failed_on_time"
    if how == "stopped_at_the_time_limit":
        flags.append(command._ended("01_coroutines: the exercise's time limit (3 s) was up"))
    batch = command.Batch(
        course, [result], load_points(exercises=course), None, tmp_path, "context", Cache(tmp_path)
    )
    monkeypatch.setattr(batch, "_run", lambda files, present, wanted: Graded(wanted, [result], flags))
    submission = Submission("ann", tmp_path / "ann", {"01_coroutines": b"pass\n"}, [])
    _, fresh = batch.grade(submission)
    assert (fresh is not None) is kept, f"{how}: cached {fresh is not None}, expected {kept}"
