"""Per-test results as JSON lines: written by the plugin, read by the grader.

Each test gets one line once its teardown is over:
    {"event": "test", "id": ..., "stem": ..., "test": ..., "task": ..., "outcome": ...,
     "seconds": ..., "message": ...}
Before the tests, one line lists every collected test, so a run that ends
early can be told apart from one that passed ("not run" for the missing ids).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

TIMEOUT_MESSAGE = (
    "this test did not finish in time ({limit}): your code probably waits for something that "
    "never happens (an await that never completes, a task never started) or loops forever."
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


def _task_of(item: pytest.Item) -> int | None:
    marker = item.get_closest_marker("task")
    return int(marker.args[0]) if marker and marker.args else None


def learner_message(report: pytest.TestReport) -> str:
    """The failure in words: the assertion or error message, without pytest's traceback."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr)
    for prefix in ("AssertionError: ", "Failed: "):
        text = text.removeprefix(prefix)
    if "Timeout (>" in text and "pytest-timeout" in text:
        limit = text.split("Timeout (>", 1)[1].split(")", 1)[0]
        text = TIMEOUT_MESSAGE.format(limit=limit)
    return text.strip()


class ReportWriter:
    """A pytest plugin object that appends results to `path` as tests finish."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.results: dict[str, TestResult] = {}
        self.path.write_text("")

    def _emit(self, record: dict) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            stem = item.path.stem.removeprefix("test_")
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
        elif report.skipped and report.when != "teardown" and result.outcome == "passed":
            result.outcome = "skipped"
        if report.when == "teardown":
            self._emit({"event": "test", **asdict(result)})


def read_report(path: Path) -> tuple[list[TestResult], list[TestResult]]:
    """(collected tests, results) from a report file; tolerates a truncated last line."""
    collected: list[TestResult] = []
    results: list[TestResult] = []
    if not path.exists():
        return collected, results
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
    return collected, results
