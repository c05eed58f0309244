"""Batch grading results on disk, in the formats instructors already use.

    gradebook.csv        one row per student: points per exercise, total, max, percent, flags
    results.csv          one row per student and task, with the first failure's message
    students/<student>/results.json   Gradescope's autograder schema, one file per student
    students/<student>/junit.xml      one <testcase> per test, for CI dashboards (with --junit)

Messages come from code under test, so they can hold anything: NUL and other control
characters, terminal colour codes, lone surrogates, megabytes of text. Every writer cleans
and caps them, writes UTF-8, and replaces its file atomically (a temporary file in the same
folder, then os.replace), so a reader never sees half a report.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from kata.batch.points import TaskScore
from kata.catalog import Exercise
from kata.files import write_atomically
from kata.report import TestResult

# Characters of a message kept in results.csv and the JUnit XML: a whole timeline with its
# "observed" half and the learner's lines (500 cut them off: instructor trial). Gradescope shows
# the student the whole message, as the grading child caps it (kata.batch.child.MESSAGE_CHARS).
MESSAGE_CAP = 2000
GRADESCOPE_MESSAGE_CAP = 4000
CUT_NOTE = " … [cut: {total:,} characters in all]"
NOT_GRADED_TEST = "not graded"

GRADEBOOK_HEADER_END = ["total", "max", "percent", "flags"]
RESULTS_HEADER = [
    "student",
    "exercise",
    "task",
    "title",
    "status",
    "points",
    "max_points",
    "seconds",
    "message",
]
SUMMARY = "{student}: {score} / {max_score} points ({percent:.1f}%), {passed} of {tasks} tasks passed."
PROBLEM_LINE = "Problem: {problem}"
FLAG_LINE = "Note: {flag}"
# Gradescope: the flags go in a test of their own, hidden from the student (Gradescope shows hidden
# tests to the course staff only), worth nothing; kata.batch.classroom leaves it out.
NOTES_TEST = "Notes for the instructor (hidden from the student)"
NOTES_TAG = "kata-notes"

# Terminal escape sequences (colours, cursor moves) go whole, not just their ESC byte.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
# What XML 1.0 forbids (C0 controls but tab, newline, carriage return; U+FFFE, U+FFFF), plus DEL
# and the C1 controls, which no report reader wants either. Lone surrogates are replaced, not dropped.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
SURROGATE = re.compile("[\ud800-\udfff]")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class StudentResult:
    student: str
    tasks: list[TaskScore]
    flags: list[str]
    seconds: float  # wall time spent grading this student
    problem: str | None = None  # why nothing could be graded
    cached: bool = False  # unchanged since the last run: its results came from the cache

    @property
    def score(self) -> float:
        return sum(task.points for task in self.tasks)

    @property
    def max_score(self) -> float:
        return sum(task.max_points for task in self.tasks)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0


def clean_text(text: object) -> str:
    """Text any report format can hold: no escape sequences, no forbidden characters, no lone surrogates."""
    if not isinstance(text, str):
        text = str(text)
    text = ANSI.sub("", text)
    text = FORBIDDEN.sub("", text)
    return SURROGATE.sub("\ufffd", text)


def capped(text: object, limit: int = MESSAGE_CAP) -> str:
    """Cleaned text of at most `limit` characters; a cut one says so and how long it was."""
    raw = text if isinstance(text, str) else str(text)
    # Clean only a window a little larger than the cap: a 10 MB message costs no more than a short one.
    cleaned = clean_text(raw[: limit * 4])
    if len(cleaned) <= limit and len(raw) <= limit * 4:
        return cleaned
    note = CUT_NOTE.format(total=len(raw))
    return cleaned[: max(0, limit - len(note))] + note


LINE_CAP = 500  # a problem or a flag, on one line of a gradebook or a summary


def one_line(text: object, limit: int = LINE_CAP) -> str:
    return " ".join(capped(text, limit).split())


def _finite(value: float) -> float:
    return value if isinstance(value, int | float) and math.isfinite(value) else 0.0


def points_text(value: float) -> str:
    """2.0 -> "2", 1.5 -> "1.5", 1/3 -> "0.33"."""
    value = round(_finite(value), 2)
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0")


def _cell(text: str) -> str:
    """Free text for a CSV cell that a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _flags_text(student: StudentResult) -> str:
    notes = ([student.problem] if student.problem else []) + list(student.flags)
    return _cell("; ".join(one_line(note) for note in notes))


def gradebook_header(exercises: list[Exercise]) -> list[str]:
    return ["student", *(exercise.stem for exercise in exercises), *GRADEBOOK_HEADER_END]


class EarlierReportsError(Exception):
    """The reports already in the folder have other columns than this run's: they are not mixed."""


