"""Run the kata's tests in a child pytest process, with a hard wall-clock kill.

pytest-timeout ends a single hanging test; this is the outer guard for what it
cannot end (an `except BaseException` loop, a hung thread at teardown): the child
runs in its own process group and the whole group is killed when time runs out.
Results come back through the plugin's JSON-lines report, reconciled against the
collected test ids, so a run that ended early shows its missing tests as "not run".
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from kata import reaping
from kata.catalog import REPO_ROOT
from kata.report import ReportContents, TestResult, is_timeout, read_report

NOT_RUN = "not run: the test process ended before this test ({reason})"
DIED_DURING = (
    "the test process ended while this test was running (exit code {code}): does your code "
    "call sys.exit() or os._exit(), or crash the interpreter?"
)
NOT_RUN_AFTER_HANG = "not run: checking stopped after {test} did not finish in time"
STILL_RUNNING = (
    "this test was still running when it was stopped after {seconds:.0f} s: your code probably "
    "waits for something that never happens or loops forever (even a loop that catches every "
    "exception, so that it cannot be interrupted)."
)
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
    second_runs: int = 0  # tests run a second time (see with_second_chance)
    # Tests that failed only on time, then passed their second run: the machine's load, not the code.
    passed_second_time: list[str] = field(default_factory=list)
    # Tests that must pass and failed on time twice under the self-check's load, then passed a
    # run by themselves once every other run had ended (kata.selfcheck.run_alone_at_the_end).
    passed_alone: list[str] = field(default_factory=list)

    @property
    def collected_nothing(self) -> bool:
        return not self.results

    def take_again(self, again: Run) -> dict[str, TestResult]:
        """Some of these tests were run `again`: their new results stand in for the first ones.
        Returns the new results by test id."""
        fresh = {r.id: r for r in again.results}
        self.results = [fresh.get(r.id, r) for r in self.results]
        return fresh

    def by_stem(self) -> dict[str, list[TestResult]]:
        grouped: dict[str, list[TestResult]] = {}
        for result in self.results:
            grouped.setdefault(result.stem, []).append(result)
        return grouped


def pytest_command(
    test_files: Sequence[Path | str], target: Path, report: Path, extra: Sequence[str] = ()
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
        # anyio's plugin comes with watchfiles and no test uses it: 0.3 s to load in every child.
        "-p",
        "no:anyio",
        *extra,
    ]


class _Drained:
    """Read a child's output in a thread as it comes, so the child never blocks on a full pipe."""

    def __init__(self, stream) -> None:
        self.chunks: list[bytes] = []
        self.thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self.thread.start()

    def _drain(self, stream) -> None:
        kept = 0
        with contextlib.suppress(OSError, ValueError), stream:
            while chunk := stream.read1(65536):
                self.chunks.append(chunk)
                kept += len(chunk)
                while kept - len(self.chunks[0]) >= OUTPUT_LIMIT:  # only the tail is ever shown
                    kept -= len(self.chunks.pop(0))

    def bytes(self) -> bytes:
        self.thread.join(timeout=10)
        return b"".join(self.chunks)


