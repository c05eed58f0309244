"""`grade.py --json`: the results as data, per exercise, per task and per test."""

from __future__ import annotations

from kata.checking import ExerciseCheck
from kata.session import Session


def exercise_json(session: Session, check: ExerciseCheck) -> dict:
    titles = session.task_titles(check.exercise)
    record = session.checker.record(check.exercise)
    return {
        "number": check.exercise.number,
        "stem": check.exercise.stem,
        "title": session.title(check.exercise),
        "file": session.file_of(check.exercise),
        "status": check.status.value,
        "checked_now": check.ran,
        "seconds": round(check.seconds, 3),
        "hints_shown": check.hints_shown,
        "solution_seen_before_passing": record.solution_before_passing,
        "problem": check.problem or None,
        "tasks": [
            {"number": n, "title": titles.get(n, ""), "passed": check.tasks.get(n)}
            for n in sorted(titles.keys() | check.tasks.keys())
        ],
        "tests": [
            {
                "test": r.test,
                "task": r.task,
                "outcome": r.outcome,
                "seconds": round(r.seconds, 3),
                "message": r.message or None,
            }
            for r in check.results
        ],
    }


def course_json(session: Session, checks: list[ExerciseCheck]) -> dict:
    return {
        "target": session.shown(session.target),
        "done": sum(c.done for c in checks),
        "total": len(checks),
        "exercises": [exercise_json(session, c) for c in checks],
    }
