"""Batch grading's points and report files: what a task is worth, and what instructors get on disk.

Each test builds a small course in tmp_path (hints files name the tasks) and scores made-up
test results, so nothing here runs learner code.
"""

import csv
import json
import os
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kata.batch.points import Points, PointsError, TaskScore, load_points, score_tasks
from kata.batch.reports import (
    MESSAGE_CAP,
    NAMES_FILE,
    EarlierReportsError,
    StudentResult,
    gradescope_json,
    read_earlier,
    write_gradebook,
    write_gradescope_json,
    write_junit_xml,
    write_names,
    write_results_csv,
)
from kata.catalog import REPO_ROOT, Exercise, discover
from kata.hints import read_hints
from kata.report import TestResult

HINTS = {
    "01_demo": ["start them together", "second thing"],
    "02_other": ["only task"],
}
TEN_MB = "x" * (10 * 1024 * 1024)
ODD_MESSAGES = {
    "nul": "before\x00after",
    "ansi colour": "\x1b[31mred\x1b[0m and plain",
    "emoji": "too slow 🐢 (non-BMP) and 💥",
    "lone surrogate": "broken \ud800 text",
    "control characters": "bell\x07 backspace\x08 form feed\x0c DEL\x7f C1\x9b",
    "ten megabytes": TEN_MB,
    "newlines": "line one\nline two\r\nline three",
}


@pytest.fixture
def course(tmp_path: Path) -> list[Exercise]:
    hints = tmp_path / "hints"
    hints.mkdir()
    for stem, titles in HINTS.items():
        body = "".join(f"## Task {n}: {title}\n\n1. a\n2. b\n3. c\n\n" for n, title in enumerate(titles, 1))
        (hints / f"{stem}.md").write_text(f"# Hints: {stem}\n\n{body}", encoding="utf-8")
    return discover(tmp_path)


def result(stem: str, task: int | None, name: str, outcome: str = "passed", message: str = "") -> TestResult:
    return TestResult(f"tests/test_{stem}.py::{name}", stem, name, task, outcome, 0.25, message)


def all_passed() -> list[TestResult]:
    return [
        result("01_demo", 1, "test_a"),
        result("01_demo", 1, "test_b"),
        result("01_demo", 2, "test_c"),
        result("02_other", 1, "test_d"),
    ]


def student(name: str, tasks: list[TaskScore], **extra) -> StudentResult:
    return StudentResult(name, tasks, extra.pop("flags", []), extra.pop("seconds", 1.5), **extra)


