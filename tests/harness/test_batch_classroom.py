"""Points for GitHub Classroom (kata.batch.classroom) and the workflow that reports them.

The converter turns the batch's results (a StudentResult, or the Gradescope-format results.json
the batch writes) into the JSON Classroom's grading reporter reads, base64-encoded as a step
output. Nothing here runs learner code.
"""

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kata.batch.classroom import (
    ENCODED_CAP,
    classroom_result,
    encoded,
    main,
    student_result,
)
from kata.batch.points import TaskScore
from kata.batch.reports import StudentResult, gradescope_json
from kata.catalog import REPO_ROOT

WORKFLOW = REPO_ROOT / "instructors" / "github-classroom" / "classroom.yml"
SLOW = "your 4 calls ran one after another (0.81 s); run together they take about 0.2 s"


def task(stem: str, number: int, title: str, worth: float, passed: bool, message: str = "") -> TaskScore:
    return TaskScore(
        stem=stem,
        task=number,
        title=title,
        points=worth if passed else 0.0,
        max_points=worth,
        status="passed" if passed else "failed",
        seconds=0.25,
        message="" if passed else message,
        tests=(),
    )


STUDENT = StudentResult(
    student="ada",
    tasks=[
        task("01_coroutines", 1, "await a call", 1, True),
        task("01_coroutines", 2, "", 2, True),
        task("02_gather", 1, "fetch every user at once", 1.5, False, SLOW),
    ],
    flags=[],
    seconds=3.0,
)


def decoded(value: str) -> dict:
    return json.loads(base64.b64decode(value, validate=True).decode("utf-8"))


def test_a_student_becomes_one_classroom_test_per_task_with_its_points():
    assert student_result(STUDENT) == {
        "version": 1,
        "status": "fail",
        "max_score": 4.5,
        "tests": [
            {
                "name": "01_coroutines task 1: await a call",
                "status": "pass",
                "score": 1,
                "message": "",
                "test_code": "",
                "filename": "exercises/01_coroutines.py",
                "line_no": 0,
                "duration": 250,
            },
            {
                "name": "01_coroutines task 2",
                "status": "pass",
                "score": 2,
                "message": "",
                "test_code": "",
                "filename": "exercises/01_coroutines.py",
                "line_no": 0,
                "duration": 250,
            },
            {
                "name": "02_gather task 1: fetch every user at once",
                "status": "fail",
                "score": 0,
                "message": SLOW,
                "test_code": "python grade.py 02",
                "filename": "exercises/02_gather.py",
                "line_no": 0,
                "duration": 250,
            },
        ],
    }


def test_the_gradescope_results_json_gives_the_same_tests_points_and_durations():
    from_file = classroom_result(json.loads(json.dumps(gradescope_json(STUDENT))))
    direct = student_result(STUDENT)
    assert from_file == direct, "the two ways to Classroom's JSON disagree"
    assert all(test["duration"] == 250 for test in from_file["tests"]), from_file["tests"]


def test_a_gradescope_result_without_the_batchs_seconds_gives_durations_of_0():
    result = gradescope_json(STUDENT)
    for test in result["tests"]:
        test.pop("extra_data")
    result["tests"][0]["extra_data"] = {"seconds": "lots"}
    assert [test["duration"] for test in classroom_result(result)["tests"]] == [0, 0, 0]


def test_the_total_classroom_sends_is_the_students_score():
    result = student_result(STUDENT)
    # The reporter sends Classroom the sum of the tests' scores out of max_score.
    assert (sum(test["score"] for test in result["tests"]), result["max_score"]) == (3, 4.5)


def test_every_task_passed_is_a_pass_and_nothing_graded_is_an_error():
    passed = StudentResult("ada", [task("01_coroutines", 1, "t", 1, True)], [], 1.0)
    assert student_result(passed)["status"] == "pass"
    problem = StudentResult(
        "bob", [task("01_coroutines", 1, "t", 1, False, "not graded")], [], 0.0, "bad zip"
    )
    result = student_result(problem)
    assert (result["status"], result["message"]) == ("error", "bad zip")


def test_messages_are_cleaned_and_capped():
    noisy = StudentResult(
        "ada", [task("01_coroutines", 1, "t", 1, False, "\x1b[31mred\x1b[0m\x00" + "x" * 9000)], [], 1
    )
    message = student_result(noisy)["tests"][0]["message"]
    assert message.startswith("red") and "\x1b" not in message and "\x00" not in message, repr(message[:40])
    assert len(message) <= 500, f"a message of {len(message)} characters was kept"


def test_a_whole_course_of_long_messages_fits_one_environment_variable():
    wide = "🐢" * 500  # four bytes each in UTF-8
    tasks = [
        task(f"{n:02d}_topic", t, "title " * 30, 1, False, wide) for n in range(1, 23) for t in (1, 2, 3)
    ]
    value = encoded(student_result(StudentResult("ada", tasks, [], 1.0)))
    assert len(value) <= ENCODED_CAP, f"{len(value)} characters of base64"
    result = decoded(value)
    assert len(result["tests"]) == 66 and result["max_score"] == 66, "tests were lost to fit"


@pytest.fixture
def results_json(tmp_path) -> Path:
    path = tmp_path / "out" / "students" / "ada" / "results.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(gradescope_json(STUDENT)), encoding="utf-8")
    return path


