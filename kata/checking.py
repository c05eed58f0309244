"""Check a learner's exercises and decide what each one's status is.

An exercise is checked in its own child pytest run (so one that hangs or crashes
costs only itself), with a short per-test limit and the run stopping at the first
test that hangs. What is already known is not run again:

- an exercise whose file and tests are byte for byte what last passed is done;
- an exercise whose file is still the shipped stub is not started (the self-check
  proves every stub fails every test).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kata.catalog import Exercise
from kata.originals import Original, digest
from kata.progress import ExerciseStatus
from kata.report import TestResult
from kata.runner import with_second_chance, with_the_unrun_run
from kata.side_by_side import run_tests_side_by_side, seconds_by_test
from kata.state import ExerciseRecord, ProgressFile, now
from kata.typical_seconds import typical_seconds

TEST_TIMEOUT = 5.0  # per test: the slowest correct tests take about 1.2-1.5 s (stops held 1.2 s, 10's pool)
WALL_LIMIT = 60.0  # per exercise: the last resort, for a hang outside any test (collection, exit)


class Status(enum.Enum):
    DONE = "done"
    FAILING = "failing"
    NOT_STARTED = "not started"
    EDITED = "edited, not checked"
    MISSING = "file missing"


@dataclass
class ExerciseCheck:
    """One exercise's status, and its test results when it was run in this call."""

    exercise: Exercise
    status: Status
    tasks: dict[int, bool] = field(default_factory=dict)
    results: list[TestResult] = field(default_factory=list)
    seconds: float = 0.0
    ran: bool = False
    hints_shown: int = 0
    problem: str = ""  # why the tests could not run at all

    @property
    def done(self) -> bool:
        return self.status is Status.DONE

    @property
    def failures(self) -> list[TestResult]:
        return sorted((r for r in self.results if r.outcome != "passed"), key=lambda r: r.task or 0)

    @property
    def current_task(self) -> int | None:
        """The first task not yet passing."""
        return next((n for n, ok in sorted(self.tasks.items()) if not ok), None)


def learner_file(exercise: Exercise, target: Path) -> Path:
    return target / f"{exercise.stem}.py"


def fingerprint(exercise: Exercise, target: Path) -> str | None:
    """The learner's file and the tests, together: a pass holds until either changes."""
    try:
        return digest(learner_file(exercise, target).read_bytes() + b"\0" + exercise.tests.read_bytes())
    except OSError:
        return None


class Checker:
    """Runs exercises against one target and keeps the progress file up to date."""

    def __init__(
        self,
        target: Path,
        progress: ProgressFile,
        originals: dict[str, Original],
        *,
        on_start: Callable[[Exercise], None] = lambda exercise: None,
    ) -> None:
        self.target = target
        self.progress = progress
        self.originals = originals
        self.on_start = on_start

    def record(self, exercise: Exercise) -> ExerciseRecord:
        return self.progress.record(self.target, exercise.stem)

    def known(self, exercise: Exercise) -> ExerciseCheck | None:
        """The status without running anything, when it is certain; None when it needs a run."""
        record = self.record(exercise)
        hints = record.hints_shown()
        path = learner_file(exercise, self.target)
        if not path.is_file():
            return ExerciseCheck(exercise, Status.MISSING, hints_shown=hints)
        if record.passed and record.fingerprint == fingerprint(exercise, self.target):
            tasks = {int(n): ok for n, ok in record.tasks.items()}
            return ExerciseCheck(exercise, Status.DONE, tasks, seconds=record.seconds, hints_shown=hints)
        original = self.originals.get(exercise.stem)
        if original is not None and original.matches(path):
            return ExerciseCheck(exercise, Status.NOT_STARTED, hints_shown=hints)
        return None

    def dealing_seconds(self, exercise: Exercise, path: Path) -> dict[str, float]:
        """What to deal the tests out to children by (kata.side_by_side): the last check's seconds
        when there was one (most checks are of code still failing, about as fast as last time);
        before the first, the reference's (kata.typical_seconds), unless the file is the untouched
        stub (its tests fail at once: more children would only cost their start-up)."""
        last = self.record(exercise).test_seconds
        if last:
            return dict(last)
        original = self.originals.get(exercise.stem)
        return {} if original is not None and original.matches(path) else typical_seconds(exercise.stem)

    def last_seen(self, exercise: Exercise) -> ExerciseCheck:
        """Without running: what is certain, else the last check if the file is unchanged since."""
        return self.known(exercise) or self._last_checked(exercise)

    def _last_checked(self, exercise: Exercise) -> ExerciseCheck:
        """The last check's outcome when the file is unchanged since (failing), else 'edited'."""
        record = self.record(exercise)
        tasks = {int(n): ok for n, ok in record.tasks.items()}
        unchanged = record.checked and record.fingerprint == fingerprint(exercise, self.target)
        status = Status.FAILING if unchanged else Status.EDITED
        return ExerciseCheck(exercise, status, tasks, hints_shown=record.hints_shown())

    def run(self, exercise: Exercise) -> ExerciseCheck:
        """Run the exercise's tests now and remember the outcome."""
        path = learner_file(exercise, self.target)
        record = self.record(exercise)
        if not path.is_file():
            return ExerciseCheck(exercise, Status.MISSING, hints_shown=record.hints_shown())
        self.on_start(exercise)
        before = fingerprint(exercise, self.target)
        extra = ["--timeout", str(TEST_TIMEOUT), "--kata-stop-on-hang"]
        run = run_tests_side_by_side(
            exercise.tests,
            self.target,
            wall_limit=WALL_LIMIT,
            extra=extra,
            seconds=self.dealing_seconds(exercise, path),
        )
        run = with_the_unrun_run(run, self.target, wall_limit=WALL_LIMIT, extra=extra)
        run = with_second_chance(run, self.target, wall_limit=WALL_LIMIT, extra=extra)
        status = ExerciseStatus(exercise, run.results)
        check = ExerciseCheck(
            exercise,
            Status.DONE if status.done else Status.FAILING,
            status.tasks,
            run.results,
            run.seconds,
            ran=True,
            hints_shown=record.hints_shown(),
        )
        if run.collected_nothing:
            check.problem = _no_tests_ran(run.output, run.returncode)
        record.fingerprint = before or ""
        record.passed = check.done
        record.tasks = {str(n): ok for n, ok in check.tasks.items()}
        record.checked = now()
        record.seconds = round(run.seconds, 2)
        record.test_seconds = seconds_by_test(run.results)
        self.progress.save()
        return check

    def course(self, exercises: list[Exercise], *, check_all: bool = False) -> list[ExerciseCheck]:
        """In order: skip what is known, run the rest, stop at the first unfinished exercise.

        With check_all, every exercise that is not known is run.
        """
        checks: list[ExerciseCheck] = []
        stopped = False
        for exercise in exercises:
            check = self.known(exercise)
            if check is None:
                ran_now = not stopped or check_all
                check = self.run(exercise) if ran_now else self._last_checked(exercise)
            elif check.status is Status.NOT_STARTED and not stopped:
                check = self.run(exercise)  # to say what is missing, in the tests' words
                check.status = Status.DONE if check.done else Status.NOT_STARTED
            checks.append(check)
            stopped = stopped or not check.done
        return checks


def _no_tests_ran(output: str, returncode: int | None) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("E ", "ERROR"))]
    tail = errors[-3:] or lines[-3:]
    return f"the tests could not run (pytest exit code {returncode}): " + " / ".join(t.strip() for t in tail)
