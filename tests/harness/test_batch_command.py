"""What `grade.py batch` prints and flags, in words an instructor reads: counts in the right
number, and who ended a test process (the student's code, or the grader at a time limit)."""

from __future__ import annotations

import io

from rich.console import Console

from kata.batch import command
from kata.batch.reports import StudentResult


def printed(students: list[StudentResult]) -> str:
    out = io.StringIO()
    command.summary(students, [], Console(file=out, width=200), command.Path("grades"))
    return out.getvalue()


def test_counts_are_singular_for_one_and_plural_otherwise():
    assert command._many(1, "submission") == "1 submission"
    assert command._many(0, "submission") == "0 submissions"
    assert command._many(2, "process", "processes") == "2 processes"
    one = StudentResult("ann", [], ["a flag"], 1.0)
    assert "1 submission flagged for a look" in printed([one])
    assert "2 submissions flagged for a look" in printed([one, StudentResult("bob", [], ["x", "y"], 1.0)])
    assert ", 1 flag," in command._line(1, 1, one, cached=False)
    assert ", 2 flags," in command._line(1, 1, StudentResult("bob", [], ["x", "y"], 1.0), cached=False)


def test_a_time_limit_kill_says_the_grader_stopped_the_tests_not_that_the_student_ended_them():
    """`ended the test process: 03_create_task: the exercise's time limit (3 s) was up` read as if
    the student's code had ended it."""
    seconds = 3.0
    note = f"03_create_task: the exercise's time limit ({seconds:g} s) was up"  # as kata.batch.isolation
    assert command._ended(note) == (
        "03_create_task: the exercise's time limit (3 s) was up, and the grader stopped its tests"
    )
    ended = "02_gather: not passed: the test process ended while this test ran (exit code 0) (test_x)"
    assert command._ended(ended) == f"ended the test process: {ended}"