def write_points(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "points.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- points ---------------------------------------------------------------------------------------


def test_the_shipped_points_toml_is_valid_and_worth_one_point_per_task():
    points = load_points()
    for exercise in discover(REPO_ROOT):
        for task in read_hints(exercise.hints):
            assert points.task_points(exercise.stem, task) == 1, (
                f"{exercise.stem} task {task}: points.toml ships with the default of 1 point per task"
            )


def test_an_override_changes_only_the_tasks_it_names(tmp_path, course):
    path = write_points(
        tmp_path,
        "default_task_points = 1\n[exercises.01_demo]\ntask_points = { 2 = 2.5 }\n",
    )
    points = load_points(path, course)
    assert points.task_points("01_demo", 2) == 2.5, "the override sets task 2's points"
    assert points.task_points("01_demo", 1) == 1, "task 1 is not named, so it keeps the default"
    assert points.task_points("02_other", 1) == 1, "other exercises keep the default"
    scores = score_tasks(course, all_passed(), points)
    assert [(s.stem, s.task, s.points, s.max_points) for s in scores] == [
        ("01_demo", 1, 1, 1),
        ("01_demo", 2, 2.5, 2.5),
        ("02_other", 1, 1, 1),
    ]


def test_a_changed_default_applies_to_every_task_not_overridden(tmp_path, course):
    points = load_points(write_points(tmp_path, "default_task_points = 0.5\n"), course)
    assert points.task_points("02_other", 1) == 0.5


def test_a_task_earns_its_points_only_when_all_its_tests_passed(course):
    results = all_passed()
    results[1] = result("01_demo", 1, "test_b", "failed", "your 4 calls ran one after another (0.81 s)")
    scores = score_tasks(course, results, Points())
    task1, task2, other = scores
    assert (task1.status, task1.points, task1.max_points) == ("failed", 0, 1), (
        "one failing test out of two fails the whole task: no partial points"
    )
    assert task1.message == "your 4 calls ran one after another (0.81 s)", "the first failing test's message"
    assert task1.seconds == pytest.approx(0.5), "a task's seconds add up its tests' seconds"
    assert [t.test for t in task1.tests] == ["test_a", "test_b"]
    assert (task2.status, task2.points, task2.message) == ("passed", 1, "")
    assert task2.title == "second thing", "titles come from the hints file"
    assert other.status == "passed"


@pytest.mark.parametrize("outcome", ["skipped", "error", "not run"])
def test_any_outcome_but_passed_fails_the_task(course, outcome):
    results = [*all_passed()[:2], result("01_demo", 2, "test_c", outcome)]
    task2 = score_tasks(course, results, Points())[1]
    assert task2.status == "failed", (
        f"a {outcome!r} test is not a passed one (code under test can skip itself)"
    )
    assert task2.message == f"test_c: {outcome}", "an empty message is replaced by the test and its outcome"


def test_a_task_without_results_fails_with_the_reason_given_for_its_exercise(course):
    results = all_passed()[:3]  # nothing for 02_other
    scores = score_tasks(course, results, Points(), {"02_other": "exercises/02_other.py is missing"})
    other = scores[-1]
    assert (other.status, other.points, other.max_points) == ("failed", 0, 1), "a task not graded is worth 0"
    assert other.message == "not graded: exercises/02_other.py is missing"
    assert other.tests == ()
    no_reason = score_tasks(course, results, Points())[-1]
    assert no_reason.message.startswith("not graded: "), "without a reason the message still says why"


def test_tasks_come_from_the_hints_and_from_the_results(course):
    results = [*all_passed(), result("01_demo", 3, "test_extra"), result("99_unknown", 1, "test_x")]
    scores = score_tasks(course, results, Points())
    assert [(s.stem, s.task, s.title) for s in scores] == [
        ("01_demo", 1, "start them together"),
        ("01_demo", 2, "second thing"),
        ("01_demo", 3, ""),
        ("02_other", 1, "only task"),
    ], "a task that only the results name is scored (untitled); stems outside the course are ignored"


def test_tests_without_a_task_are_reported_but_worth_nothing(course):
    scores = score_tasks(course, [*all_passed(), result("02_other", None, "test_loose")], Points())
    [loose] = [score for score in scores if score.task == 0]
    assert (loose.stem, loose.title, loose.max_points, loose.status) == (
        "02_other",
        "tests without a task",
        0,
        "passed",
    ), "a test with no task marker is listed under task 0, and adds nothing to the score"
    assert sum(score.max_points for score in scores) == 3, "only the 3 real tasks count towards the maximum"


def test_points_toml_naming_an_unknown_exercise_or_task_is_refused_naming_them(tmp_path, course):
    path = write_points(
        tmp_path,
        "[exercises.99_nope]\ntask_points = { 1 = 2 }\n[exercises.01_demo]\ntask_points = { 7 = 2 }\n",
    )
    with pytest.raises(PointsError) as error:
        load_points(path, course)
    message = str(error.value)
    assert "99_nope" in message and "unknown exercise" in message, message
    assert "01_demo" in message and "unknown task '7'" in message, message
    assert "\n" not in message, "a PointsError is one line"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("default_task_points = -1\n", id="negative default"),
        pytest.param('default_task_points = "one"\n', id="string default"),
        pytest.param("default_task_points = true\n", id="boolean default"),
        pytest.param("default_task_points = nan\n", id="nan default"),
        pytest.param("[exercises.01_demo]\ntask_points = { 1 = -2 }\n", id="negative task"),
        pytest.param('[exercises.01_demo]\ntask_points = { 1 = "2" }\n', id="string task"),
    ],
)
def test_negative_or_non_numeric_points_are_refused(tmp_path, course, text):
    with pytest.raises(PointsError, match="not a number of points"):
        load_points(write_points(tmp_path, text), course)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("default_task_points = \n", "not valid TOML", id="bad toml"),
        pytest.param("default_points = 2\n", "unknown setting 'default_points'", id="misspelt setting"),
        pytest.param(
            "[exercises.01_demo]\npoints = 2\n", "unknown setting 'points'", id="misspelt exercise setting"
        ),
    ],
)
def test_a_broken_or_misspelt_points_file_is_refused_in_one_line(tmp_path, course, text, expected):
    with pytest.raises(PointsError, match=expected) as error:
        load_points(write_points(tmp_path, text), course)
    assert "\n" not in str(error.value)


