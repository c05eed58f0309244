"""`python grade.py batch SUBMISSION... --out DIR`: grade a class, write a gradebook.

Each submission (a folder or a .zip; the student id is its name) is read without running
anything (kata.batch.submissions), scanned for code worth a second look (kata.batch.scan),
and graded by the repository's own tests in isolated children (kata.batch.isolation).
Points come from points.toml (kata.batch.points). Reports (kata.batch.reports):

    DIR/gradebook.csv            one row per student: points per exercise, total, max, percent, flags
    DIR/results.csv              one row per student x task
    DIR/<student>/results.json   Gradescope's format     (DIR/<student>/junit.xml with --junit)

The gradebook is rewritten after every student, so it is complete for everyone graded so
far even if grading is interrupted. A student whose files and the tests are unchanged since
the last run is not graded again (DIR/<student>/graded.json keeps the raw results).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kata.batch.isolation import Limits, collect_expected, grade_files
from kata.batch.points import Points, PointsError, load_points, score_tasks
from kata.batch.reports import (
    StudentResult,
    write_gradebook,
    write_gradescope_json,
    write_junit_xml,
    write_results_csv,
)
from kata.batch.scan import scan_files
from kata.batch.submissions import Submission, load_submissions
from kata.catalog import REPO_ROOT, Exercise
from kata.files import write_atomically
from kata.report import TestResult

GRADED_FILE = "graded.json"
CACHE_VERSION = 1
# What grading depends on besides the student's files: change any of them and everyone is graded again.
GRADER_FILES = (
    "kata/plugin.py",
    "kata/report.py",
    "kata/loader.py",
    "kata/batch/isolation.py",
    "kata/batch/child.py",
)
TAMPERING = "replaced while your code ran"


def default_jobs() -> int:
    """Most of a test's time is spent waiting on purpose (fake latency), so two runs per core fit."""
    return max(2, 2 * (os.cpu_count() or 1))


@dataclass
class Graded:
    """One student's raw outcome, as cached in DIR/<student>/graded.json."""

    fingerprint: str
    results: list[TestResult]
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    seed: int = 0
    cached: bool = False


def course_digest(exercises: list[Exercise]) -> str:
    """What grading depends on besides a student's files: the tests and the grader. Read once per batch."""
    digest = hashlib.sha256(f"v{CACHE_VERSION}".encode())
    for exercise in exercises:
        digest.update(exercise.tests.read_bytes())
    for name in GRADER_FILES:
        digest.update((REPO_ROOT / name).read_bytes())
    return digest.hexdigest()


