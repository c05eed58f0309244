"""The stubs as the course ships them, so the grader can tell "not started" and `reset` can restore one.

The learner edits exercises/ in place, so the shipped stubs are recorded once more
in kata/originals.json (stem -> sha256 and text). It works without git (a zip
download) and after the learner commits their own work. The self-check fails when
the record and exercises/ disagree, and says how to refresh it:

    python -m kata.selfcheck --record-originals
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from kata.catalog import REPO_ROOT, Exercise, first_docstring_line, title_of

ORIGINALS = REPO_ROOT / "kata" / "originals.json"
REFRESH = "python -m kata.selfcheck --record-originals"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Original:
    stem: str
    sha256: str
    text: str

    @property
    def title(self) -> str:
        return title_of(first_docstring_line(self.text))

    def matches(self, path: Path) -> bool:
        """The file at `path` is this stub, byte for byte."""
        try:
            return digest(path.read_bytes()) == self.sha256
        except OSError:
            return False


def load_originals(path: Path = ORIGINALS) -> dict[str, Original]:
    """The recorded stubs by stem; empty when the record is missing or unreadable."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {stem: Original(stem, entry["sha256"], entry["text"]) for stem, entry in raw.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def record_originals(exercises: list[Exercise], path: Path = ORIGINALS) -> None:
    """Record the stubs now in exercises/ as the originals."""
    record = {}
    for exercise in exercises:
        if exercise.stub.is_file():
            data = exercise.stub.read_bytes()
            record[exercise.stem] = {"sha256": digest(data), "text": data.decode("utf-8")}
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def originals_problems(exercises: list[Exercise], *, whole_course: bool, path: Path = ORIGINALS) -> list[str]:
    """Where the record disagrees with the stubs in exercises/ (one line each).

    Only for the whole course does a recorded stem with no exercise count as a problem.
    """
    originals = load_originals(path)
    problems = []
    for exercise in exercises:
        original = originals.get(exercise.stem)
        if exercise.stub.is_file() and original is None:
            problems.append(f"{exercise.stem}: the stub is not recorded in kata/originals.json")
        elif original is not None and not original.matches(exercise.stub):
            problems.append(f"{exercise.stem}: exercises/{exercise.stem}.py differs from kata/originals.json")
    if not whole_course:
        return problems
    known = {e.stem for e in exercises}
    problems += [
        f"{stem}: kata/originals.json records a stub with no exercise" for stem in originals.keys() - known
    ]
    return problems
