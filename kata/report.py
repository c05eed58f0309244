"""Per-test results as JSON lines: written by the plugin, read by the grader.

Each test gets one line once its teardown is over:
    {"event": "test", "id": ..., "stem": ..., "test": ..., "task": ..., "outcome": ...,
     "seconds": ..., "message": ...}
Before the tests, one line lists every collected test, so a run that ends
early can be told apart from one that passed ("not run" for the missing ids),
and each test announces itself as it starts ({"event": "started", "id": ...}),
so a run killed from outside can name the test that was still running.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kata.catalog import exercise_stem
from kata.loader import module_name

if TYPE_CHECKING:  # grade.py reads reports without pytest: importing it costs 0.1 s
    import pytest

TIMEOUT_MESSAGE = "this test did not finish in time ({limit})."
# What the plugin observed when a test was stopped, and whether a test failed only on time
# (a timeout, a frozen loop, a timing bound): kept in the report's user_properties.
STOPPED_AT = "kata_stopped_at"
TIME_ONLY = "kata_time_only"
GAVE_UP = "kata_gave_up"  # the test gave up waiting for the code (kata.testing.margins.gave_up)
NOTHING_SEEN = (
    "None of your code was running or waiting when it was stopped: if the machine is very busy, "
    "this can be slowness rather than a mistake; otherwise look for an await that never completes."
)


@dataclass
class TestResult:
    __test__ = False  # a record, not a pytest test class
    id: str
    stem: str
    test: str
    task: int | None
    outcome: str = "passed"  # passed, failed, error, skipped
    seconds: float = 0.0
    message: str = ""
    time_only: bool = False  # failed only on time: a busy machine may have caused it
    gave_up: bool = False  # on time because the test gave up waiting, as for a hang: like a timeout


def _task_of(item: pytest.Item) -> int | None:
    marker = item.get_closest_marker("task")
    return int(marker.args[0]) if marker and marker.args else None


def is_pytest_timeout(text: str) -> bool:
    """pytest-timeout's words since 2.4: `Timeout (>1.0s) from pytest-timeout.` (2.3's `Timeout >1.0s`
    names no pytest-timeout and is not recognised: pyproject.toml's floor is 2.4)."""
    return text.lstrip().removeprefix("Failed: ").startswith("Timeout") and "pytest-timeout" in text


def _timeout_limit(text: str) -> str:
    after = text.split("Timeout", 1)[1].lstrip(" (>")
    return after.split(")", 1)[0].split(" ", 1)[0].strip()


LOADED_AS = module_name("")  # the prefix of the learner's module's name