@dataclass
class Earlier:
    """The rows of students graded earlier into the same folder, exactly as they were written:
    an instructor regrading one student keeps everyone else."""

    gradebook: dict[str, list[str]]  # student -> its gradebook.csv row
    results: dict[str, list[list[str]]]  # student -> its results.csv rows
    # student -> the submission name it was given as (NAMES_FILE); None where not known
    names: dict[str, str | None] = field(default_factory=dict)

    def without(self, students: set[str]) -> Earlier:
        keep = [student for student in self.gradebook if student not in students]
        return Earlier(
            {s: self.gradebook[s] for s in keep},
            {s: self.results.get(s, []) for s in keep},
            {s: self.names.get(s) for s in keep},
        )

    def ids_and_names(self) -> dict[str, str | None]:
        """Each student graded earlier, with the submission name it was given as, where known."""
        return {student: self.names.get(student) for student in self.gradebook}


# Beside the gradebook: each student id with the name its submission was given as, so that a
# later run into the same folder tells the same student graded again from another submission
# whose name makes the same id (kata.batch.student_ids).
NAMES_FILE = "submission-names.json"


def _read_names(path: Path) -> dict[str, str | None]:
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}  # written before names were kept
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise EarlierReportsError(f"{path}: could not read it: {error}") from None
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise EarlierReportsError(f"{path}: not a list of student ids and names: use a fresh --out")
    return names


def write_names(path: Path, names: dict[str, str], earlier: Earlier | None = None) -> None:
    """NAMES_FILE: the earlier students' names (those known), then this run's (`names`)."""
    known = {s: n for s, n in (earlier.names.items() if earlier else ()) if n is not None}
    # ASCII with escapes: a name that is not UTF-8 (os.fsdecode's surrogates) cannot be encoded as
    # UTF-8, and stopped the batch at that student, every run (a red team's `m\xff\xfeallory`).
    write_atomically(path, json.dumps({**known, **names}, indent=1, ensure_ascii=True).encode("ascii"))


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def read_earlier(folder: Path, exercises: list[Exercise], tasks: list[TaskScore]) -> Earlier:
    """The rows of folder/gradebook.csv and folder/results.csv, if the grader wrote them for the
    same exercises and points (`tasks`: each task with its points); else EarlierReportsError."""
    gradebook, results = folder / "gradebook.csv", folder / "results.csv"
    if not gradebook.exists():
        return Earlier({}, {})
    refuse = (
        f"{folder} holds a gradebook for other exercises or points: use a fresh --out, or the same "
        "--exercises and --points as before"
    )
    try:
        rows, lines = _read_csv(gradebook), _read_csv(results)
    except FileNotFoundError:
        raise EarlierReportsError(f"{gradebook} has no results.csv beside it: use a fresh --out") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise EarlierReportsError(f"{folder}: could not read the earlier reports: {error}") from None
    header = gradebook_header(exercises)
    maxima = {(task.stem, str(task.task)): points_text(task.max_points) for task in tasks}
    total = points_text(sum(task.max_points for task in tasks))
    if not rows or rows[0] != header or not lines or lines[0] != RESULTS_HEADER:
        raise EarlierReportsError(refuse)
    earlier = Earlier({}, {}, {})
    names = _read_names(folder / NAMES_FILE)
    for row in rows[1:]:
        if len(row) != len(header) or row[-3] != total:
            raise EarlierReportsError(refuse)
        earlier.gradebook[row[0]] = row
        earlier.names[row[0]] = names.get(row[0])
    for line in lines[1:]:
        known = maxima.get((line[1], line[2]), line[6]) if len(line) == len(RESULTS_HEADER) else None
        if line[6:7] != [known]:
            raise EarlierReportsError(refuse)
        earlier.results.setdefault(line[0], []).append(line)
    return earlier


def write_gradebook(
    path: Path, students: list[StudentResult], exercises: list[Exercise], earlier: Earlier | None = None
) -> None:
    """gradebook.csv: student, points per exercise stem, total, max, percent (1 decimal), flags.

    The rows of students graded earlier (`earlier`, as they were), then one row per student, in
    the order given; flags are "; "-joined, the problem first if any.
    """
    stems = [exercise.stem for exercise in exercises]
    rows = [gradebook_header(exercises), *(earlier.gradebook.values() if earlier else ())]
    for student in students:
        earned = dict.fromkeys(stems, 0.0)
        for task in student.tasks:
            if task.stem in earned:
                earned[task.stem] += task.points
        rows.append(
            [
                one_line(student.student),
                *(points_text(earned[stem]) for stem in stems),
                points_text(student.score),
                points_text(student.max_score),
                f"{_finite(student.percent):.1f}",
                _flags_text(student),
            ]
        )
    write_atomically(path, _csv_bytes(rows))


