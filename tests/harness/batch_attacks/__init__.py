"""Submissions that attack the grader grading them, as data for tests/harness/test_batch_class.py.

Each folder here is one student's submission: `<student>/NN_topic.py`, read as text, never imported.
`submission_files()` turns one into the files a student would hand in:

- the line `from kit import ...` becomes the code of kit.py (what every attack shares: finding its
  own grader, staying confined to the test's folder, starting processes that end by themselves);
- the line `from solution import *` becomes the reference solution of that exercise;
- "@@RANGE@@" and "@@MARK@@" become the test's folder (the only place an attack may write) and the
  run's marker (in the argv of every process an attack starts, and in every file it plants);
- an exercise the folder has no file for is the stub, as handed out.

As stored, the files are inert: with no folder in RANGE, kit.py lets no attack act.
"""

from __future__ import annotations

import re
from pathlib import Path

CORPUS = Path(__file__).parent
KIT = CORPUS / "kit.py"
KIT_IMPORT = re.compile(r"^from kit import (?:\([^)]*\)|.*)$", re.MULTILINE)
SOLUTION_IMPORT = re.compile(r"^from solution import \*.*$", re.MULTILINE)


def students() -> list[str]:
    """The attacking students, one per folder."""
    return sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("__"))


def reporting() -> list[str]:
    """The attackers whose own failure message says what they did (kit.what_happened())."""
    return [
        s for s in students() if any("what_happened()" in f.read_text() for f in (CORPUS / s).glob("*.py"))
    ]


def submission_files(
    student: str, course: Path, stems: list[str], *, range_dir: Path, mark: str
) -> dict[str, str]:
    """stem -> the text of the student's NN_topic.py, ready to hand in (see the module docstring)."""
    kit = KIT.read_text()
    files = {}
    for stem in stems:
        path = CORPUS / student / f"{stem}.py"
        if not path.is_file():
            files[stem] = (course / "exercises" / f"{stem}.py").read_text()
            continue
        text = path.read_text()
        solution = (course / "solutions" / f"{stem}.py").read_text()
        for line, replacement in ((KIT_IMPORT, kit), (SOLUTION_IMPORT, solution)):
            text = line.sub(lambda _, pasted=replacement: pasted, text, count=1)
        files[stem] = text.replace("@@RANGE@@", str(range_dir)).replace("@@MARK@@", mark)
    return files
