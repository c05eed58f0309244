"""What each test takes on the reference solution, to deal an exercise's first check out.

grade.py NN deals an exercise's test functions out to its children by the seconds each took
(kata.side_by_side) in the learner's last check. Before the first check there is none, and the
tests were dealt in turn: for a file the learner has changed (an untouched stub's tests all fail
at once, and need no spreading), the seconds on the reference solution stand in:
kata/typical_seconds.json, recorded with

    python -m kata.selfcheck --record-seconds

A missing, stale or unreadable record only deals the tests less evenly: it never changes a verdict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from kata.catalog import REPO_ROOT, Exercise
from kata.runner import run_tests
from kata.side_by_side import seconds_by_test

TYPICAL = REPO_ROOT / "kata" / "typical_seconds.json"
RECORD_WALL_LIMIT = 300.0


def typical_seconds(stem: str) -> dict[str, float]:
    """The recorded seconds of `stem`'s test functions on its reference solution ({} if none)."""
    try:
        recorded = json.loads(TYPICAL.read_text(encoding="utf-8")).get(stem, {})
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(recorded, dict):
        return {}
    return {str(k): float(v) for k, v in recorded.items() if isinstance(v, int | float) and v >= 0}


def record_typical_seconds(exercises: Sequence[Exercise]) -> list[str]:
    """Run each exercise's tests on its reference solution, one process each, and record what each
    test function took in TYPICAL (the other exercises' records are kept); returns the stems whose
    tests did not all pass (their records are left as they were)."""
    try:
        recorded = json.loads(TYPICAL.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    failing = []
    for exercise in exercises:
        run = run_tests([exercise.tests], exercise.solution.parent, wall_limit=RECORD_WALL_LIMIT)
        if not run.results or any(r.outcome != "passed" for r in run.results):
            failing.append(exercise.stem)
            continue
        recorded[exercise.stem] = dict(sorted(seconds_by_test(run.results).items()))
    TYPICAL.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return failing
