"""`python grade.py batch SUBMISSION... --out DIR`: grade a class, write a gradebook.

Each submission (a folder or a .zip; the student id is its name) is read without running
anything (kata.batch.submissions), scanned for code worth a second look (kata.batch.scan, in a
child process with a time and a memory limit: kata.batch.scan_process),
and graded by the repository's own tests in isolated children (kata.batch.isolation).
Points come from points.toml (kata.batch.points). Reports (kata.batch.reports):

    DIR/gradebook.csv                     one row per student: points per exercise, total, max, percent, flags
    DIR/results.csv                       one row per student x task
    DIR/students/<student>/results.json   Gradescope's format (and junit.xml with --junit)
    DIR/submission-names.json             each student id with the name its submission was given as

Submissions run in the sandbox chosen at the start (kata.sandbox; one line says which
protections are in force). Only this process writes reports, each atomically, after each
student, so the gradebook is complete for everyone graded so far even if grading is
interrupted or the disk fills up (the run then stops with one line). A student whose files
and everything else a grade depends on are unchanged since the last run is not graded again
(DIR/.cache: authenticated entries, kata.batch.cache).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import statistics
import tempfile
import threading
import time
from collections.abc import Collection, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kata.batch.cache import Cache, Graded, context_digest, fingerprint, remember_seed, remembered_seed
from kata.batch.course import snapshot
from kata.batch.isolation import GraderFailure, Grading, Limits, collect_expected, grade_files
from kata.batch.points import Points, PointsError, load_points, score_tasks
from kata.batch.reports import (
    NAMES_FILE,
    Earlier,
    EarlierReportsError,
    StudentResult,
    read_earlier,
    write_gradebook,
    write_gradescope_json,
    write_junit_xml,
    write_names,
    write_results_csv,
)
from kata.batch.scan_process import scan_in_child
from kata.batch.student_ids import submission_name
from kata.batch.submissions import Submission, distinct_paths, holds_submissions, load_submissions
from kata.catalog import REPO_ROOT, Exercise
from kata.report import TestResult
from kata.sandbox import Jail, Sandbox, choose_sandbox, memory
from kata.sandbox.choose import KINDS, SandboxUnavailable
from kata.words import many

STUDENTS_FOLDER = "students"  # DIR/students/<student>/: no submission name can collide with a report
TAMPERING = "replaced while your code ran"
# kata.batch.isolation's note when an exercise's time limit was up (the grader ended the process)
TIME_LIMIT_NOTE = re.compile(r"\d\d_\w+: the exercise's time limit \([^)]*\) was up")
STOPPED_AT_THE_TIME_LIMIT = ", and the grader stopped its tests"  # ends the flag for such a note


def default_jobs() -> int:
    """Most of a test's time is spent waiting on purpose (fake latency), so two runs per core fit."""
    return max(2, 2 * (os.cpu_count() or 1))


__all__ = ["GraderFailure", "add_arguments", "run"]


class ReportWriteError(Exception):
    """A report could not be written (a full disk, a read-only folder): the batch stops cleanly."""


