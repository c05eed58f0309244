"""Points for GitHub Classroom: the batch's results in the form Classroom's autograding reporter reads.

GitHub Classroom's autograding runs "runner" steps and then its reporter,
`classroom-resources/autograding-grading-reporter@v1`. For each runner id in the reporter's
`runners` input it reads the environment variable `<ID>_RESULTS` (the id in capitals): base64 of

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": 55,
     "tests": [{"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}]}

(the shape the official runner actions write; `duration` in milliseconds). The reporter sends
Classroom the sum of the tests' `score` out of `max_score`, lists every test by name (with its
`test_code` when there is one), and fails the job unless the status is "pass". Here one test is
one task of an exercise, worth its points from points.toml; a failed task's `test_code` is the
command that shows the failure on the learner's computer.

    python -m kata.batch.classroom RESULTS [--github-output FILE]

RESULTS is a results.json the batch wrote (Gradescope's format), or the --out folder of a batch
of one student. The line `result=<base64>` goes to FILE (default: $GITHUB_OUTPUT, else standard
output); a readable list of the tasks goes to standard error. When RESULTS cannot be read, the
result is an "error" worth 0 out of the course's points, with the reason, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import sys
import typing
from pathlib import Path

from kata.batch.reports import NOTES_TAG, StudentResult, capped, one_line, points_text
from kata.catalog import STEM

PROG = "python -m kata.batch.classroom"
VERSION = 1
NAME_CAP = 200
# The encoded result travels in one environment variable; Linux refuses one longer than 128 KiB.
ENCODED_CAP = 96 * 1024
MESSAGE_CAP = 500  # Classroom's reporter shows each message in a table cell (Exercism caps at 500 too)
MESSAGE_CAPS = (MESSAGE_CAP, 200, 60, 0)  # tried in turn until the encoded result fits
SHOW_COMMAND = "python grade.py {number}"
GRADING_TEST = "grading"
NOT_GRADED = "The grader's results could not be read ({reason}). See the Grade step's log."
NO_RESULTS = "no results.json in {path}"
SEVERAL_RESULTS = "{count} students' results in {path}; give one results.json"
SUMMARY = "async-kata: {score} / {max_score} points, {passed} of {tasks} tasks passed"
PASSED_LINE = "  ok       {name}"
FAILED_LINE = "  not yet  {name}"
DETAIL_LINE = "           {text}"
SEE_IT = "see it: {command}"


class ClassroomError(ValueError):
    """The results cannot be turned into Classroom's form; the message is one line."""


