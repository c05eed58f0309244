"""How failure messages reach the learner: in their words, and each once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

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


# What a wrong variant is told, by the test that catches it: the message speaks of what the code does
# (or could have done), never of a call it does not make. (variant, test, words it must say, words
# it must not say.)
TOLD = [
    pytest.param(
        "18_event/wrong_one_future_per_target.py",
        "test_one_advance_wakes_every_waiter_it_satisfies",
        ["tasks waited in wait_until(", "with futures or Events, keep one for each waiting task"],
        ["`notify()` wakes only one waiting task, `notify_all()` wakes them all"],
        id="18-futures-not-woken",
    ),
    pytest.param(
        "18_event/wrong_one_future_per_target.py",
        "test_each_progress_counts_and_wakes_only_its_own_waiters",
        ["only 1 of the 3 waiters returned", "kept in a dict by target"],
        [],
        id="18-futures-one-of-three",
    ),
    pytest.param(
        "18_event/wrong_wakes_only_on_the_exact_target.py",
        "test_a_big_advance_wakes_every_target_it_passes",
        ["in one step, past", "at least the target (`>=`)"],
        ["notify"],
        id="18-exact-target-jumped-over",
    ),
    pytest.param(
        "18_event/wrong_pause_counted_from_the_job_start.py",
        "test_runs_a_job_at_once_then_one_after_every_pause",
        ["your pause is counted from the job's start", "once `await job()` has returned"],
        ["again and again"],
        id="18-pause-from-the-start",
    ),
    pytest.param(
        "21_rate_limit/wrong_starts_in_a_mutable_default.py",
        "test_each_limiter_has_its_own_budget",
        ["The two limiters share something", "a mutable default argument", "a class attribute"],
        [],
        id="21-mutable-default",
    ),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("variant", "test", "says", "never_says"), TOLD)
@pytest.mark.load_sensitive  # the words of a failure, not of a load's
def test_a_wrong_variant_is_told_its_own_mistake(tmp_path, variant, test, says, never_says):
    from kata.catalog import REPO_ROOT
    from kata.runner import run_tests

    source = REPO_ROOT / "tests" / "variants" / variant
    stem = source.parent.name
    (tmp_path / f"{stem}.py").write_bytes(source.read_bytes())
    # A failure on time (the machine's load: the CI's self-check runs beside it) is run again, as
    # grade.py does; the mistake's own words must come within three runs.
    for _ in range(3):
        run = run_tests([f"tests/test_{stem}.py::{test}"], tmp_path, wall_limit=100)
        if not (len(run.results) == 1 and run.results[0].time_only):
            break
    assert [r.outcome for r in run.results] == ["failed"], run.output
    message = run.results[0].message
    for words in says:
        assert words in message, f"{words!r} not in:\n{message}"
    for words in never_says:
        assert words not in message, f"{words!r} in:\n{message}"


def test_counts_are_worded_as_one_or_many_the_same_way_in_every_message():
    from kata.words import many

    assert [many(1, "call"), many(0, "call"), many(3, "call")] == ["1 call", "0 calls", "3 calls"]
    assert many(2, "process", "processes") == "2 processes"
    assert many(1, "process", "processes") == "1 process"


def test_a_timeline_can_start_when_the_test_first_asked_so_that_a_wait_before_the_first_call_shows():
    from kata.testing import draw_timeline
    from kata.testing.fakes import Call

    calls = [Call((0,), 10.15, 10.16), Call((1,), 10.30, 10.31)]
    assert "0.00-0.01 s" in draw_timeline(calls, "call").splitlines()[0]
    first, _ = draw_timeline(calls, "call", origin=10.0).splitlines()
    assert first.endswith("0.15-0.16 s"), first
    assert "0.00-0.01 s" in draw_timeline(calls, "call", origin=11.0).splitlines()[0], "never after a start"


def test_a_connector_left_open_is_named_as_such_unless_its_session_was_left_open_too():
    # A trial's module-level TCPConnector (connector_owner=False) under `async with
    # ClientSession(...)` was told to open its session with `async with`, which it did.
    from kata.testing.loopguard import (
        UNCLOSED_CONNECTOR,
        UNCLOSED_SESSION,
        explain_loop_report,
        without_echoes,
    )

    assert explain_loop_report({"message": "Unclosed connector"}) == UNCLOSED_CONNECTOR
    assert explain_loop_report({"message": "Unclosed client session"}) == UNCLOSED_SESSION
    # A session left open reports its connector as well: one mistake, told once.
    assert without_echoes([UNCLOSED_CONNECTOR, UNCLOSED_SESSION, UNCLOSED_SESSION]) == [UNCLOSED_SESSION]
    assert without_echoes([UNCLOSED_CONNECTOR]) == [UNCLOSED_CONNECTOR]


def test_requests_left_running_by_a_cancel_are_counted_in_the_words():
    """One request, or several (21's batch): "its request did not", "its 3 requests did not"."""
    from kata.testing.server_cancels import request_went_on

    one = request_went_on("fetch_json", 1)
    assert one.startswith("fetch_json ended cancelled, but its request did not: the server held its reply")
    assert "or await the request in fetch_json itself." in one
    three = request_went_on("fetch_all", 3)
    assert three.startswith("fetch_all ended cancelled, but its 3 requests did not: the server held their")
    assert "or await the requests in fetch_all itself." in three


def test_errors_lost_by_many_tasks_are_said_once_with_the_first_few_named():
    # A learner trial's first_success left 18 failures of one done set unread, and was told so in
    # 18 lines alike, with no headline.
    from kata.testing.loopguard import LOST_ERROR, lost_errors_together

    errors = [repr(ConnectionError(f"mirror-{n} is down")) for n in range(5)]
    other = "an aiohttp ClientSession was never closed"
    said = lost_errors_together([other, *(LOST_ERROR.format(error=e) for e in errors)])
    assert said[0] == other and len(said) == 2
    assert said[1].startswith("5 tasks failed and nobody awaited them or read their errors")
    assert all(e in said[1] for e in errors[:3]) and errors[3] not in said[1] and "and 2 more" in said[1]


def test_one_lost_error_keeps_its_own_sentence():
    from kata.testing.loopguard import LOST_ERROR, lost_errors_together

    one = [LOST_ERROR.format(error="ValueError('lost')")]
    assert lost_errors_together(one) == one