def child_env() -> dict[str, str]:
    """The environment of a child pytest run: the kata importable.

    The child may keep bytecode of the kata's own modules and tests as Python does (unless the
    learner's environment says not to): compiling them, and pytest rewriting the test file's
    asserts, took about 30 ms of CPU in every child, three children a check (2026-12-02). The
    learner's file is always compiled from its source (kata.loader), and no bytecode is written
    beside it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTHONSTARTUP")}
    # The kata package must import in the child whatever its working directory.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


@dataclass
class Supervised:
    """How a supervised child ended."""

    timed_out: bool
    returncode: int | None
    output: str
    seconds: float


def supervise(command: Sequence[str], *, wall_limit: float, cwd: Path = REPO_ROOT) -> Supervised:
    """Run `command` in a session of its own; kill it and all it started after `wall_limit` s,
    and in any case once it has ended (stray grandchildren: executors, pools)."""
    from kata.testing import clock

    started, born = clock.perf_counter(), time.time()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = _Drained(process.stdout)
    try:
        timed_out = not reaping.wait_unreaped(process, wall_limit)
    finally:
        reaping.kill_tree(process, born)  # before it is reaped: see kata.reaping
        process.wait()
    out = output.bytes().decode("utf-8", errors="replace")[-OUTPUT_LIMIT:]
    return Supervised(timed_out, process.returncode, out, clock.perf_counter() - started)


def run_tests(
    test_files: Sequence[Path | str],
    target: Path,
    *,
    wall_limit: float,
    extra: Sequence[str] = (),
    cwd: Path = REPO_ROOT,
) -> Run:
    """Run pytest on `test_files` against `target`; never takes longer than `wall_limit` seconds."""
    with tempfile.TemporaryDirectory(prefix="kata-run-") as scratch:
        report = Path(scratch) / "report.jsonl"
        ended = supervise(pytest_command(test_files, target, report, extra), wall_limit=wall_limit, cwd=cwd)
        return _run_from(ended, report, label=" ".join(Path(f).name for f in test_files))


def _run_from(ended: Supervised, report: Path, label: str) -> Run:
    """The Run of one supervised pytest process, from how it ended and the report it wrote."""
    run = Run(
        label=label,
        returncode=ended.returncode,
        timed_out=ended.timed_out,
        output=ended.output,
        seconds=ended.seconds,
    )
    run.results = _reconcile(read_report(report), run)
    return run


def can_fork() -> bool:
    """Whether a check's children can be forked from one start-up (kata.forking): on Linux.
    Windows has no fork; on macOS system libraries are not fork-safe (Python's multiprocessing
    spawns there), so each child starts on its own."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def run_groups_forked(
    test_file: Path | str,
    groups: Sequence[Sequence[str]],
    target: Path,
    *,
    wall_limit: float,
    extra: Sequence[str] = (),
    cwd: Path = REPO_ROOT,
) -> list[Run]:
    """Run `test_file`'s test functions, in `groups`, each group in a child forked from one pytest
    start-up (kata.forking: Linux only); a Run per group, as if each had been run on its own.
    Where that process forked nothing (a collection error), its own run is the one Run."""
    with tempfile.TemporaryDirectory(prefix="kata-run-") as scratch:
        folder = Path(scratch)
        report, codes = folder / "report.jsonl", folder / "codes.jsonl"
        plan = {
            "groups": [list(group) for group in groups],
            "reports": [str(folder / f"report-{index}.jsonl") for index in range(len(groups))],
            "outputs": [str(folder / f"output-{index}.txt") for index in range(len(groups))],
            "codes": str(codes),
        }
        (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        command = pytest_command(
            [test_file], target, report, [*extra, "--kata-fork-groups", str(folder / "plan.json")]
        )
        ended = supervise(command, wall_limit=wall_limit, cwd=cwd)
        forked = _read_codes(codes)
        if not forked.ids:
            return [_run_from(ended, report, label=Path(test_file).name)]
        collected = {test.id: test for test in read_report(report).collected}
        runs = []
        for index, ids in sorted(forked.ids.items()):
            code = forked.codes.get(index)
            run = Run(
                label=f"{Path(test_file).name} (group {index + 1})",
                returncode=code if code is not None else ended.returncode,
                timed_out=ended.timed_out and code is None,
                output=_text(Path(plan["outputs"][index])),
                seconds=ended.seconds,
            )
            contents = read_report(Path(plan["reports"][index]))
            if not contents.collected:  # the child ended before it wrote a line
                contents.collected = [collected[i] for i in ids if i in collected]
            run.results = _reconcile(contents, run)
            runs.append(run)
        return runs


@dataclass
class _Forked:
    ids: dict[int, list[str]] = field(default_factory=dict)  # each group's tests, as collected
    codes: dict[int, int] = field(default_factory=dict)  # each ended child's exit code


def _read_codes(path: Path) -> _Forked:
    forked = _Forked()
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                record = json.loads(line)
                if "group" in record:
                    forked.ids[int(record["group"])] = list(record["ids"])
                else:
                    forked.codes[int(record["index"])] = int(record["code"])
    return forked


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")[-OUTPUT_LIMIT:]
    except OSError:
        return ""


def _reconcile(contents: ReportContents, run: Run) -> list[TestResult]:
    """Every collected test gets a result; the ones the child never reported are failures.

    A test that started and never finished was the one running when the child died; the
    tests after a timed-out test did not run because the run stopped there on purpose.
    """
    results = contents.results
    reported = {r.id for r in results}
    hung = next((r for r in results if is_timeout(r.message)), None)
    reason = f"killed after {run.seconds:.0f} s" if run.timed_out else f"exit code {run.returncode}"
    missing = []
    for test in contents.collected:
        if test.id in reported:
            continue
        if test.id in contents.started and run.timed_out:
            message = STILL_RUNNING.format(seconds=run.seconds)
        elif test.id in contents.started:
            message = DIED_DURING.format(code=run.returncode)
        elif hung is not None and not run.timed_out:
            message = NOT_RUN_AFTER_HANG.format(test=hung.test)
        else:
            message = NOT_RUN.format(reason=reason)
        missing.append(replace(test, outcome="failed", message=message))
    return results + missing


# A timeout (pytest's, or a test's own hang guard: kata.testing.hang_guard) is run again only on
# a busy machine: idle, correct code finishes far inside the limit, and code that really hangs
# would make the learner wait for the limit twice.
BUSY_LOAD = 1.0  # runnable processes per core, over the last minute
SECOND_TIMEOUT_FACTOR = 2.0
SAME_TWICE = "(It was run a second time, in case the machine was busy, and failed the same way.)"


BUSY_CPU_PERCENT = 90.0  # where there is no load average: every core this busy, measured now


def machine_is_busy() -> bool:
    """More runnable processes than cores over the last minute; where there is no load average
    (Windows), every core nearly fully used over a quarter of a second (psutil)."""
    if hasattr(os, "getloadavg"):
        try:
            return os.getloadavg()[0] > BUSY_LOAD * (os.cpu_count() or 1)
        except OSError:
            return True
    import psutil

    return psutil.cpu_percent(interval=0.25) >= BUSY_CPU_PERCENT


def _timeout_of(extra: Sequence[str]) -> float | None:
    words = list(extra)
    if "--timeout" in words[:-1]:
        return float(words[words.index("--timeout") + 1])
    return None


def worth_a_second_run(result: TestResult, busy: bool) -> bool:
    """Failed only on time: a timing bound or a frozen loop; a timeout or a give-up only when the
    machine is busy (idle, they are the code's)."""
    if result.outcome == "passed" or not result.time_only:
        return False
    return busy or not (is_timeout(result.message) or result.gave_up)


# How many runs more a check makes for the tests a process never reached because it ended early:
# each ends at the next test that ends its process, so one more run judges at least that test.
UNRUN_RUNS = 5


def with_the_unrun_run(
    run: Run,
    target: Path,
    *,
    wall_limit: float,
    extra: Sequence[str] = (),
    cwd: Path = REPO_ROOT,
) -> Run:
    """The tests a process never ran because it ended early (not stopped at its wall limit) run
    again, by themselves, until each has a verdict (at most UNRUN_RUNS runs more); the test that
    was running when a process ended keeps its failure, as that may be the code under test's
    doing. A learner's `sys.exit()` in one test no longer costs the verdicts of the tests after it
    in that process; in the self-check, one variant's test that ended a round of 22 exercises
    (INTERNALERROR, exit code 3 under load: CI, 2026-12-02) no longer leaves the others unjudged."""
    for _ in range(UNRUN_RUNS):
        unrun = never_reached(run)
        if run.timed_out or not unrun:
            break
        started = time.perf_counter()
        again = run_tests(unrun, target, wall_limit=wall_limit, extra=extra, cwd=cwd)
        run.take_again(again)
        run.seconds += time.perf_counter() - started
        run.timed_out = run.timed_out or again.timed_out
        if len(never_reached(run)) >= len(unrun):
            break  # the process ended before its first test: another run would do the same
    return run


def never_reached(run: Run) -> list[str]:
    """The ids of the tests `run`'s process ended before (NOT_RUN)."""
    unrun_prefix = NOT_RUN.split("(", 1)[0]
    return [r.id for r in run.results if r.outcome != "passed" and r.message.startswith(unrun_prefix)]


def with_second_chance(
    run: Run,
    target: Path,
    *,
    wall_limit: float,
    extra: Sequence[str] = (),
    cwd: Path = REPO_ROOT,
    settled: Collection[str] = (),
) -> Run:
    """Run once more the tests that failed only on time (a timing bound, a frozen loop, a timeout
    on a busy machine), and the tests a timeout kept from running; the second result stands.

    A mistake fails the same way twice; a busy machine (the learner's other programs, many runs
    on few cores) only now and then. Timeouts get a longer limit the second time. The tests of
    the exercises in `settled` are not run again: their verdict cannot change (the self-check's
    wrong variants that another failure already caught).
    """
    busy = machine_is_busy()
    again = [r for r in run.results if r.stem not in settled and worth_a_second_run(r, busy)]
    if not again:
        return run
    if any(is_timeout(r.message) for r in again):
        not_run = NOT_RUN_AFTER_HANG.split("{", 1)[0]
        again += [r for r in run.results if r.stem not in settled and r.message.startswith(not_run)]
        timeout = _timeout_of(extra)
        if timeout is not None:
            extra = [*extra, "--timeout", str(timeout * SECOND_TIMEOUT_FACTOR)]
    started = time.perf_counter()
    second = run_tests([r.id for r in again], target, wall_limit=wall_limit, extra=extra, cwd=cwd)
    passed = {r.id for r in second.results if r.outcome == "passed"}
    run.passed_second_time = [r.id for r in run.results if r.outcome != "passed" and r.id in passed]
    fresh = run.take_again(second)
    for result in fresh.values():
        if result.outcome != "passed" and result.time_only:
            result.message += "\n" + SAME_TWICE
    run.seconds += time.perf_counter() - started
    run.second_runs = len(fresh)
    return run
