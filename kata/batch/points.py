"""What each task is worth, and each student's tasks scored from their test results.

Points are declared in one place, `points.toml` at the repo root: a default for every task
(1 unless changed) and optional per-exercise overrides. A task earns its points only when all
of its tests passed: half a task is not half an answer.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kata.catalog import REPO_ROOT, Exercise, discover
from kata.hints import read_hints
from kata.report import TestResult

POINTS_FILE = REPO_ROOT / "points.toml"
DEFAULT_TASK_POINTS = 1.0
# Tests without a @pytest.mark.task marker are reported under this task, worth nothing:
# the self-check makes every test name its task, so this only shows up in a broken course.
UNTASKED = 0
UNTASKED_TITLE = "tests without a task"

NOT_GRADED = "not graded: {reason}"
NO_RESULTS = "no test results for this task"
NO_MESSAGE = "{test}: {outcome}"


class PointsError(ValueError):
    """points.toml cannot be used; the message is one line that names the file and every problem."""


@dataclass(frozen=True)
class TaskScore:
    stem: str
    task: int
    title: str  # from hints/NN_topic.md; "" when the hints do not name the task
    points: float
    max_points: float
    status: str  # "passed" | "failed"
    seconds: float  # sum of its tests' seconds
    message: str  # first failing test's message ("" when passed); may be long, writers cap it
    tests: tuple[TestResult, ...]


@dataclass(frozen=True)
class Points:
    default: float = DEFAULT_TASK_POINTS
    overrides: Mapping[str, Mapping[int, float]] = field(default_factory=dict)

    def task_points(self, stem: str, task: int) -> float:
        """What one task is worth: its override in points.toml, else the default."""
        if task == UNTASKED:
            return 0.0
        return self.overrides.get(stem, {}).get(task, self.default)


def _number(value: object) -> float | None:
    """A usable points value, or None: bools, strings, NaN, infinities and negatives are not points."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _task_numbers(exercise: Exercise) -> set[int]:
    try:
        return set(read_hints(exercise.hints))
    except (OSError, UnicodeDecodeError):
        return set()


def load_points(path: Path = POINTS_FILE, exercises: Sequence[Exercise] | None = None) -> Points:
    """Read and check points.toml against the course (`exercises`, default: this repo's).

    Raises PointsError (one line) for a missing or invalid file, an unknown key, an exercise stem
    or task number the course does not have, and points that are negative or not numbers.
    """
    name = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PointsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PointsError(f"{path}: cannot be read ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise PointsError(f"{path}: not valid TOML ({error})") from None

    problems: list[str] = []
    for key in sorted(data.keys() - {"default_task_points", "exercises"}):
        problems.append(f"unknown setting {key!r} (expected default_task_points and [exercises.NN_topic])")

    default = DEFAULT_TASK_POINTS
    if "default_task_points" in data:
        checked = _number(data["default_task_points"])
        if checked is None:
            problems.append(
                f"default_task_points = {data['default_task_points']!r} is not a number of points (0 or more)"
            )
        else:
            default = checked

    tables = data.get("exercises", {})
    if not isinstance(tables, dict):
        problems.append("'exercises' must be a table of [exercises.NN_topic] sections")
        tables = {}
    course = {exercise.stem: exercise for exercise in (discover() if exercises is None else exercises)}
    overrides: dict[str, dict[int, float]] = {}
    for stem, table in tables.items():
        if stem not in course:
            problems.append(f"unknown exercise {stem!r} (no such stem in the course)")
            continue
        if not isinstance(table, dict):
            problems.append(f"exercises.{stem} must be a table")
            continue
        for key in sorted(table.keys() - {"task_points"}):
            problems.append(f"exercises.{stem}: unknown setting {key!r} (expected task_points)")
        task_points = table.get("task_points", {})
        if not isinstance(task_points, dict):
            problems.append(f"exercises.{stem}.task_points must be a table like {{ 1 = 2, 2 = 1.5 }}")
            continue
        known = _task_numbers(course[stem])
        for key, value in task_points.items():
            if not key.isdigit() or int(key) not in known:
                tasks = ", ".join(str(n) for n in sorted(known)) or "none"
                problems.append(f"exercises.{stem}: unknown task {key!r} (its tasks: {tasks})")
                continue
            checked = _number(value)
            if checked is None:
                problems.append(
                    f"exercises.{stem}: task {key} = {value!r} is not a number of points (0 or more)"
                )
                continue
            overrides.setdefault(stem, {})[int(key)] = checked

    if problems:
        raise PointsError(f"{name}: " + "; ".join(problems))
    return Points(default, overrides)


def _titles(exercise: Exercise) -> dict[int, str]:
    try:
        return {number: task.title for number, task in read_hints(exercise.hints).items()}
    except (OSError, UnicodeDecodeError):
        return {}


def _task_score(
    stem: str, task: int, title: str, tests: list[TestResult], points: Points, reason: str
) -> TaskScore:
    worth = points.task_points(stem, task)
    seconds = sum(test.seconds for test in tests)
    failing = [test for test in tests if test.outcome != "passed"]
    if not tests:
        message = NOT_GRADED.format(reason=reason)
    elif failing:
        first = failing[0]
        message = first.message or NO_MESSAGE.format(test=first.test, outcome=first.outcome)
    else:
        message = ""
    passed = bool(tests) and not failing
    return TaskScore(
        stem=stem,
        task=task,
        title=title,
        points=worth if passed else 0.0,
        max_points=worth,
        status="passed" if passed else "failed",
        seconds=seconds,
        message=message,
        tests=tuple(tests),
    )


def score_tasks(
    exercises: list[Exercise],
    results: list[TestResult],
    points: Points,
    missing_reason: dict[str, str] | None = None,
) -> list[TaskScore]:
    """One TaskScore per task of each exercise, in exercise then task order.

    The tasks are those the hints name plus those the results name. A task passes, and earns its
    points, only when it has results and every one of them passed ("skipped" is not "passed": code
    under test can call pytest.skip). A task without results fails with "not graded: <reason>",
    the reason being missing_reason[stem] when the caller knows it. Results for stems not in
    `exercises` are ignored.
    """
    reasons = missing_reason or {}
    by_task: dict[tuple[str, int], list[TestResult]] = {}
    for result in results:
        task = UNTASKED if result.task is None else result.task
        by_task.setdefault((result.stem, task), []).append(result)

    scores = []
    for exercise in exercises:
        titles = _titles(exercise)
        tasks = set(titles) | {task for stem, task in by_task if stem == exercise.stem}
        for task in sorted(tasks):
            title = UNTASKED_TITLE if task == UNTASKED else titles.get(task, "")
            tests = by_task.get((exercise.stem, task), [])
            reason = reasons.get(exercise.stem, NO_RESULTS)
            scores.append(_task_score(exercise.stem, task, title, tests, points, reason))
    return scores