def learner_message(report: pytest.TestReport) -> str:
    """The failure in words: the assertion or error message, without pytest's traceback."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr)
    for prefix in ("AssertionError: ", "Failed: "):
        text = text.removeprefix(prefix)
    if is_pytest_timeout(text):
        seen = dict(report.user_properties).get(STOPPED_AT) or NOTHING_SEEN
        text = TIMEOUT_MESSAGE.format(limit=_timeout_limit(text)) + " " + seen
    # The learner's module is loaded as kata_target_NN_topic (kata.loader): their objects' reprs
    # say <02_gather.Lease object ...>, as their file is called.
    return text.replace(LOADED_AS, "").strip()


def failed_only_on_time(report: pytest.TestReport) -> bool:
    return bool(dict(report.user_properties).get(TIME_ONLY))


# Seconds after a test's time limit before a test that ignored the interruption is given up on:
# the interruption may wait up to 1 s for a moment that loses nothing (kata.timeouts.PATIENCE),
# then the test has 2 s to end.
HANG_GRACE = 3.0
NOT_RUN_AFTER_HANG_IN_EXERCISE = "not run: an earlier test of this exercise did not finish in time"
UNSTOPPABLE = (
    " It did not even stop when interrupted: does your code catch BaseException (or "
    "CancelledError) and carry on?"
)


def is_timeout(message: str) -> bool:
    return message.startswith(TIMEOUT_MESSAGE.split("(", 1)[0])


class ReportWriter:
    """A pytest plugin object that appends results to `path` as tests finish.

    With `hang_backstop` (seconds), a test that times out is not followed by more of
    the same: with on_hang="stop" the session ends there (grade.py: the learner knows
    what to fix, and the next tests would hang the same way, each costing the full
    limit); with on_hang="skip-exercise" the rest of that exercise's tests fail at once
    and the other exercises go on (batch grading). A test still running `hang_backstop`
    seconds after it started (its code swallowed pytest-timeout's interruption) is
    reported as hung and the process ends on the spot.
    """

    def __init__(
        self, path: Path | None, *, hang_backstop: float | None = None, on_hang: str = "stop"
    ) -> None:
        self.path = path
        self.hang_backstop = hang_backstop
        self.on_hang = on_hang
        self.session: pytest.Session | None = None
        self.results: dict[str, TestResult] = {}
        self.hung_stems: set[str] = set()
        self.backstop: threading.Timer | None = None
        self.lock = threading.Lock()
        if path is not None:
            path.write_text("")

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        if nodeid not in self.results:
            return
        self._emit({"event": "started", "id": nodeid})
        if self.hang_backstop is not None:
            self.backstop = threading.Timer(self.hang_backstop, self._give_up, args=(nodeid,))
            # "kata-": an idle thread of the kata's own, which code under test never waits on
            # (kata.testing.stall_cause.only_thread).
            self.backstop.name = "kata-hang-backstop"
            self.backstop.daemon = True
            self.backstop.start()

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        result = self.results.get(item.nodeid)
        if result is not None and result.stem in self.hung_stems:
            import pytest

            pytest.fail(NOT_RUN_AFTER_HANG_IN_EXERCISE, pytrace=False)

    def _give_up(self, nodeid: str) -> None:
        """In the timer thread: the test ignored every interruption; record it and end the process."""
        result = self.results[nodeid]
        result.outcome = "failed"
        result.seconds = self.hang_backstop or 0.0
        result.message = TIMEOUT_MESSAGE.format(limit=f"{self.hang_backstop:g}s") + UNSTOPPABLE
        self._emit({"event": "test", **asdict(result)})
        os._exit(3)

    def _emit(self, record: dict) -> None:
        line = json.dumps(record) + "\n"
        with self.lock:
            self.write_line(line)

    def write_line(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line)

    def start_over(self, path: Path, items: list[pytest.Item]) -> None:
        """In a child forked to run `items` (kata.forking): a report of its own, of those tests."""
        self.path = path
        self.results = {}
        path.write_text("")
        self.pytest_collection_modifyitems(items)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            stem = exercise_stem(item.path)
            self.results[item.nodeid] = TestResult(item.nodeid, stem, item.name, _task_of(item))
        self._emit({"event": "collected", "tests": [asdict(r) for r in self.results.values()]})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = self.results.get(report.nodeid)
        if result is None:
            return
        result.seconds += report.duration
        if report.failed and result.outcome in ("passed", "skipped"):
            result.outcome = "failed" if report.when == "call" else "error"
            result.message = learner_message(report)
            result.time_only = failed_only_on_time(report)
            result.gave_up = bool(dict(report.user_properties).get(GAVE_UP))
        elif report.skipped and report.when != "teardown" and result.outcome == "passed":
            result.outcome = "skipped"
        if report.when == "teardown":
            if self.backstop is not None:
                self.backstop.cancel()
            self._emit({"event": "test", **asdict(result)})
            if self.hang_backstop is not None and is_timeout(result.message):
                self.hung_stems.add(result.stem)
                if self.on_hang == "stop" and self.session is not None:
                    self.session.shouldstop = f"{result.test} did not finish in time"


@dataclass
class ReportContents:
    collected: list[TestResult]
    results: list[TestResult]
    started: list[str]


def read_report(path: Path) -> ReportContents:
    """Collected tests, results and started ids from a report file; tolerates a truncated last line."""
    collected: list[TestResult] = []
    results: list[TestResult] = []
    started: list[str] = []
    if not path.exists():
        return ReportContents(collected, results, started)
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        event = record.pop("event", None)
        if event == "collected":
            collected = [TestResult(**test) for test in record["tests"]]
        elif event == "test":
            results.append(TestResult(**record))
        elif event == "started":
            started.append(record["id"])
    return ReportContents(collected, results, started)
