"""The course as graded: a private, read-only copy of the kata files the tests run, and its digest.

Graded code never sees the working repository. At the start of a batch, the files the grading
child runs (the `kata` package, the exercises' test files, pyproject.toml for pytest's settings)
are copied into a fresh folder: no `__pycache__` comes along (a bytecode file planted earlier
would otherwise be trusted by pytest), and nothing else does either (no solutions, no test
variants, which include correct answers, no .git). The digest covers every byte copied, so the
cache knows when the grading code changed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from kata.catalog import REPO_ROOT

SKIPPED_FOLDERS = {"__pycache__"}
KATA_SUFFIXES = {".py", ".json"}


@dataclass(frozen=True)
class Course:
    root: Path  # the private copy
    digest: str  # sha256 over every copied file's path and bytes


def course_files(source: Path = REPO_ROOT) -> list[Path]:
    """The files the grading child runs, relative to `source`, in a stable order."""
    files = [Path("pyproject.toml")]
    for folder, subfolders, names in os.walk(source / "kata"):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS)
        base = Path(folder).relative_to(source)
        files += [base / n for n in sorted(names) if Path(n).suffix in KATA_SUFFIXES]
    files += sorted(p.relative_to(source) for p in (source / "tests").glob("test_*.py"))
    return files


def snapshot(into: Path, source: Path = REPO_ROOT) -> Course:
    """Copy the course into `into` (made here; readable by anyone, writable by its owner only)."""
    digest = hashlib.sha256(b"async-kata course v1\0")
    into.mkdir(mode=0o755)
    os.chmod(into, 0o755)
    for relative in course_files(source):
        data = (source / relative).read_bytes()
        digest.update(relative.as_posix().encode() + b"\0" + hashlib.sha256(data).digest())
        target = into / relative
        for folder in reversed(target.relative_to(into).parents[:-1]):
            if not (into / folder).is_dir():
                (into / folder).mkdir()
                os.chmod(into / folder, 0o755)
        target.write_bytes(data)
        os.chmod(target, 0o644)
    return Course(into, digest.hexdigest())