def test_a_missing_points_file_is_refused(tmp_path, course):
    with pytest.raises(PointsError, match="no such file"):
        load_points(tmp_path / "nope.toml", course)


# --- reports --------------------------------------------------------------------------------------


def two_students(course: list[Exercise]) -> list[StudentResult]:
    points = Points(1, {"01_demo": {2: 1.5}})
    half = all_passed()
    half[0] = result("01_demo", 1, "test_a", "failed", "first\nsecond line")
    return [
        student("ada", score_tasks(course, all_passed(), points), flags=["extra file conftest.py (ignored)"]),
        student(
            "bob",
            score_tasks(course, half[:3], points, {"02_other": "no file"}),
            problem="something odd",
            flags=["a flag"],
        ),
    ]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def test_student_score_max_and_percent_add_up_the_tasks(course):
    ada, bob = two_students(course)
    assert (ada.score, ada.max_score, ada.percent) == (3.5, 3.5, 100.0)
    assert (bob.score, bob.max_score) == (1.5, 3.5)
    assert bob.percent == pytest.approx(42.857, abs=0.001)
    assert student("nobody", []).percent == 0, "no tasks at all is 0%, not a division by zero"


def test_gradebook_has_a_column_per_exercise_then_total_max_percent_and_flags(tmp_path, course):
    path = tmp_path / "out" / "gradebook.csv"
    write_gradebook(path, two_students(course), course)
    with path.open(encoding="utf-8", newline="") as source:
        header = next(csv.reader(source))
    assert header == ["student", "01_demo", "02_other", "total", "max", "percent", "flags"]
    ada, bob = read_csv(path)
    assert ada == {
        "student": "ada",
        "01_demo": "2.5",
        "02_other": "1",
        "total": "3.5",
        "max": "3.5",
        "percent": "100.0",
        "flags": "extra file conftest.py (ignored)",
    }
    assert (bob["student"], bob["01_demo"], bob["02_other"]) == ("bob", "1.5", "0")
    assert (bob["total"], bob["max"], bob["percent"]) == ("1.5", "3.5", "42.9"), "percent has one decimal"
    assert bob["flags"] == "something odd; a flag", "the problem comes first, then the flags, '; '-joined"