def test_the_command_writes_the_step_output_the_reporter_reads(results_json, tmp_path, capsys):
    output = tmp_path / "github_output"
    output.write_text("earlier=1\n")
    assert main([str(results_json), "--github-output", str(output)]) == 0
    earlier, line, *rest = output.read_text().split("\n")
    assert (earlier, rest) == ("earlier=1", [""]), "the step output file was not appended one line"
    name, _, value = line.partition("=")
    assert name == "result"
    assert decoded(value) == classroom_result(json.loads(results_json.read_text()))
    assert "3 / 4.5 points, 2 of 3 tasks passed" in capsys.readouterr().err


@pytest.mark.parametrize("layout", ["students/ada/results.json", "ada/results.json"])
def test_the_command_finds_the_one_students_results_in_the_out_folder(tmp_path, layout, monkeypatch, capsys):
    out = tmp_path / "out"
    (out / layout).parent.mkdir(parents=True)
    (out / layout).write_text(json.dumps(gradescope_json(STUDENT)), encoding="utf-8")
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert main([str(out)]) == 0
    assert decoded(output.read_text().strip().partition("=")[2])["max_score"] == 4.5


@pytest.mark.parametrize(
    "content", [None, "{not json", '{"score": 3}', '{"tests": [1, 2]}', '{"tests": []', "\udcff"]
)
def test_unreadable_results_give_an_error_worth_nothing_and_one_line(tmp_path, content, capsys):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_bytes(content.encode("utf-8", "surrogateescape"))
    output = tmp_path / "github_output"
    assert main([str(path), "--github-output", str(output)]) == 1
    error = capsys.readouterr().err.splitlines()[0]
    assert error.startswith("python -m kata.batch.classroom: ") and str(path) in error, error
    result = decoded(output.read_text().strip().partition("=")[2])
    assert result["status"] == "error" and sum(test["score"] for test in result["tests"]) == 0
    assert result["max_score"] > 0, "Classroom records nothing for a result worth 0 points in all"
    assert "could not be read" in result["tests"][0]["message"]


def test_a_result_with_no_tests_passes_its_reason_on(tmp_path, capsys):
    path = tmp_path / "results.json"
    stopped = "Grading was stopped after 540 s, before it finished."
    path.write_text(json.dumps({"score": 0, "output": stopped, "tests": []}))
    output = tmp_path / "github_output"
    assert main([str(path), "--github-output", str(output)]) == 1
    result = decoded(output.read_text().strip().partition("=")[2])
    assert result["status"] == "error" and stopped in result["tests"][0]["message"], result


def test_several_students_in_the_out_folder_is_an_error(tmp_path, capsys):
    for student in ("ada", "bob"):
        path = tmp_path / "out" / "students" / student / "results.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(gradescope_json(STUDENT)))
    assert main([str(tmp_path / "out"), "--github-output", str(tmp_path / "o")]) == 1
    assert "2 students' results" in capsys.readouterr().err


def test_without_github_output_the_line_goes_to_standard_output(results_json):
    run = subprocess.run(
        [sys.executable, "-m", "kata.batch.classroom", str(results_json)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("result=") and run.stdout.count("\n") == 1, run.stdout[:100]


def test_a_usage_error_is_one_line_and_exit_code_2():
    run = subprocess.run(
        [sys.executable, "-m", "kata.batch.classroom", "--no-such-option"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr


def steps(workflow: str) -> list[str]:
    """The workflow's steps, each as its text (the file is YAML; these checks need no parser)."""
    return re.split(r"\n(?=      - )", workflow.split("    steps:\n", 1)[1])


def test_the_workflow_hands_the_batch_points_to_classrooms_reporter():
    workflow = WORKFLOW.read_text(encoding="utf-8")
    # The reporter updates the check run named after this job: Classroom reads the points there.
    assert re.search(r"^  run-autograding-tests:\n", workflow, re.M), "the job must be run-autograding-tests"
    assert re.search(r"^  checks: write$", workflow, re.M), "the reporter needs checks: write"
    grade, convert, report = (
        next(step for step in steps(workflow) if needle in step)
        for needle in ("grade.py batch", "kata.batch.classroom", "autograding-grading-reporter")
    )
    out = re.search(r"--out (\S+)", grade).group(1)
    assert f"kata.batch.classroom {out}" in convert, "the converter does not read the batch's --out folder"
    step_id = re.search(r"id: (\S+)", convert).group(1)
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in report
    runner = re.search(r"runners: (\S+)", report).group(1)
    assert runner == step_id, f"the reporter reads runner {runner!r}, the converter is step {step_id!r}"
    variable = f"{runner.upper()}_RESULTS: ${{{{ steps.{step_id}.outputs.result }}}}"
    assert variable in report, f"the reporter step lacks {variable}"
    assert "if: always()" in convert and "if: always()" in report, "a failed grade must still be reported"


def test_the_instructors_hidden_notes_are_not_a_task_for_classroom():
    flagged = StudentResult("ada", STUDENT.tasks, ["01_coroutines.py:3 starts a process (os.fork)"], 1.0)
    gradescope = gradescope_json(flagged)
    assert any(test.get("visibility") == "hidden" for test in gradescope["tests"]), "no hidden notes"
    assert classroom_result(json.loads(json.dumps(gradescope))) == student_result(STUDENT), (
        "the notes became a Classroom test"
    )
