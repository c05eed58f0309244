"""Find the exercises: one stem (`NN_topic`) names four files.

    exercises/NN_topic.py   the stub the learner edits
    solutions/NN_topic.py   the reference solution
    tests/test_NN_topic.py  the tests
    hints/NN_topic.md       the progressive hints

There is no list to edit: an exercise exists when its files do.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

STEM = re.compile(r"^(?P<number>\d{2})_(?P<topic>[a-z0-9]+(?:_[a-z0-9]+)*)$")
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Exercise:
    stem: str
    root: Path

    @property
    def number(self) -> int:
        return int(self.stem[:2])

    @property
    def stub(self) -> Path:
        return self.root / "exercises" / f"{self.stem}.py"

    @property
    def solution(self) -> Path:
        return self.root / "solutions" / f"{self.stem}.py"

    @property
    def tests(self) -> Path:
        return self.root / "tests" / f"test_{self.stem}.py"

    @property
    def hints(self) -> Path:
        return self.root / "hints" / f"{self.stem}.md"

    @property
    def files(self) -> dict[str, Path]:
        return {"stub": self.stub, "solution": self.solution, "tests": self.tests, "hints": self.hints}

    @property
    def title(self) -> str:
        """The lesson's title: the stub docstring's first line, after "Exercise NN:"."""
        first = lesson_first_line(self.solution if not self.stub.is_file() else self.stub)
        return title_of(first) or self.stem


def title_of(first_line: str) -> str:
    """ "Exercise 02: asyncio.gather, several calls at once" -> "asyncio.gather, several calls at once"."""
    return (
        first_line.split(":", 1)[1].strip()
        if first_line.startswith("Exercise ") and ":" in first_line
        else ""
    )


def lesson_first_line(path: Path) -> str:
    try:
        return first_docstring_line(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return ""


def first_docstring_line(source: str) -> str:
    try:
        doc = ast.get_docstring(ast.parse(source))
    except (SyntaxError, ValueError):
        return ""
    return doc.splitlines()[0] if doc else ""


def exercise_stem(test: Path | str) -> str:
    """The exercise a test file, or a test id in it, belongs to: tests/test_02_gather.py -> 02_gather"""
    return Path(str(test).split("::", 1)[0]).stem.removeprefix("test_")


def _stems_in(folder: Path, pattern: str, prefix: str = "") -> set[str]:
    stems = set()
    for path in folder.glob(pattern):
        stem = path.stem.removeprefix(prefix)
        if STEM.match(stem):
            stems.add(stem)
    return stems


def discover(root: Path = REPO_ROOT) -> list[Exercise]:
    """Every stem that has at least one of its four files, in exercise order."""
    stems = (
        _stems_in(root / "exercises", "*.py")
        | _stems_in(root / "solutions", "*.py")
        | _stems_in(root / "tests", "test_*.py", prefix="test_")
        | _stems_in(root / "hints", "*.md")
    )
    return [Exercise(stem, root) for stem in sorted(stems)]


def structure_problems(exercise: Exercise) -> list[str]:
    """What is missing or inconsistent in one exercise's files, in one line each."""
    problems = [
        f"{exercise.stem}: {kind} file {path.relative_to(exercise.root)} is missing"
        for kind, path in exercise.files.items()
        if not path.is_file()
    ]
    if exercise.stub.is_file():
        first = lesson_first_line(exercise.stub)
        if not first.startswith(f"Exercise {exercise.stem[:2]}: "):
            problems.append(
                f"{exercise.stem}: the stub's lesson should open with 'Exercise {exercise.stem[:2]}: <title>'"
            )
    return problems


def duplicate_numbers(exercises: list[Exercise]) -> list[str]:
    """Two stems may not share a number: NN orders the course."""
    seen: dict[int, str] = {}
    problems = []
    for exercise in exercises:
        if exercise.number in seen:
            problems.append(
                f"{seen[exercise.number]} and {exercise.stem} share the number {exercise.number:02d}"
            )
        seen.setdefault(exercise.number, exercise.stem)
    return problems


def find(exercises: list[Exercise], name: str) -> Exercise | None:
    """Look an exercise up by number ("3", "03"), stem ("03_create_task") or topic ("create_task")."""
    for exercise in exercises:
        if name in (exercise.stem, exercise.stem[3:]) or (name.isdigit() and int(name) == exercise.number):
            return exercise
    return None
