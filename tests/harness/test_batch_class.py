"""`grade.py batch` on a class that has everything: full points go to correct work only.

One run of the real command grades exercises 01 and 02 for a class of submissions that
are correct, partial, broken, hanging or cheating in each of the ways graders are known
to be beaten (see shared FIELD-NOTES). Every test below reads that run's reports.
"""

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kata.catalog import REPO_ROOT

pytestmark = pytest.mark.timeout(300)

SOLUTION = {
    stem: (REPO_ROOT / "solutions" / f"{stem}.py").read_text() for stem in ("01_coroutines", "02_gather")
}
STUB = {stem: (REPO_ROOT / "exercises" / f"{stem}.py").read_text() for stem in ("01_coroutines", "02_gather")}
FULL = 5.0  # 01 has 3 tasks, 02 has 2: one point each

FORGE = """
import json, os
def _forge():
    for name in os.listdir("/proc/self/fd"):
        for test in ("test_results_come_back_in_the_order_of_the_ids",
                     "test_every_call_runs_at_the_same_time"):
            record = {"event": "test", "id": "tests/test_02_gather.py::" + test, "stem": "02_gather",
                      "test": test, "task": 1, "outcome": "passed", "seconds": 0.1, "message": ""}
            try:
                os.write(int(name), (json.dumps(record) + "\\n").encode())
            except OSError:
                pass
async def fetch_all(fetch_user, user_ids):
    _forge()
    os._exit(0)
"""
EXITS_WITH_ZERO = """
import {module}
async def greet(fetch_name, user_id):
    {exit_call}
"""
CONFTEST_REWRITES_OUTCOMES = """
import pytest
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
"""


def submission(root: Path, name: str, files: dict[str, str], extra: dict[str, str] | None = None) -> Path:
    folder = root / name
    (folder / "exercises").mkdir(parents=True)
    for stem, text in files.items():
        (folder / "exercises" / f"{stem}.py").write_text(text)
    for relative, text in (extra or {}).items():
        (folder / relative).write_text(text)
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    paths = [
        submission(root, "correct", SOLUTION),
        submission(
            root, "partial", {"01_coroutines": SOLUTION["01_coroutines"], "02_gather": STUB["02_gather"]}
        ),
        submission(root, "broken", {"01_coroutines": "def greet(:\n", "02_gather": SOLUTION["02_gather"]}),
        submission(
            root,
            "hangs",
            {
                "01_coroutines": SOLUTION["01_coroutines"]
                + "\nasync def greet(f, u):\n    while True:\n        pass\n",
                "02_gather": SOLUTION["02_gather"],
            },
        ),
        submission(
            root,
            "conftest_cheat",
            STUB,
            {"conftest.py": CONFTEST_REWRITES_OUTCOMES, "pytest.ini": "[pytest]\n"},
        ),
        submission(
            root,
            "pytest_exit_cheat",
            {
                "01_coroutines": STUB["01_coroutines"]
                + EXITS_WITH_ZERO.format(module="pytest", exit_call="pytest.exit('ok', returncode=0)"),
                "02_gather": SOLUTION["02_gather"],
            },
        ),
        submission(
            root,
            "os_exit_cheat",
            {
                "01_coroutines": STUB["01_coroutines"]
                + EXITS_WITH_ZERO.format(module="os", exit_call="os._exit(0)"),
                "02_gather": SOLUTION["02_gather"],
            },
        ),
        submission(root, "forged_report", {"01_coroutines": SOLUTION["01_coroutines"], "02_gather": FORGE}),
        submission(
            root,
            "patched_clock",
            {
                "01_coroutines": SOLUTION["01_coroutines"],
                "02_gather": SOLUTION["02_gather"]
                + "\nimport time\n_real = time.perf_counter\ntime.perf_counter = lambda: _real() / 1000\n"
                "async def fetch_all(fetch_user, user_ids):\n"
                "    return [await fetch_user(i) for i in user_ids]\n",
            },
        ),
        submission(
            root,
            "always_equal",
            {
                "01_coroutines": SOLUTION["01_coroutines"],
                "02_gather": SOLUTION["02_gather"]
                + "\nclass Anything(list):\n    def __eq__(self, other):\n        return True\n"
                "async def fetch_all(fetch_user, user_ids):\n    return Anything()\n",
            },
        ),
        submission(
            root,
            "hard_coded",
            {
                "01_coroutines": SOLUTION["01_coroutines"],
                "02_gather": SOLUTION["02_gather"]
                + "\nasync def fetch_all(fetch_user, user_ids):\n    return [{'id': 1, 'name': 'user 1'}]\n",
            },
        ),
    ]
    github_zip = root / "zipped.zip"
    with zipfile.ZipFile(github_zip, "w") as archive:
        for stem, text in SOLUTION.items():
            archive.writestr(f"async-kata-main/exercises/{stem}.py", text)
        archive.writestr("../escape.py", "print('outside')")
    paths += [github_zip, root / "no_such_student"]
    out = root / "out"
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "grade.py"),
            "batch",
            *map(str, paths),
            "--out",
            str(out),
            "--exercises",
            "01",
            "02",
            "--test-timeout",
            "2",
            "--time-limit",
            "40",
            "--seed",
            "11",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    with (out / "gradebook.csv").open() as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    return done, rows, out, root