def write_results_csv(path: Path, students: list[StudentResult], earlier: Earlier | None = None) -> None:
    """results.csv: the rows of students graded earlier (`earlier`, as they were), then one row
    per student and task; the message capped at 500 characters, newlines kept."""
    rows = [
        RESULTS_HEADER,
        *(line for lines in (earlier.results.values() if earlier else ()) for line in lines),
    ]
    for student in students:
        for task in student.tasks:
            rows.append(
                [
                    one_line(student.student),
                    task.stem,
                    str(task.task),
                    clean_text(task.title),
                    task.status,
                    points_text(task.points),
                    points_text(task.max_points),
                    f"{_finite(task.seconds):.3f}",
                    _cell(capped(task.message)),
                ]
            )
    write_atomically(path, _csv_bytes(rows))


def _test_name(task: TaskScore) -> str:
    name = f"{task.stem} task {task.task}"
    return f"{name}: {clean_text(task.title)}" if task.title else name


def _summary(student: StudentResult) -> str:
    """The student's line for Gradescope, and the problem if any (not the flags: _notes_test)."""
    lines = [
        SUMMARY.format(
            student=one_line(student.student),
            score=points_text(student.score),
            max_score=points_text(student.max_score),
            percent=_finite(student.percent),
            passed=sum(task.status == "passed" for task in student.tasks),
            tasks=len(student.tasks),
        )
    ]
    if student.problem:
        lines.append(PROBLEM_LINE.format(problem=one_line(student.problem)))
    return "\n".join(lines)


def _notes_test(student: StudentResult) -> list[dict]:
    """The flags as a hidden Gradescope test worth nothing, or no test when there are none."""
    if not student.flags:
        return []
    return [
        {
            "name": NOTES_TEST,
            "score": 0,
            "max_score": 0,
            "status": "passed",
            "output": "\n".join(FLAG_LINE.format(flag=one_line(flag)) for flag in student.flags),
            "visibility": "hidden",
            "tags": [NOTES_TAG],
        }
    ]


def gradescope_json(student: StudentResult) -> dict:
    """The student's results in Gradescope's autograder results.json schema."""
    return {
        "score": round(_finite(student.score), 4),
        "execution_time": round(_finite(student.seconds)),
        "output": _summary(student),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": _test_name(task),
                "number": f"{int(task.stem[:2]) if task.stem[:2].isdigit() else task.stem}.{task.task}",
                "score": round(_finite(task.points), 4),
                "max_score": round(_finite(task.max_points), 4),
                "status": "passed" if task.status == "passed" else "failed",
                "output": capped(task.message, GRADESCOPE_MESSAGE_CAP),
                "visibility": "visible",
                "tags": [task.stem],
                "extra_data": {"seconds": round(_finite(task.seconds), 3)},  # for Classroom's duration
            }
            for task in student.tasks
        ]
        + _notes_test(student),
    }


def write_gradescope_json(path: Path, student: StudentResult) -> None:
    text = json.dumps(gradescope_json(student), ensure_ascii=False, indent=2, allow_nan=False)
    write_atomically(path, (text + "\n").encode("utf-8"))


def _testcase(parent: ET.Element, classname: str, test: TestResult | None, task: TaskScore) -> str:
    """Add one <testcase>; returns its outcome for the suite's counts."""
    if test is None:  # a task with no results at all still shows, as a failure
        name, outcome, seconds, message = f"task {task.task}: {NOT_GRADED_TEST}", "failed", 0.0, task.message
    else:
        name, outcome, seconds, message = test.test, test.outcome, test.seconds, test.message
    case = ET.SubElement(
        parent, "testcase", classname=classname, name=clean_text(name), time=f"{_finite(seconds):.3f}"
    )
    if outcome == "passed":
        return "passed"
    text = capped(message) or f"{clean_text(name)}: {clean_text(outcome)}"
    if outcome == "skipped":
        ET.SubElement(case, "skipped", message=text)
        return "skipped"
    failure = ET.SubElement(case, "failure", message=text, type=clean_text(outcome))
    failure.text = text
    return "failed"


def junit_xml(student: StudentResult) -> bytes:
    """One <testsuite> for the student, one <testcase> per test (classname = exercise stem)."""
    suite = ET.Element("testsuite", name=one_line(student.student))
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("score", points_text(student.score)),
        ("max_score", points_text(student.max_score)),
        ("percent", f"{_finite(student.percent):.1f}"),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    if student.problem:
        ET.SubElement(properties, "property", name="problem", value=one_line(student.problem))
    for flag in student.flags:
        ET.SubElement(properties, "property", name="flag", value=one_line(flag))
    outcomes = []
    for task in student.tasks:
        for test in task.tests or (None,):
            outcomes.append(_testcase(suite, clean_text(task.stem), test, task))
    suite.set("tests", str(len(outcomes)))
    suite.set("failures", str(outcomes.count("failed")))
    suite.set("errors", "0")
    suite.set("skipped", str(outcomes.count("skipped")))
    suite.set("time", f"{_finite(student.seconds):.3f}")
    root = ET.Element("testsuites", name="async-kata")
    root.append(suite)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit_xml(path: Path, student: StudentResult) -> None:
    write_atomically(path, junit_xml(student))
