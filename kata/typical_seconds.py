"""What each test takes on the reference solution, to deal an exercise's tests out to children.

grade.py NN deals an exercise's test functions out to its children by the seconds each took
(kata.side_by_side). The learner's last check is one guide, but a poor one before the first
check, and after a check that failed fast (a stub's tests fail in milliseconds, then take their
full time once the code works). So each test counts for at least what it takes on the reference
solution: kata/typical_seconds.json, recorded with

    python -m kata.selfcheck --record-seconds

A missing, stale or unreadable record only deals the tests less evenly: it never changes a verdict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

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


def dealing_seconds(last: Mapping[str, float] | None, typical: Mapping[str, float]) -> dict[str, float]:
    """What to deal the tests out by: each test's seconds in the last check, or on the reference
    solution if that was longer (a test that failed fast last time takes its time once it passes)."""
    merged = dict(typical)
    for name, seconds in (last or {}).items():
        merged[name] = max(seconds, merged.get(name, 0.0))
    return merged


def record_typical_seconds(exercises: Sequence[Exercise]) -> list[str]:
    """Run each exercise's tests on its reference solution, one process each, and record what each
    test function took in TYPICAL; returns the stems whose tests did not all pass (not recorded)."""
    recorded: dict[str, dict[str, float]] = {}
    failing = []
    for exercise in exercises:
        run = run_tests([exercise.tests], exercise.solution.parent, wall_limit=RECORD_WALL_LIMIT)
        if not run.results or any(r.outcome != "passed" for r in run.results):
            failing.append(exercise.stem)
            continue
        recorded[exercise.stem] = dict(sorted(seconds_by_test(run.results).items()))
    TYPICAL.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return failing