def fingerprint(submission: Submission, course: str) -> str:
    digest = hashlib.sha256(course.encode())
    for stem, data in sorted(submission.files.items()):
        digest.update(stem.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def read_cache(folder: Path, wanted: str) -> Graded | None:
    try:
        raw = json.loads((folder / GRADED_FILE).read_text(encoding="utf-8"))
        if raw.get("fingerprint") != wanted:
            return None
        return Graded(
            fingerprint=raw["fingerprint"],
            results=[TestResult(**r) for r in raw["results"]],
            flags=[str(f) for f in raw.get("flags", [])],
            seconds=float(raw.get("seconds", 0.0)),
            seed=int(raw.get("seed", 0)),
            cached=True,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_cache(folder: Path, graded: Graded) -> None:
    data = {k: v for k, v in asdict(graded).items() if k != "cached"}
    write_atomically(folder / GRADED_FILE, json.dumps(data))


@dataclass
class Batch:
    exercises: list[Exercise]
    expected: list[TestResult]
    points: Points
    limits: Limits
    out: Path
    seed: int
    junit: bool = False
    course: str = field(init=False)

    def __post_init__(self) -> None:
        self.course = course_digest(self.exercises)

    def grade(self, submission: Submission) -> tuple[StudentResult, bool]:
        """The student's result, and whether it came from the cache."""
        started = time.perf_counter()
        folder = self.out / submission.student
        flags = list(submission.flags)
        present = {e.stem for e in self.exercises if e.stem in submission.files}
        missing = {
            e.stem: f"no {e.stem}.py in the submission" for e in self.exercises if e.stem not in present
        }
        if submission.problem:
            missing = {e.stem: submission.problem for e in self.exercises}
            graded = Graded("", [])
        else:
            wanted = fingerprint(submission, self.course)
            graded = read_cache(folder, wanted) or self._run(submission, present, wanted)
            flags += graded.flags
        tasks = score_tasks(self.exercises, graded.results, self.points, missing)
        seconds = graded.seconds if graded.cached else time.perf_counter() - started
        student = StudentResult(submission.student, tasks, flags, seconds, submission.problem)
        folder.mkdir(parents=True, exist_ok=True)
        write_gradescope_json(folder / "results.json", student)
        if self.junit:
            write_junit_xml(folder / "junit.xml", student)
        return student, graded.cached

    def _run(self, submission: Submission, present: set[str], wanted: str) -> Graded:
        started = time.perf_counter()
        files = {stem: data for stem, data in submission.files.items() if stem in present}
        expected = [t for t in self.expected if t.stem in present]
        run = grade_files(files, expected, self.limits, seed=self.seed)
        flags = scan_files(files)
        tampered = sorted({r.stem for r in run.results if TAMPERING in r.message})
        flags += [f"{stem}.py: patched the clock while tests ran (those tests failed)" for stem in tampered]
        flags += [f"ended the test process: {note}" for note in run.notes]
        graded = Graded(wanted, run.results, flags, time.perf_counter() - started, self.seed)
        write_cache(self.out / submission.student, graded)
        return graded


def grade_class(
    paths: list[Path],
    exercises: list[Exercise],
    *,
    out: Path,
    jobs: int,
    limits: Limits,
    points: Points,
    seed: int,
    junit: bool,
    console: Console,
) -> list[StudentResult]:
    stems = [e.stem for e in exercises]
    submissions = load_submissions(paths, stems)
    expected = collect_expected([e.tests for e in exercises])
    batch = Batch(exercises, expected, points, limits, out, seed, junit)
    done: dict[int, StudentResult] = {}
    lock = threading.Lock()
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
    with progress, ThreadPoolExecutor(max_workers=jobs) as pool:
        bar = progress.add_task("", total=len(submissions))
        futures = {pool.submit(batch.grade, s): i for i, s in enumerate(submissions)}
        for future in as_completed(futures):
            index = futures[future]
            cached = False
            try:
                student, cached = future.result()
            except Exception as error:  # a grader bug must not lose everyone else's grades
                submission = submissions[index]
                problem = f"the grader failed on this submission: {type(error).__name__}: {error}"
                tasks = score_tasks(exercises, [], points, {e.stem: problem for e in exercises})
                student = StudentResult(submission.student, tasks, submission.flags, 0.0, problem)
            with lock:
                done[index] = student
                ordered = [done[i] for i in sorted(done)]
                write_gradebook(out / "gradebook.csv", ordered, exercises)
                write_results_csv(out / "results.csv", ordered)
            progress.update(bar, advance=1, description=student.student)
            if not console.is_terminal:
                console.print(
                    _line(len(done), len(submissions), student, cached), markup=False, highlight=False
                )
    return [done[i] for i in sorted(done)]


def _line(n: int, total: int, student: StudentResult, cached: bool) -> str:
    state = (
        student.problem or f"{_pts(student.score)}/{_pts(student.max_score)} points ({student.percent:.1f} %)"
    )
    again = " (unchanged: not graded again)" if cached else ""
    flags = f", {len(student.flags)} flag{'s' * (len(student.flags) != 1)}" if student.flags else ""
    return f"[{n}/{total}] {student.student}: {state}{flags}, {student.seconds:.1f} s{again}"


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
        maximum = sum(t.max_points for t in graded[0].tasks if t.stem == exercise.stem) if graded else 0
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
            f"{len(flagged)} submission(s) flagged for a look (see the flags column): "
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
    parser.add_argument("--seed", type=int, help="seed for the tests' random inputs (default: a new one)")
    parser.add_argument("--junit", action="store_true", help="also write DIR/<student>/junit.xml")
    parser.add_argument("--points", type=Path, default=REPO_ROOT / "points.toml", help="the points file")


class BatchUsageError(Exception):
    pass


def run(args: argparse.Namespace, exercises: list[Exercise], console: Console) -> int:
    if args.jobs < 1:
        raise BatchUsageError("--jobs must be at least 1")
    if args.time_limit <= 0 or args.test_timeout <= 0:
        raise BatchUsageError("--time-limit and --test-timeout must be positive")
    if args.out.exists() and not args.out.is_dir():
        raise BatchUsageError(f"--out {args.out}: exists and is not a directory")
    try:
        points = load_points(args.points, exercises)
    except PointsError as error:
        raise BatchUsageError(str(error)) from None
    with contextlib.suppress(FileExistsError):
        args.out.mkdir(parents=True)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    limits = Limits(test_timeout=args.test_timeout, exercise_seconds=args.time_limit)
    started = time.perf_counter()
    students = grade_class(
        list(args.submissions),
        exercises,
        out=args.out,
        jobs=args.jobs,
        limits=limits,
        points=points,
        seed=seed,
        junit=args.junit,
        console=console,
    )
    summary(students, exercises, console, args.out)
    console.print(
        f"{len(students)} submissions in {time.perf_counter() - started:.1f} s (seed {seed}, -j {args.jobs})",
        markup=False,
    )
    return 1 if any(s.problem for s in students) else 0
