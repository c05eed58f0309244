"""Turn per-test results into per-exercise, per-task progress."""

from __future__ import annotations

from dataclasses import dataclass

from kata.catalog import Exercise
from kata.report import TestResult


@dataclass
class ExerciseStatus:
    exercise: Exercise
    results: list[TestResult]

    @property
    def tasks(self) -> dict[int, bool]:
        """Task number -> all its tests passed."""
        tasks: dict[int, bool] = {}
        for result in self.results:
            number = result.task or 0
            tasks[number] = tasks.get(number, True) and result.outcome == "passed"
        return dict(sorted(tasks.items()))

    @property
    def done(self) -> bool:
        return bool(self.results) and all(r.outcome == "passed" for r in self.results)

    @property
    def first_failure(self) -> TestResult | None:
        failures = [r for r in self.results if r.outcome != "passed"]
        return min(failures, key=lambda r: r.task or 0, default=None)


def statuses(exercises: list[Exercise], by_stem: dict[str, list[TestResult]]) -> list[ExerciseStatus]:
    """One status per exercise, from results already grouped by stem (Run.by_stem())."""
    return [ExerciseStatus(e, by_stem.get(e.stem, [])) for e in exercises]
