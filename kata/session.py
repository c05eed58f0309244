"""Everything one grade.py command works with: the course, the target folder, saved progress, the screen."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from kata.catalog import REPO_ROOT, Exercise, discover, find
from kata.checking import Checker, learner_file
from kata.hints import TaskHints, read_hints
from kata.originals import Original, load_originals
from kata.state import ProgressFile
from kata.ui import Look

GRADE_PY = "grade.py"


class UsageError(Exception):
    """Bad usage: reported in one line, exit code 2."""


@dataclass
class Session:
    target: Path
    exercises: list[Exercise]
    progress: ProgressFile
    originals: dict[str, Original]
    look: Look
    out: Console
    err: Console
    # How the learner starts the grader: grade.py (suggested as `python grade.py`, with the path to
    # grade.py as they would type it from where they are), or the installed command `async-kata`.
    program: str = GRADE_PY
    checker: Checker = field(init=False)
    _hints: dict[str, dict[int, TaskHints]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.checker = Checker(self.target, self.progress, self.originals)

    @classmethod
    def open(
        cls, target: Path, *, plain: bool = False, quiet: bool = False, program: str = GRADE_PY
    ) -> Session:
        if not target.is_dir():
            reason = "not a directory" if target.exists() else "no such directory"
            raise UsageError(f"--target {target}: {reason}")
        exercises = discover()
        if not exercises:
            raise UsageError(f"no exercises found in {REPO_ROOT}")
        look = Look.detect(plain=plain or quiet)
        session = cls(
            target=target.resolve(),
            exercises=exercises,
            progress=ProgressFile(),
            originals=load_originals(),
            look=look,
            out=look.console(),
            err=Look.detect(plain=plain, stream=sys.stderr).console(stderr=True),
            program=program,
        )
        if session.progress.warning:
            session.err.print(f"{session.program}: note: {session.progress.warning}", markup=False)
        return session

    def find(self, name: str) -> Exercise:
        exercise = find(self.exercises, name)
        if exercise is None:
            raise UsageError(f"no exercise called {name!r} (try a number like 03, or {self.command('list')})")
        return exercise

    def title(self, exercise: Exercise) -> str:
        """From the stub as shipped: the learner's copy may have lost or changed its lesson."""
        original = self.originals.get(exercise.stem)
        return (original.title if original else "") or exercise.title

    def hints(self, exercise: Exercise) -> dict[int, TaskHints]:
        if exercise.stem not in self._hints:
            try:
                self._hints[exercise.stem] = read_hints(exercise.hints)
            except (OSError, UnicodeDecodeError):
                self._hints[exercise.stem] = {}
        return self._hints[exercise.stem]

    def task_titles(self, exercise: Exercise) -> dict[int, str]:
        return {n: task.title for n, task in self.hints(exercise).items()}

    def task_counts(self) -> dict[str, int]:
        return {e.stem: len(self.hints(e)) for e in self.exercises}

    def shown(self, path: Path) -> str:
        """A path as the learner would type it: relative to where they are when both are inside the
        kata (`exercises/01_coroutines.py`, `../exercises/01_coroutines.py` from tests/), or when
        it is below where they are; else whole (`/tmp/mine/11_timeouts.py`, not `../../tmp/...`)."""
        path, here, root = path.resolve(), Path.cwd().resolve(), REPO_ROOT.resolve()
        if path.is_relative_to(here):
            return path.relative_to(here).as_posix()
        if here.is_relative_to(root) and path.is_relative_to(root):
            return Path(os.path.relpath(path, here)).as_posix()
        return str(path)

    def file_of(self, exercise: Exercise) -> str:
        return self.shown(learner_file(exercise, self.target))

    def grade_py(self) -> str:
        """grade.py as the learner would type it from where they are (`grade.py` at the root)."""
        return self.shown(REPO_ROOT / GRADE_PY)

    def command(self, *words: str) -> str:
        """The grade.py command line to suggest, keeping a non-default --target."""
        start = f"python {self.grade_py()}" if self.program == GRADE_PY else self.program
        line = start + "".join(f" {w}" for w in words if w)
        default = (REPO_ROOT / "exercises").resolve()
        if self.target != default:
            line += f" --target {self.shown(self.target)}"
        return f"`{line}`"
