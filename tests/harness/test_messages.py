"""How failure messages reach the learner: in their words, and each once."""

from __future__ import annotations

from types import SimpleNamespace

from kata.commands import _grouped
from kata.report import TestResult, learner_message


def failure(test: str, message: str) -> TestResult:
    return TestResult(
        f"tests/test_07_async_with.py::{test}", "07_async_with", test, 1, "failed", message=message
    )


def test_failures_that_differ_only_in_object_addresses_are_shown_once():
    found = "found <07_async_with.Lease object at {}> (a Lease)"
    failures = [
        failure("test_a", found.format("0x7f84681790d0")),
        failure("test_b", found.format("0x7f8f8383b510")),
    ]
    groups = _grouped(failures)
    assert [(first.test, [r.test for r in same]) for first, same in groups] == [("test_a", ["test_b"])]


def test_failures_with_other_differences_stay_apart():
    groups = _grouped([failure("test_a", "found 1"), failure("test_b", "found 2")])
    assert len(groups) == 2


def test_the_learners_module_is_named_as_their_file_is_not_as_the_kata_loads_it():
    crash = SimpleNamespace(message="AssertionError: found <kata_target_07_async_with.Lease object at 0x1>")
    report = SimpleNamespace(longrepr=SimpleNamespace(reprcrash=crash), user_properties=[])
    assert learner_message(report) == "found <07_async_with.Lease object at 0x1>"


def test_in_batch_grading_messages_name_the_students_files_alone(monkeypatch):
    """The folder a student is graded from (the sandbox's /sandbox/target) means nothing to them;
    the learner running grade.py sees the path from the kata's folder."""
    from pathlib import Path

    from kata import where
    from kata.batch.isolation import Limits, pytest_args

    target = Path("/sandbox/target")
    assert where.shown_path(target / "02_gather.py", target) == "target/02_gather.py"
    monkeypatch.setattr(where, "FILE_NAMES_ONLY", True)
    assert where.shown_path(target / "02_gather.py", target) == "02_gather.py"
    assert where.shown_path(Path("/elsewhere/x.py"), target) == "/elsewhere/x.py"
    assert "--kata-file-names" in pytest_args(["t.py::test"], Path("/course"), target, Limits(), 1)
