"""Run the kata's tests in a child pytest process, with a hard wall-clock kill.

pytest-timeout ends a single hanging test; this is the outer guard for what it
cannot end (an `except BaseException` loop, a hung thread at teardown): the child
runs in its own process group and the whole group is killed when time runs out.
Results come back through the plugin's JSON-lines report, reconciled against the
collected test ids, so a run that ended early shows its missing tests as "not run".
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from kata.catalog import REPO_ROOT
from kata.report import TestResult, read_report

NOT_RUN = "not run: the test process ended before this test ({reason})"
OUTPUT_LIMIT = 20_000


@dataclass
class Run:
    """What one child pytest run produced."""

    results: list[TestResult] = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    output: str = ""
    seconds: float = 0.0
    label: str = ""

    @property
    def collected_nothing(self) -> bool:
        return not self.results

    def by_stem(self) -> dict[str, list[TestResult]]:
        grouped: dict[str, list[TestResult]] = {}
        for result in self.results:
            grouped.setdefault(result.stem, []).append(result)
        return grouped


def pytest_command(
    test_files: Sequence[Path], target: Path, report: Path, extra: Sequence[str] = ()
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        *map(str, test_files),
        "--target",
        str(target),
        "--kata-report",
        str(report),
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
        *extra,
    ]


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def run_tests(
    test_files: Sequence[Path],
    target: Path,
    *,
    wall_limit: float,
    extra: Sequence[str] = (),
    cwd: Path = REPO_ROOT,
) -> Run:
    """Run pytest on `test_files` against `target`; never takes longer than `wall_limit` seconds."""
    from kata.testing import clock

    with tempfile.TemporaryDirectory(prefix="kata-run-") as scratch:
        report = Path(scratch) / "report.jsonl"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTHONSTARTUP")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        # The kata package must import in the child whatever its working directory.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        started = clock.perf_counter()
        process = subprocess.Popen(
            pytest_command(test_files, target, report, extra),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        run = Run(label=" ".join(Path(f).name for f in test_files))
        try:
            out, _ = process.communicate(timeout=wall_limit)
        except subprocess.TimeoutExpired:
            run.timed_out = True
            _kill_group(process)
            out, _ = process.communicate()
        finally:
            _kill_group(process)  # stray grandchildren (executors, pools) go too
        run.seconds = clock.perf_counter() - started
        run.returncode = process.returncode
        run.output = out.decode("utf-8", errors="replace")[-OUTPUT_LIMIT:]
        collected, results = read_report(report)
    run.results = _reconcile(collected, results, run)
    return run


def _reconcile(collected: list[TestResult], results: list[TestResult], run: Run) -> list[TestResult]:
    """Every collected test gets a result; the ones the child never reported are failures."""
    reported = {r.id for r in results}
    reason = f"killed after {run.seconds:.0f} s" if run.timed_out else f"exit code {run.returncode}"
    missing = [
        replace(test, outcome="failed", message=NOT_RUN.format(reason=reason))
        for test in collected
        if test.id not in reported
    ]
    return results + missing