def test_results_csv_has_one_row_per_student_and_task(tmp_path, course):
    path = tmp_path / "results.csv"
    write_results_csv(path, two_students(course))
    rows = read_csv(path)
    assert list(rows[0]) == [
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
    assert [(r["student"], r["exercise"], r["task"], r["status"], r["points"]) for r in rows] == [
        ("ada", "01_demo", "1", "passed", "1"),
        ("ada", "01_demo", "2", "passed", "1.5"),
        ("ada", "02_other", "1", "passed", "1"),
        ("bob", "01_demo", "1", "failed", "0"),
        ("bob", "01_demo", "2", "passed", "1.5"),
        ("bob", "02_other", "1", "failed", "0"),
    ]
    assert rows[3]["title"] == "start them together"
    assert rows[3]["max_points"] == "1" and rows[3]["seconds"] == "0.500"
    assert rows[3]["message"] == "first\nsecond line", (
        "newlines in a message are kept (the csv module quotes)"
    )
    assert rows[5]["message"] == "not graded: no file"


POINTS = Points(1, {"01_demo": {2: 1.5}})


def grade_into(folder: Path, course: list[Exercise], students: list[StudentResult]) -> list[str]:
    """What kata.batch.command does for a run into `folder`: the earlier rows of the students not
    in this run are kept; returns the students it kept."""
    earlier = read_earlier(folder, course, score_tasks(course, [], POINTS))
    earlier = earlier.without({s.student for s in students})
    write_gradebook(folder / "gradebook.csv", students, course, earlier)
    write_results_csv(folder / "results.csv", students, earlier)
    return list(earlier.gradebook)


def test_regrading_one_student_into_the_same_folder_carries_over_everyone_else_unchanged(tmp_path, course):
    """`grade.py batch class/dave --out grades` rewrote grades/gradebook.csv with dave alone."""
    grade_into(tmp_path, course, two_students(course))
    gradebook, results = (tmp_path / "gradebook.csv").read_text(), (tmp_path / "results.csv").read_text()
    dave = student("dave", score_tasks(course, all_passed(), POINTS))
    assert grade_into(tmp_path, course, [dave]) == ["ada", "bob"]
    assert [row["student"] for row in read_csv(tmp_path / "gradebook.csv")] == ["ada", "bob", "dave"]
    assert (tmp_path / "gradebook.csv").read_text().startswith(gradebook), "earlier rows kept as they were"
    assert (tmp_path / "results.csv").read_text().startswith(results)
    assert [r["student"] for r in read_csv(tmp_path / "results.csv")].count("dave") == 3


def test_regrading_a_student_replaces_its_own_rows_and_keeps_the_others(tmp_path, course):
    ada, bob = two_students(course)
    grade_into(tmp_path, course, [ada, bob])
    fixed = student("bob", score_tasks(course, all_passed(), POINTS))
    assert grade_into(tmp_path, course, [fixed]) == ["ada"]
    gradebook = read_csv(tmp_path / "gradebook.csv")
    assert [(r["student"], r["total"], r["flags"]) for r in gradebook] == [
        ("ada", "3.5", "extra file conftest.py (ignored)"),
        ("bob", "3.5", ""),
    ]
    results = read_csv(tmp_path / "results.csv")
    assert [(r["student"], r["status"]) for r in results if r["student"] == "bob"] == [("bob", "passed")] * 3


def test_the_names_submissions_were_given_as_are_kept_for_the_next_run_into_the_same_folder(tmp_path, course):
    """kata.batch.student_ids needs them to tell the same student graded again from another
    submission whose name makes the same id (o'brien, then `o brien`)."""
    ada, bob = two_students(course)
    grade_into(tmp_path, course, [ada, bob])
    write_names(tmp_path / NAMES_FILE, {"ada": "Ada", "bob": "bob.zip"})
    earlier = read_earlier(tmp_path, course, score_tasks(course, [], POINTS))
    assert earlier.ids_and_names() == {"ada": "Ada", "bob": "bob.zip"}
    write_names(tmp_path / NAMES_FILE, {"carol": "carol"}, earlier.without({"bob"}))
    again = read_earlier(tmp_path, course, score_tasks(course, [], POINTS))
    assert json.loads((tmp_path / NAMES_FILE).read_text()) == {"ada": "Ada", "carol": "carol"}
    assert again.ids_and_names() == {"ada": "Ada", "bob": None}, "bob's row without a name: not known"
    (tmp_path / NAMES_FILE).write_text("[1, 2]")
    with pytest.raises(EarlierReportsError, match="fresh --out"):
        read_earlier(tmp_path, course, score_tasks(course, [], POINTS))


def test_a_submission_name_that_is_not_utf8_is_kept_and_read_back_as_it_was(tmp_path, course):
    """A folder named with bytes that are not UTF-8 (b"m\\xff\\xfeallory", os.fsdecode's surrogates)
    stopped the batch at that student, every run: its name could not be written (a red team's)."""
    ada, bob = two_students(course)
    grade_into(tmp_path, course, [ada, bob])
    name = os.fsdecode(b"m\xff\xfeallory")
    write_names(tmp_path / NAMES_FILE, {"ada": "Ada", "bob": name})
    earlier = read_earlier(tmp_path, course, score_tasks(course, [], POINTS))
    assert earlier.ids_and_names() == {"ada": "Ada", "bob": name}


def test_earlier_reports_for_other_exercises_or_points_are_refused_never_mixed(tmp_path, course):
    grade_into(tmp_path, course, two_students(course))
    other_points = Points(1, {"01_demo": {2: 2}})
    with pytest.raises(EarlierReportsError, match="fresh --out"):
        read_earlier(tmp_path, course, score_tasks(course, [], other_points))
    with pytest.raises(EarlierReportsError, match="fresh --out"):
        read_earlier(tmp_path, course[:1], score_tasks(course[:1], [], POINTS))
    assert read_earlier(tmp_path / "nothing yet", course, score_tasks(course, [], POINTS)).gradebook == {}


def test_a_batch_into_a_gradebook_of_other_exercises_is_refused_in_one_line_before_grading(tmp_path):
    """Exit code 2 and one line, before the sandbox is even chosen; the gradebook is left alone."""
    out = tmp_path / "grades"
    out.mkdir()
    gradebook = "student,01_coroutines,02_gather,total,max,percent,flags\nada,2,3,5,5,100.0,\n"
    (out / "gradebook.csv").write_text(gradebook)
    (out / "results.csv").write_text("student,exercise,task,title,status,points,max_points,seconds,message\n")
    (tmp_path / "dave").mkdir()
    command = [sys.executable, "grade.py", "batch", str(tmp_path / "dave"), "--out", str(out)]
    ran = subprocess.run(
        [*command, "--exercises", "01"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 2, ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1 and "fresh --out" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    assert (out / "gradebook.csv").read_text() == gradebook


def test_results_csv_caps_messages_and_says_so(tmp_path, course):
    tasks = score_tasks(course, [result("02_other", 1, "test_d", "failed", "y" * 5000)], Points())
    path = tmp_path / "results.csv"
    write_results_csv(path, [student("ada", tasks)])
    message = read_csv(path)[-1]["message"]
    assert len(message) <= MESSAGE_CAP, f"{len(message)} characters: messages are capped at {MESSAGE_CAP}"
    assert message.startswith("yyy") and "cut: 5,000 characters in all" in message, message[-60:]


def test_a_message_a_spreadsheet_would_run_as_a_formula_is_quoted(tmp_path, course):
    hostile = '=HYPERLINK("http://evil.example","click")'
    tasks = score_tasks(course, [result("02_other", 1, "test_d", "failed", hostile)], Points())
    path = tmp_path / "results.csv"
    write_results_csv(path, [student("ada", tasks)])
    assert read_csv(path)[-1]["message"] == "'" + hostile, "a leading ' keeps Excel from running it"


def test_gradescope_json_has_exactly_gradescopes_keys_and_types(tmp_path, course):
    bob = two_students(course)[1]
    data = gradescope_json(bob)
    assert set(data) == {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"}
    assert isinstance(data["score"], int | float) and not isinstance(data["score"], bool)
    assert data["score"] == 1.5
    assert isinstance(data["execution_time"], int) and data["execution_time"] == 2, "whole seconds"
    assert data["output"].splitlines() == [
        "bob: 1.5 / 3.5 points (42.9%), 1 of 3 tasks passed.",
        "Problem: something odd",
    ], "the flags are not for the student's eyes"
    assert (data["visibility"], data["stdout_visibility"]) == ("visible", "hidden")
    assert isinstance(data["tests"], list) and len(data["tests"]) == 4, (
        "one Gradescope test per task, and the notes"
    )
    notes = data["tests"][-1]
    assert notes == {
        "name": "Notes for the instructor (hidden from the student)",
        "score": 0,
        "max_score": 0,
        "status": "passed",
        "output": "Note: a flag",
        "visibility": "hidden",
        "tags": ["kata-notes"],
    }, "the flags, as a test only the course staff see, worth nothing"
    first = data["tests"][0]
    # extra_data: Gradescope's "optional extra data to be stored"; the Classroom converter reads
    # each task's seconds there.
    keys = {"name", "number", "score", "max_score", "status", "output", "visibility", "tags", "extra_data"}
    assert set(first) == keys
    assert first == {
        "name": "01_demo task 1: start them together",
        "number": "1.1",
        "score": 0,
        "max_score": 1,
        "status": "failed",
        "output": "first\nsecond line",
        "visibility": "visible",
        "tags": ["01_demo"],
        "extra_data": {"seconds": first["extra_data"]["seconds"]},
    }
    assert isinstance(first["extra_data"]["seconds"], float), first["extra_data"]
    assert {t["status"] for t in data["tests"]} <= {"passed", "failed"}
    assert data["tests"][1]["number"] == "1.2" and data["tests"][1]["score"] == 1.5

    path = tmp_path / "results.json"
    write_gradescope_json(path, bob)
    assert json.loads(path.read_text(encoding="utf-8")) == data, "the file holds the same JSON"


def test_junit_xml_parses_and_holds_one_testcase_per_test(tmp_path, course):
    ada, bob = two_students(course)
    path = tmp_path / "junit.xml"
    write_junit_xml(path, ada)
    suite = ET.parse(path).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("01_demo", "test_a"),
        ("01_demo", "test_b"),
        ("01_demo", "test_c"),
        ("02_other", "test_d"),
    ]
    assert (suite.get("tests"), suite.get("failures")) == ("4", "0")

    write_junit_xml(path, bob)
    suite = ET.parse(path).getroot().find("testsuite")
    cases = {(c.get("classname"), c.get("name")): c for c in suite.findall("testcase")}
    failure = cases["01_demo", "test_a"].find("failure")
    assert failure is not None and failure.get("message") == "first\nsecond line"
    assert cases["01_demo", "test_b"].find("failure") is None, "a passed test has no <failure>"
    not_graded = cases["02_other", "task 1: not graded"].find("failure")
    assert not_graded is not None and not_graded.get("message") == "not graded: no file", (
        "a task with no results still shows, as a failing testcase, so a dashboard is not all green"
    )
    assert suite.get("failures") == "2"


@pytest.mark.parametrize("kind", list(ODD_MESSAGES))
@pytest.mark.load_sensitive
def test_odd_messages_break_no_writer(tmp_path, course, kind):
    odd = ODD_MESSAGES[kind]
    results = [result("01_demo", 1, "test_a", "failed", odd), *all_passed()[1:]]
    someone = student(f"odd-{kind}", score_tasks(course, results, Points()), flags=[odd], problem=odd)
    started = time.perf_counter()
    write_gradebook(tmp_path / "gradebook.csv", [someone], course)
    write_results_csv(tmp_path / "results.csv", [someone])
    write_gradescope_json(tmp_path / "results.json", someone)
    write_junit_xml(tmp_path / "junit.xml", someone)
    assert time.perf_counter() - started < 2, "a 10 MB message is capped before it is cleaned"

    for name in ("gradebook.csv", "results.csv", "results.json", "junit.xml"):
        text = (tmp_path / name).read_text(encoding="utf-8")  # valid UTF-8, or this raises
        assert "\x00" not in text and "\x1b" not in text, f"{name} holds a control character"
        assert len(text) < 20_000, f"{name} is {len(text):,} characters: messages are capped"
    message = read_csv(tmp_path / "results.csv")[0]["message"]
    output = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["tests"][0]["output"]
    failure = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite/testcase/failure")
    assert failure is not None, "the failing test is still reported"
    if kind == "emoji":
        assert message == output == failure.get("message") == odd, "non-BMP text is kept as it is"
    if kind == "ansi colour":
        assert output == "red and plain", "terminal colour codes are removed whole"


def test_writers_replace_the_file_whole_and_leave_no_temporary_files(tmp_path, course):
    path = tmp_path / "gradebook.csv"
    path.write_text("an older gradebook\n", encoding="utf-8")
    write_gradebook(path, two_students(course), course)
    assert path.read_text(encoding="utf-8").startswith("student,01_demo,")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["gradebook.csv"], (
        "the temporary file was renamed over the old one, not left behind"
    )
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, "a report gets the usual mode, not 0600"


@pytest.mark.timeout(120)
@pytest.mark.load_sensitive  # 01's solution must earn every point
def test_an_override_for_an_exercise_not_graded_in_this_run_is_accepted(tmp_path):
    """points.toml is the course's: `--exercises 01` with an override for 22 (as the shipped file's
    own example shows) grades 01, where it was refused as 'no such stem in the course'."""
    import subprocess
    import sys

    points = write_points(tmp_path, "[exercises.22_capstone]\ntask_points = { 1 = 2, 2 = 2, 3 = 3 }\n")
    student = tmp_path / "class" / "alice"
    student.mkdir(parents=True)
    (student / "01_coroutines.py").write_text((REPO_ROOT / "solutions" / "01_coroutines.py").read_text())
    out = tmp_path / "grades"
    command = [sys.executable, str(REPO_ROOT / "grade.py"), "batch", str(student), "--out", str(out)]
    command += ["--exercises", "01", "--points", str(points), "--sandbox", "none", "-j", "1", "--plain"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=110, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    with open(out / "gradebook.csv", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert float(row["total"]) == float(row["max"]) == 3.0, row