def _points(value: object) -> int | float:
    """Finite, non-negative points (2, 1.5), rounded like the other reports; anything else is 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    value = round(max(0.0, float(value)), 4)
    return int(value) if value.is_integer() else value


def _test(
    name: str, passed: bool, score: float, message: str, stem: str | None, seconds: float = 0.0
) -> dict:
    number = stem[:2] if stem and STEM.match(stem) else ""
    return {
        "name": one_line(name, NAME_CAP),
        "status": "pass" if passed else "fail",
        "score": _points(score),
        "message": "" if passed else capped(message, MESSAGE_CAP),
        "test_code": SHOW_COMMAND.format(number=number) if number and not passed else "",
        "filename": f"exercises/{stem}.py" if number else "",
        "line_no": 0,
        "duration": round(_points(seconds) * 1000),
    }


def _result(tests: list[dict], max_score: float, problem: str | None = None) -> dict:
    if problem or not tests:
        status = "error"
    else:
        status = "pass" if all(test["status"] == "pass" for test in tests) else "fail"
    result = {"version": VERSION, "status": status, "max_score": _points(max_score), "tests": tests}
    if problem:
        result["message"] = one_line(problem)
    return result


def student_result(student: StudentResult) -> dict:
    """One student's batch result as Classroom's JSON: one test per task, its points as the score."""
    tests = [
        _test(
            f"{task.stem} task {task.task}: {task.title}" if task.title else f"{task.stem} task {task.task}",
            task.status == "passed",
            task.points,
            task.message,
            task.stem,
            task.seconds,
        )
        for task in student.tasks
    ]
    return _result(tests, student.max_score, student.problem)


def _stem_in(tags: object) -> str | None:
    """The exercise a Gradescope test is tagged with (the batch tags each task with its stem)."""
    if not isinstance(tags, list):
        return None
    return next((tag for tag in tags if isinstance(tag, str) and STEM.match(tag)), None)


def classroom_result(gradescope: object) -> dict:
    """A results.json in Gradescope's format (as the batch writes it) as Classroom's JSON.

    Raises ClassroomError when it is not a JSON object with a list of tests, or the list is empty (a
    result that says why nothing was graded).
    """
    if not isinstance(gradescope, dict) or not isinstance(gradescope.get("tests"), list):
        raise ClassroomError("not a Gradescope results.json (no list of tests)")
    if not gradescope["tests"]:
        raise ClassroomError(
            f"it holds no tests: {one_line(gradescope.get('output') or 'no reason given', 300)}"
        )
    tests, max_score = [], 0.0
    for index, test in enumerate(gradescope["tests"], 1):
        if not isinstance(test, dict):
            raise ClassroomError(f"test {index} is not a JSON object")
        if NOTES_TAG in (test.get("tags") or ()):
            continue  # the instructor's notes (flags): not a task
        score, worth = _points(test.get("score")), _points(test.get("max_score"))
        status = test.get("status")
        passed = status == "passed" if status in ("passed", "failed") else worth > 0 and score >= worth
        name, output = str(test.get("name") or f"test {index}"), str(test.get("output") or "")
        extra = test.get("extra_data")
        seconds = extra.get("seconds") if isinstance(extra, dict) else 0.0  # the batch writes it
        tests.append(_test(name, passed, score, output, _stem_in(test.get("tags")), seconds))
        max_score += worth
    return _result(tests, max_score)


def not_graded_result(reason: str, max_score: float) -> dict:
    """0 out of `max_score`, status "error", saying why nothing could be read."""
    message = NOT_GRADED.format(reason=one_line(reason))
    test = {**_test(GRADING_TEST, False, 0.0, message, None), "status": "error"}
    return _result([test], max_score, message)


def _capped_messages(result: dict, cap: int) -> dict:
    tests = [{**test, "message": capped(test["message"], cap) if cap else ""} for test in result["tests"]]
    return {**result, "tests": tests}


def encoded(result: dict) -> str:
    """Base64 of the compact JSON, messages shortened as much as needed to fit one environment variable."""
    for cap in MESSAGE_CAPS:
        text = json.dumps(_capped_messages(result, cap), ensure_ascii=False, separators=(",", ":"))
        value = base64.b64encode(text.encode("utf-8")).decode("ascii")
        if len(value) <= ENCODED_CAP:
            return value
    raise ClassroomError(f"too many tests to report ({len(result['tests'])})")


def step_output(result: dict, name: str = "result") -> str:
    """The line a GitHub step writes to $GITHUB_OUTPUT to set the output `name`."""
    return f"{name}={encoded(result)}\n"


def results_file(path: Path) -> Path:
    """The results.json to read: `path` itself, or the only student's in a batch's --out folder."""
    if not path.is_dir():
        return path
    if (path / "results.json").is_file():
        return path / "results.json"
    found = sorted(path.glob("students/*/results.json")) or sorted(path.glob("*/results.json"))
    if not found:
        raise ClassroomError(NO_RESULTS.format(path=path))
    if len(found) > 1:
        raise ClassroomError(SEVERAL_RESULTS.format(count=len(found), path=path))
    return found[0]


def read_results(path: Path) -> dict:
    """Classroom's JSON from a results.json or a batch's --out folder; ClassroomError if unreadable."""
    source = results_file(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClassroomError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ClassroomError(f"{source}: cannot be read ({one_line(error, 200)})") from None
    try:
        return classroom_result(data)
    except ClassroomError as error:
        raise ClassroomError(f"{source}: {error}") from None


def course_max_score() -> float:
    """What the whole course is worth (points.toml), for a result that could not be read; 0 if unknown."""
    from kata.batch.points import PointsError, load_points, score_tasks
    from kata.catalog import discover

    try:
        exercises = discover()
        return sum(task.max_points for task in score_tasks(exercises, [], load_points(exercises=exercises)))
    except (PointsError, OSError):
        return 0.0


def summary(result: dict) -> str:
    tests = result["tests"]
    lines = [
        SUMMARY.format(
            score=points_text(sum(test["score"] for test in tests)),
            max_score=points_text(result["max_score"]),
            passed=sum(test["status"] == "pass" for test in tests),
            tasks=len(tests),
        )
    ]
    for test in tests:
        lines.append((PASSED_LINE if test["status"] == "pass" else FAILED_LINE).format(name=test["name"]))
        if test["message"]:
            lines.append(DETAIL_LINE.format(text=one_line(test["message"], 300)))
        if test["test_code"]:
            lines.append(DETAIL_LINE.format(text=SEE_IT.format(command=test["test_code"])))
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{PROG}: {message} (see --help)\n")


def _github_output(given: Path | None) -> Path | None:
    if given is not None:
        return given
    return Path(os.environ["GITHUB_OUTPUT"]) if os.environ.get("GITHUB_OUTPUT") else None


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a results.json, or the --out folder of one student")
    parser.add_argument(
        "--github-output", type=Path, help="where to write result=<base64> (default: $GITHUB_OUTPUT)"
    )
    args = parser.parse_args(argv)
    target = _github_output(args.github_output)
    code = 0
    try:
        result = read_results(args.results)
    except ClassroomError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        result, code = not_graded_result(str(error), course_max_score()), 1
    line = step_output(result)
    try:
        if target is None:
            sys.stdout.write(line)
        else:
            with target.open("a", encoding="utf-8") as out:
                out.write(line)
    except OSError as error:
        print(f"{PROG}: cannot write the step output to {target}: {error.strerror}", file=sys.stderr)
        return 1
    print(summary(result), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