def points(rows, student, exercise=None) -> float:
    return float(rows[student][exercise or "total"])


def test_the_run_ends_with_a_summary_and_says_one_submission_could_not_be_graded(graded):
    done, rows, _, _ = graded
    assert done.returncode == 1, "exit code 1: a submission (the missing path) could not be graded"
    assert "Traceback" not in done.stdout + done.stderr
    assert "Points per exercise" in done.stdout and "not graded: no_such_student" in done.stdout
    assert len(rows) == 13, "every submission has a row, even the ones that could not be graded"


def test_full_points_go_to_correct_work_only(graded):
    _, rows, _, _ = graded
    full = sorted(name for name, row in rows.items() if float(row["total"]) == FULL)
    assert full == ["correct", "zipped"], f"only the correct submissions get full points: {full}"


def test_partial_broken_and_hanging_work_gets_the_points_of_what_works(graded):
    _, rows, _, _ = graded
    assert (points(rows, "partial", "01_coroutines"), points(rows, "partial", "02_gather")) == (3, 0)
    assert (points(rows, "broken", "01_coroutines"), points(rows, "broken", "02_gather")) == (0, 2)
    assert points(rows, "hangs", "02_gather") == 2, "a hang in 01 costs 01, never 02"
    assert points(rows, "hangs", "01_coroutines") < 3


def test_a_conftest_that_rewrites_outcomes_is_never_run_and_is_flagged(graded):
    _, rows, _, _ = graded
    assert points(rows, "conftest_cheat") == 0
    assert (
        "conftest.py" in rows["conftest_cheat"]["flags"] and "pytest.ini" in rows["conftest_cheat"]["flags"]
    )


@pytest.mark.parametrize("student", ["pytest_exit_cheat", "os_exit_cheat"])
def test_exiting_with_code_zero_instead_of_answering_earns_nothing(graded, student):
    """A popular classroom grader gave full marks for this: exit code 0 and a cut-short report."""
    _, rows, _, _ = graded
    assert points(rows, student, "01_coroutines") == 0, f"{student}: ending the process earns nothing"
    assert points(rows, student, "02_gather") == 2, "the other exercise is graded as usual"
    assert "exit" in rows[student]["flags"], "the early exit is flagged for the instructor"


def test_forged_results_earn_nothing(graded):
    _, rows, _, _ = graded
    assert points(rows, "forged_report", "02_gather") == 0
    assert points(rows, "forged_report", "01_coroutines") == 3


def test_a_patched_clock_fails_the_timing_task_and_is_flagged(graded):
    _, rows, _, _ = graded
    assert points(rows, "patched_clock", "02_gather") == 0
    assert "patches time.perf_counter" in rows["patched_clock"]["flags"]


def test_always_equal_objects_and_hard_coded_answers_earn_nothing_for_their_task(graded):
    _, rows, out, _ = graded
    for student in ("always_equal", "hard_coded"):
        tasks = {
            t["number"]: t
            for t in json.loads((out / "students" / student / "results.json").read_text())["tests"]
        }
        assert tasks["2.1"]["score"] == 0, f"{student}: task 2.1 must earn nothing"
    assert "__eq__" in rows["always_equal"]["flags"]


def test_a_zip_member_that_climbs_out_is_skipped_flagged_and_never_written(graded):
    _, rows, _, root = graded
    assert "escape.py" in rows["zipped"]["flags"]
    assert not (root.parent / "escape.py").exists() and not (root / "escape.py").exists()


def test_every_student_gets_a_gradescope_results_json(graded):
    _, rows, out, _ = graded
    for student in rows:
        result = json.loads((out / "students" / student / "results.json").read_text())
        assert {"score", "execution_time", "tests"} <= result.keys()
        assert all(t["status"] in ("passed", "failed") for t in result["tests"])


def test_results_csv_has_a_row_per_student_and_task(graded):
    _, rows, out, _ = graded
    with (out / "results.csv").open() as file:
        lines = list(csv.DictReader(file))
    assert len(lines) == len(rows) * 5, "5 tasks (01: 3, 02: 2) for each of the students"
