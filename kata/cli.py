"""`python grade.py`: check the exercises and show the learner's progress and next step."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kata.catalog import REPO_ROOT, discover, find
from kata.progress import statuses
from kata.runner import run_tests

WALL_LIMIT = 120.0
USAGE_ERROR = 2

ALL_DONE = "All {total} exercises pass. Well done!"
NEXT_STEP = "Next: edit {path} and run `python grade.py` again (hints: hints/{stem}.md)."
PROGRESS = "Progress: {done}/{total} exercises done"


def _bad_usage(message: str) -> int:
    print(f"grade.py: {message}", file=sys.stderr)
    return USAGE_ERROR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python grade.py", description=__doc__)
    parser.add_argument("exercise", nargs="?", help="check only this exercise (number, stem or topic)")
    parser.add_argument("--target", default="exercises", help="directory with your NN_topic.py files")
    args = parser.parse_args(argv)

    target = Path(args.target).resolve()
    if not target.is_dir():
        return _bad_usage(f"--target {args.target}: no such directory")
    exercises = discover()
    if args.exercise:
        exercise = find(exercises, args.exercise)
        if exercise is None:
            return _bad_usage(f"no exercise called {args.exercise!r} (try a number like 02)")
        exercises = [exercise]

    run = run_tests([e.tests for e in exercises], target, wall_limit=WALL_LIMIT)
    if run.collected_nothing:
        tail = "\n".join(run.output.strip().splitlines()[-5:])
        print(f"grade.py: the tests could not run:\n{tail}", file=sys.stderr)
        return 1
    report = statuses(exercises, run.by_stem())
    for status in report:
        tasks = status.tasks
        passed = sum(tasks.values())
        mark = "done" if status.done else "todo"
        print(f"  [{mark}] {status.exercise.stem:<22} {passed}/{len(tasks)} tasks  {status.exercise.title}")
    done = sum(s.done for s in report)
    print(PROGRESS.format(done=done, total=len(report)))
    pending = next((s for s in report if not s.done), None)
    if pending is None:
        print(ALL_DONE.format(total=len(report)))
        return 0
    failure = pending.first_failure
    path = target / f"{pending.exercise.stem}.py"
    print(f"\n{pending.exercise.stem}: {failure.test}")
    print("  " + failure.message.replace("\n", "\n  "))
    print("\n" + NEXT_STEP.format(path=_shown(path), stem=pending.exercise.stem))
    return 1


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