class Stopped(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM: `terminated`) while students were graded: `graded` of them are in the
    gradebook (0: none is written)."""

    def __init__(self, graded: int, terminated: bool = False) -> None:
        super().__init__(graded)
        self.graded = graded
        self.terminated = terminated


class Terminated(KeyboardInterrupt):
    """SIGTERM, the way a CI job, a time limit (`timeout`), or a service manager ends a batch: it
    stops as a Ctrl-C does (the running gradings ended, the gradebook kept, the course copy in the
    temporary folder removed), where the default action killed it on the spot, leaving the copy."""


@contextlib.contextmanager
def stopping_on_sigterm() -> Iterator[None]:
    """While the batch runs, SIGTERM raises Terminated in the main thread (elsewhere: unchanged)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def stop(_signum: int, _frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class GradingStopped(Exception):
    """No new sandbox is started once the batch is stopping."""


@dataclass
class StoppableSandbox(Sandbox):
    """The batch's sandbox, which remembers what it started, so that Ctrl-C can end every running
    grading at once instead of waiting for each to finish its student. Only the test process is
    killed here: the thread that started it sees it end, kills everything left in its sandbox and
    reaps it (kata.reaping), as after any child that ends; and no child starts after the stop."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _jails: list[Jail] = field(default_factory=list, repr=False)
    _stopping: bool = False

    @classmethod
    def around(cls, sandbox: Sandbox) -> StoppableSandbox:
        """The chosen sandbox, the same in every other way."""
        return cls(**{f.name: getattr(sandbox, f.name) for f in fields(Sandbox)})

    def start(self, *args, **kwargs) -> Jail:
        with self._lock:
            if self._stopping:
                raise GradingStopped("the batch is stopping")
            self._jails = [jail for jail in self._jails if jail.process.returncode is None]
        jail = super().start(*args, **kwargs)
        with self._lock:
            self._jails.append(jail)
            if self._stopping:
                _kill_test_process(jail)
        return jail

    def stop(self) -> bool:
        """End every running child; whether any was running."""
        with self._lock:
            self._stopping = True
            running = [jail for jail in self._jails if jail.process.returncode is None]
        for jail in running:
            _kill_test_process(jail)
        return bool(running)


def _kill_test_process(jail: Jail) -> None:
    """SIGKILL to the child's process group, unreaped until its own thread's jail.kill() (so the
    group id is still its own); bubblewrap's sandbox dies with it (--die-with-parent)."""
    if jail.process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(jail.process.pid, signal.SIGKILL)


@dataclass
class Batch:
    exercises: list[Exercise]
    expected: list[TestResult]
    points: Points
    grading: Grading
    out: Path
    context: str  # kata.batch.cache.context_digest: everything but the student's files
    cache: Cache
    junit: bool = False
    earlier: Earlier | None = None  # the rows of students graded earlier into `out`, not in this run
    names: dict[str, str] = field(default_factory=dict)  # student -> the submission name it was given as

    def grade(self, submission: Submission) -> tuple[StudentResult, Graded | None]:
        """The student's result, and what to cache (None: nothing new). Writes nothing."""
        started = time.perf_counter()
        flags = list(submission.flags)
        present = {e.stem for e in self.exercises if e.stem in submission.files}
        missing = {
            e.stem: f"no {e.stem}.py in the submission" for e in self.exercises if e.stem not in present
        }
        fresh: Graded | None = None
        if submission.problem:
            missing = {e.stem: submission.problem for e in self.exercises}
            graded = Graded("", [])
        else:
            files = {stem: data for stem, data in submission.files.items() if stem in present}
            wanted = fingerprint(self.context, submission.student, files)
            graded = self.cache.read(submission.student, wanted) or self._run(files, present, wanted)
            fresh = None if graded.cached or _may_be_the_machines(graded) else graded
            flags += graded.flags
        tasks = score_tasks(self.exercises, graded.results, self.points, missing)
        seconds = graded.seconds if graded.cached else time.perf_counter() - started
        student = StudentResult(
            submission.student, tasks, flags, seconds, submission.problem, cached=graded.cached
        )
        return student, fresh

    def _run(self, files: dict[str, bytes], present: set[str], wanted: str) -> Graded:
        started = time.perf_counter()
        expected = [t for t in self.expected if t.stem in present]
        accounts = self.grading.sandbox.accounts
        uid = accounts.claim() if accounts else None
        try:
            run = grade_files(files, expected, self.grading, uid)
        finally:
            if accounts and uid is not None:
                accounts.release(uid)
        flags = scan_in_child(files)  # in a process of its own, with a time and a memory limit
        tampered = sorted({r.stem for r in run.results if TAMPERING in r.message})
        flags += [f"{stem}.py: patched the clock while tests ran (those tests failed)" for stem in tampered]
        flags += [_ended(note) for note in run.notes]
        budget = memory.size(self.grading.limits.sandbox_memory_bytes)
        flags += [
            f"{stem}.py: ran out of the sandbox's memory ({budget} for all its processes): the kernel "
            f"killed {many(killed, 'process', 'processes')}"
            for stem, killed in sorted(run.out_of_memory.items())
        ]
        if run.strays:
            flags.append(
                f"left {many(run.strays, 'process', 'processes')} running after its exercise ended (killed)"
            )
        return Graded(wanted, run.results, flags, time.perf_counter() - started, self.grading.seed)

    def save(self, student: StudentResult, fresh: Graded | None, done: list[StudentResult]) -> None:
        """Everything the grader writes after a student, each file whole or not at all."""
        try:
            folder = self.out / STUDENTS_FOLDER / student.student
            write_gradescope_json(folder / "results.json", student)
            if self.junit:
                write_junit_xml(folder / "junit.xml", student)
            if fresh is not None:
                self.cache.write(student.student, fresh)
            write_gradebook(self.out / "gradebook.csv", done, self.exercises, self.earlier)
            write_results_csv(self.out / "results.csv", done, self.earlier)
            graded = {s.student: self.names[s.student] for s in done if s.student in self.names}
            write_names(self.out / NAMES_FILE, graded, self.earlier)
        except OSError as error:
            where = f" {error.filename}" if error.filename else ""
            raise ReportWriteError(f"could not write{where}: {error.strerror or error}") from None


def grade_class(
    paths: list[Path],
    exercises: list[Exercise],
    *,
    out: Path,
    jobs: int,
    limits: Limits,
    points: Points,
    points_bytes: bytes,
    seed: int,
    junit: bool,
    sandbox: Sandbox,
    console: Console,
    earlier: Earlier | None = None,
) -> list[StudentResult]:
    stems = [e.stem for e in exercises]
    submissions = load_submissions(paths, stems, earlier=earlier.ids_and_names() if earlier else ())
    if earlier is not None:
        earlier = earlier.without({s.student for s in submissions})
        kept = list(earlier.gradebook)
        if kept:
            console.print(
                f"gradebook.csv keeps {many(len(kept), 'student')} graded earlier "
                f"into this folder: {', '.join(kept)}",
                markup=False,
                highlight=False,
            )
    with tempfile.TemporaryDirectory(prefix="kata-course-") as folder:
        os.chmod(folder, 0o711)  # the sandbox's user passes through to the course, and sees nothing else
        course = snapshot(Path(folder) / "course")
        grading = Grading(course, StoppableSandbox.around(sandbox), limits, seed)
        expected = collect_expected([f"tests/test_{stem}.py" for stem in stems], grading)
        options = {
            "seed": seed,
            "limits": asdict(limits),
            "exercises": stems,
            "sandbox": sandbox.kind,
            "memory_bounded": not memory.problem(),
        }
        batch = Batch(
            exercises,
            expected,
            points,
            grading,
            out,
            context_digest(course.digest, options, points_bytes),
            Cache(out),
            junit,
            earlier,
            {s.student: submission_name(s.source) for s in submissions},
        )
        return _grade_all(batch, submissions, jobs, console)


# How often the main thread wakes while it waits for the gradings. The kernel may hand a Ctrl-C
# to any thread, and Python runs its handler in the main thread only: one handed to a grading
# thread interrupts no wait of the main thread's, so with concurrent.futures.as_completed the
# batch went on grading a hanging student to its end (the harness's Ctrl-C test, under load).
WAKE_EVERY = 0.2


def as_they_finish(futures: Collection[Future]) -> Iterator[Future]:
    """Each of `futures` as it finishes, like concurrent.futures.as_completed, but waking every
    WAKE_EVERY s meanwhile so that a Ctrl-C raises KeyboardInterrupt here at once."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=WAKE_EVERY, return_when=FIRST_COMPLETED)
        yield from done


def _grade_all(
    batch: Batch, submissions: list[Submission], jobs: int, console: Console
) -> list[StudentResult]:
    done: dict[int, StudentResult] = {}
    progress = Progress(
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures: dict = {}
    saved = 0  # students whose reports are all written
    try:
        with progress:
            bar = progress.add_task("", total=len(submissions))
            futures = {pool.submit(batch.grade, s): i for i, s in enumerate(submissions)}
            for future in as_they_finish(futures):
                index = futures[future]
                fresh = None
                try:
                    student, fresh = future.result()
                except Exception as error:  # a grader bug must not lose everyone else's grades
                    submission = submissions[index]
                    problem = f"the grader failed on this submission: {type(error).__name__}: {error}"
                    missing = {e.stem: problem for e in batch.exercises}
                    tasks = score_tasks(batch.exercises, [], batch.points, missing)
                    student = StudentResult(submission.student, tasks, submission.flags, 0.0, problem)
                done[index] = student
                batch.save(student, fresh, [done[i] for i in sorted(done)])
                saved += 1
                progress.update(bar, advance=1, description=student.student)
                if not console.is_terminal:
                    line = _line(len(done), len(submissions), student, student.cached)
                    console.print(line, markup=False, highlight=False)
    except KeyboardInterrupt as interrupt:
        for future in futures:
            future.cancel()
        sandbox = batch.grading.sandbox
        if isinstance(sandbox, StoppableSandbox) and sandbox.stop():
            console.print(
                "stopping: ending the running gradings (their students are not in the gradebook)",
                markup=False,
                highlight=False,
            )
        raise Stopped(saved, terminated=isinstance(interrupt, Terminated)) from None
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [done[i] for i in sorted(done)]


def _line(n: int, total: int, student: StudentResult, cached: bool) -> str:
    state = (
        student.problem or f"{_pts(student.score)}/{_pts(student.max_score)} points ({student.percent:.1f} %)"
    )
    again = " (unchanged: not graded again)" if cached else ""
    flags = f", {many(len(student.flags), 'flag')}" if student.flags else ""
    return f"[{n}/{total}] {student.student}: {state}{flags}, {student.seconds:.1f} s{again}"


def _may_be_the_machines(graded: Graded) -> bool:
    """Whether a grading may owe a lost point to the machine's load: a test that failed only on
    time (its second run too), or an exercise stopped at its time limit. Not cached, so the next
    run grades the student again instead of keeping the load's verdict for good."""
    on_time = any(r.time_only and r.outcome in ("failed", "error") for r in graded.results)
    stopped = any(flag.endswith(STOPPED_AT_THE_TIME_LIMIT) for flag in graded.flags)
    return on_time or stopped


def _ended(note: str) -> str:
    """A flag for what ended a test process: the student's code, or the grader at a time limit."""
    if TIME_LIMIT_NOTE.fullmatch(note):
        return f"{note}{STOPPED_AT_THE_TIME_LIMIT}"
    return f"ended the test process: {note}"


def _pts(value: float) -> str:
    return f"{value:g}"


def summary(students: list[StudentResult], exercises: list[Exercise], console: Console, out: Path) -> None:
    fancy = console.is_terminal and console.color_system is not None
    table = Table(title="Points per exercise", show_edge=False, box=box.SIMPLE_HEAD if fancy else None)
    for name, justify in (
        ("exercise", "left"),
        ("max", "right"),
        ("mean", "right"),
        ("full", "right"),
        ("zero", "right"),
    ):
        table.add_column(name, justify=justify)
    graded = [s for s in students if not s.problem]
    for exercise in exercises:
        scores = [sum(t.points for t in s.tasks if t.stem == exercise.stem) for s in graded]
        # Every student has every task, with its points, graded or not (a problem scores 0 of them).
        maximum = sum(t.max_points for t in students[0].tasks if t.stem == exercise.stem) if students else 0
        mean = statistics.fmean(scores) if scores else 0.0
        table.add_row(
            exercise.stem,
            _pts(maximum),
            f"{mean:.2f}",
            str(sum(s == maximum for s in scores)),
            str(sum(s == 0 for s in scores)),
        )
    console.print(table)
    if graded:
        percents = sorted(s.percent for s in graded)
        console.print(
            f"{len(graded)} graded: median {statistics.median(percents):.1f} %, "
            f"lowest {percents[0]:.1f} %, highest {percents[-1]:.1f} %",
            markup=False,
        )
    for student in students:
        if student.problem:
            console.print(f"not graded: {student.student}: {student.problem}", markup=False)
    flagged = [s for s in students if s.flags]
    if flagged:
        console.print(
            f"{many(len(flagged), 'submission')} flagged for a look (see the flags column): "
            + ", ".join(s.student for s in flagged),
            markup=False,
        )
    console.print(f"gradebook: {out / 'gradebook.csv'}   per task: {out / 'results.csv'}", markup=False)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", nargs="+", type=Path, help="student folders or .zip files")
    parser.add_argument("--out", required=True, type=Path, help="the folder for the gradebook and reports")
    parser.add_argument("-j", "--jobs", type=int, default=default_jobs(), help="submissions graded at once")
    parser.add_argument("--exercises", nargs="+", metavar="NN", help="grade only these exercises")
    parser.add_argument(
        "--time-limit", type=float, default=Limits.exercise_seconds, help="seconds per exercise (hard kill)"
    )
    parser.add_argument("--test-timeout", type=float, default=Limits.test_timeout, help="seconds per test")
    parser.add_argument(
        "--seed",
        type=int,
        help="seed for the tests' random inputs (default: the last run's into --out, else a new one)",
    )
    parser.add_argument("--junit", action="store_true", help="also write DIR/students/<student>/junit.xml")
    parser.add_argument("--points", type=Path, default=REPO_ROOT / "points.toml", help="the points file")
    parser.add_argument(
        "--sandbox",
        choices=("auto", *KINDS),
        default="auto",
        help="where submissions run (default: the strongest that works here; see README, For instructors)",
    )


class BatchUsageError(Exception):
    pass


def check_submission_paths(paths: list[Path], stems: list[str]) -> None:
    """Refuse, in one line, what cannot be a class: no path exists (a mistyped folder, a pattern
    the shell found nothing for), or one folder of student folders given instead of the
    students (`CLASS` for `CLASS/*`). A missing student among others gets a row of their own."""
    missing = [path for path in paths if not os.path.lexists(path)]
    if missing and len(missing) == len(paths):
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise BatchUsageError(f"{missing[0]}: no such file or directory{more}")
    if len(paths) == 1 and holds_submissions(paths[0], stems):
        raise BatchUsageError(
            f"{paths[0]} has no exercise files of its own, but the folders in it do: give one folder "
            f"(or .zip) per student, e.g. {paths[0] / '*'}"
        )


def check_out_folder(out: Path, paths: list[Path]) -> None:
    """Refuse an --out inside a submission: the reports would land in a student's folder, and be
    read as part of that submission the next time."""
    where = Path(os.path.realpath(out))
    for path in paths:
        if where.is_relative_to(os.path.realpath(path)):
            raise BatchUsageError(
                f"--out {out}: inside the submission {path}: choose a folder outside every submission"
            )


def run(args: argparse.Namespace, exercises: list[Exercise], console: Console) -> int:
    if args.jobs < 1:
        raise BatchUsageError("--jobs must be at least 1")
    if args.time_limit <= 0 or args.test_timeout <= 0:
        raise BatchUsageError("--time-limit and --test-timeout must be positive")
    if args.out.exists() and not args.out.is_dir():
        raise BatchUsageError(f"--out {args.out}: exists and is not a directory")
    paths, repeated = distinct_paths(args.submissions)
    check_submission_paths(paths, [e.stem for e in exercises])
    check_out_folder(args.out, paths)
    try:
        # Checked against the whole course: an override for an exercise not graded in this run
        # (--exercises) is a valid points.toml, unused here.
        points = load_points(args.points)
    except PointsError as error:
        raise BatchUsageError(str(error)) from None
    try:
        points_bytes = args.points.read_bytes()
    except OSError as error:
        raise BatchUsageError(f"--points {args.points}: {error.strerror}") from None
    try:  # the rows of students graded earlier into --out are kept, never mixed with other columns
        earlier = read_earlier(args.out, exercises, score_tasks(exercises, [], points))
    except EarlierReportsError as error:
        raise BatchUsageError(str(error)) from None
    try:
        sandbox = choose_sandbox(args.sandbox)
    except SandboxUnavailable as error:
        raise BatchUsageError(str(error)) from None
    try:
        if not args.out.exists():
            args.out.mkdir(parents=True, mode=0o700)
    except OSError as error:
        raise BatchUsageError(f"--out {args.out}: {error.strerror}") from None
    # Each sandbox's memory budget fits the machine's memory with -j of them at once (kata.sandbox.memory).
    limits = Limits(
        test_timeout=args.test_timeout,
        exercise_seconds=args.time_limit,
        sandbox_memory_bytes=memory.fitting_budget(args.jobs),
    )
    console.print(sandbox.protections(limits.sandbox_memory_bytes, args.jobs), markup=False, highlight=False)
    for line in repeated:
        console.print(line, markup=False, highlight=False)
    kept = remembered_seed(args.out) if args.seed is None else None
    seed = args.seed if args.seed is not None else kept
    if seed is None:
        seed = random.SystemRandom().randrange(10**6)
    if kept is not None:
        console.print(
            f"seed {seed}, the last run's into {args.out}: a student whose files have not changed is "
            "not graded again (--seed N for other random inputs)",
            markup=False,
            highlight=False,
        )
    try:
        remember_seed(args.out, seed)
    except OSError as error:
        raise BatchUsageError(f"--out {args.out}: {error.strerror}") from None
    started = time.perf_counter()
    try:
        with stopping_on_sigterm():
            students = grade_class(
                paths,
                exercises,
                out=args.out,
                jobs=args.jobs,
                limits=limits,
                points=points,
                points_bytes=points_bytes,
                seed=seed,
                junit=args.junit,
                sandbox=sandbox,
                console=console,
                earlier=earlier,
            )
    except ReportWriteError as error:
        console.print(
            f"stopped: {error}; {args.out / 'gradebook.csv'} holds the students graded before this one",
            markup=False,
            highlight=False,
        )
        return 2
    summary(students, exercises, console, args.out)
    seconds = time.perf_counter() - started
    console.print(
        f"{many(len(students), 'submission')} in {seconds:.1f} s (seed {seed}, -j {args.jobs})", markup=False
    )
    return 1 if any(s.problem for s in students) else 0
