"""The measurements behind `python bench/kata_bench.py`: flakes, speed and instructor throughput.

Each function runs the real thing in child processes (the self-check, grade.py, grade.py
batch) and returns plain figures; kata_bench.py prints them.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kata.catalog import REPO_ROOT, discover
from kata.runner import run_tests

ALONE = re.compile(r"^\d+ that must pass failed on time twice under this load", re.M)
SUMMARY = re.compile(r"^self-check: (?P<passed>\d+) passed, (?P<failed>\d+) failed$", re.M)
OWN_TIME = re.compile(r"the tests' own time (?P<own>\d+) s")


@contextlib.contextmanager
def burners(count: int) -> Iterator[None]:
    """`count` processes spinning on the CPU (one per core: the noisy machine of the brief)."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


@dataclass
class SelfCheckRun:
    loaded: bool
    seconds: float
    passed: int
    failed: int
    failures: list[str]
    tests_own_seconds: float
    passed_alone: list[str] = field(default_factory=list)  # must-pass tests saved by a run alone


@dataclass
class Margin:
    check: str
    ratio: float
    observed: float
    bound: float
    test: str
    unit: str = "s"
    upper: bool = True  # an upper bound (load pushes toward it) or a lower one (load moves away)
    judged: int = 1  # how many times this check was made on correct code

    @property
    def headroom(self) -> float:
        """How far from the bound the nearest approach stayed, in `unit`."""
        return self.bound - self.observed if self.upper else self.observed - self.bound


@dataclass
class FlakeReport:
    runs: list[SelfCheckRun] = field(default_factory=list)
    margins: dict[str, Margin] = field(default_factory=dict)  # check -> the run nearest its bound

    @property
    def flakes(self) -> int:
        return sum(run.failed for run in self.runs)

    @property
    def near_flakes(self) -> int:
        """Correct code that failed on time twice under the self-check's load and passed alone."""
        return sum(len(run.passed_alone) for run in self.runs)


def _self_check_output(
    options: tuple[str, ...], margins_file: Path, burner_count: int, env: dict[str, str] | None = None
) -> tuple[str, str]:
    """Run `python -m kata.selfcheck OPTIONS` (with CPU burners when burner_count > 0, and `env`
    added to the environment): its output, and the failures it names (or why it did not finish)."""
    env = {**os.environ, **(env or {}), "KATA_MARGINS": str(margins_file)}
    with burners(burner_count) if burner_count else contextlib.nullcontext():
        child = subprocess.Popen(
            [sys.executable, "-m", "kata.selfcheck", *options],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        with reaped(child):
            stdout, _ = child.communicate(timeout=3600)
    failures = []  # each failure's name, then its detail lines (indented) as the self-check printed them
    for line in stdout.splitlines():
        if line.startswith("FAIL "):
            failures.append(line[5:])
        elif failures and line.startswith("     ") and not SUMMARY.match(line):
            failures[-1] += "\n        " + line.strip()[:300]
    if SUMMARY.search(stdout) is None:
        failures.append(f"the self-check did not finish (exit code {child.returncode}): {stdout[-300:]}")
    return stdout, failures


def _counts(stdout: str) -> tuple[int, int]:
    summary = SUMMARY.search(stdout)
    return (int(summary["passed"]), int(summary["failed"])) if summary else (0, 1)


def self_check(loaded: bool, margins_file: Path) -> SelfCheckRun:
    started = time.perf_counter()
    stdout, failures = _self_check_output(("--timings",), margins_file, (os.cpu_count() or 1) * loaded)
    own = OWN_TIME.search(stdout)
    passed, failed = _counts(stdout)
    seconds = time.perf_counter() - started
    return SelfCheckRun(
        loaded, seconds, passed, failed, failures, float(own["own"]) if own else 0.0, _passed_alone(stdout)
    )


def _passed_alone(stdout: str) -> list[str]:
    """The tests the self-check listed as passed only when run alone (kata.selfcheck)."""
    found = ALONE.search(stdout)
    if found is None:
        return []
    listed = itertools.takewhile(lambda line: line.startswith("  "), stdout[found.end() :].splitlines()[1:])
    return [line.strip() for line in listed]


def read_margins(path: Path, margins: dict[str, Margin], target: str = "solutions") -> None:
    """Keep, per check, the record nearest its bound among correct code (the reference solutions)."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError, KeyError):
            record = json.loads(line)
            if record["target"] != target or not record["test"].startswith("tests/test_"):
                continue  # the harness's own tests break bounds on purpose
            best = margins.get(record["check"])
            judged = best.judged + 1 if best else 1
            if best is None or record["ratio"] > best.ratio:
                margins[record["check"]] = Margin(
                    record["check"],
                    record["ratio"],
                    record["observed"],
                    record["bound"],
                    record["test"],
                    record.get("unit", "s"),
                    record.get("upper", True),
                )
            margins[record["check"]].judged = judged


def flakes(repeat: int, on_run=lambda run: None) -> FlakeReport:
    """The self-check `repeat` times, every other one with a CPU burner on every core."""
    report = FlakeReport()
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as folder:
        for index in range(repeat):
            margins_file = Path(folder) / f"margins-{index}.jsonl"
            run = self_check(loaded=index % 2 == 1, margins_file=margins_file)
            read_margins(margins_file, report.margins)
            report.runs.append(run)
            on_run(run)
    return report


SECOND_RUNS = re.compile(r"^(?P<count>\d+) tests? failed only on time and had a second run", re.M)


@dataclass
class LoadRun:
    seconds: float
    passed: int
    failed: int
    failures: list[str]
    second_runs: int


def under_load(repeat: int, burner_count: int, on_run=lambda run: None) -> list[LoadRun]:
    """The correct code only (solutions and ok_ variants), `repeat` times, with `burner_count`
    CPU burners: every failure is a false failure, blamed on the learner by a busy machine."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as folder:
        for index in range(repeat):
            started = time.perf_counter()
            margins_file = Path(folder) / f"margins-{index}.jsonl"
            stdout, failures = _self_check_output(("--correct-only",), margins_file, burner_count)
            second = SECOND_RUNS.search(stdout)
            passed, failed = _counts(stdout)
            run = LoadRun(
                time.perf_counter() - started, passed, failed, failures, int(second["count"]) if second else 0
            )
            runs.append(run)
            on_run(run)
    return runs


@dataclass
class SeedRun:
    seed: int
    seconds: float
    caught: int
    missed: list[str]  # the wrong variants this seed let pass (or other failures of the run)
    passed: int = 0  # correct code's verdicts that held with this seed
    failed: list[str] = field(default_factory=list)  # correct code this seed failed


def seeds(repeat: int, on_run=lambda run: None) -> list[SeedRun]:
    """Every wrong variant, and every piece of correct code (the solutions and ok_ variants), with
    the random inputs of seeds 1..repeat: a mistake must be caught by what the tests check, never
    by the luck of one seed (a false pass in one run of 20 is still a false pass), and correct code
    must pass whatever the inputs (a test drawing 100 distinct pages out of 99, or two amounts that
    happened to be equal, once failed a reference solution 1 run in 40). Seeds 1..K, so a miss can
    be replayed with `kata.selfcheck --seed S`."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as folder:
        for seed in range(1, repeat + 1):
            started = time.perf_counter()
            options = ("--wrong-only", "--seed", str(seed))
            stdout, missed = _self_check_output(options, Path(folder) / f"margins-{seed}.jsonl", 0)
            caught, _ = _counts(stdout)
            options = ("--correct-only", "--seed", str(seed))
            stdout, failed = _self_check_output(options, Path(folder) / f"margins-correct-{seed}.jsonl", 0)
            passed, _ = _counts(stdout)
            run = SeedRun(seed, time.perf_counter() - started, caught, missed, passed, failed)
            runs.append(run)
            on_run(run)
    return runs


OVERHEAD_LEARNER = "async def answer():\n    return 42\n"
OVERHEAD_KATA_TEST = "async def test_{n}(ex):\n    assert await ex.answer() == 42\n"
OVERHEAD_PLAIN_TEST = "async def test_{n}():\n    assert await answer() == 42\n"


def _pytest_seconds(folder: Path, tests: str, options: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", tests, "-q", "-p", "no:cacheprovider", "-p", "no:anyio", *options],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started


def harness_overhead(count: int = 200, repeat: int = 5) -> tuple[float, float]:
    """What the kata adds to each test, in seconds: (with the kata's plugin, without it) per test.

    Trivial async tests (one awaited call of the learner's module) in runs of `count` and
    `2 * count` tests: the difference over `count` is one test's cost, without the start-up both
    runs pay. With the plugin, every test loads the learner's file and runs guarded (the loop
    guard, the never-awaited and leaked-task checks); without it, plain pytest-asyncio."""
    with tempfile.TemporaryDirectory(prefix="kata-overhead-") as scratch:
        folder = Path(scratch)
        (folder / "target").mkdir()
        (folder / "pytest.ini").write_text(
            "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        )
        costs = []
        for kind, template, options in (
            ("kata", OVERHEAD_KATA_TEST, ["-p", "kata.plugin", "--target", "target"]),
            ("plain", OVERHEAD_PLAIN_TEST, []),
        ):
            seconds = {}
            for size in (count, 2 * count):
                stem = f"99_{kind}_{size}"  # the `ex` fixture loads target/99_kata_N.py for test_99_kata_N.py
                (folder / "target" / f"{stem}.py").write_text(OVERHEAD_LEARNER)
                header = OVERHEAD_LEARNER if kind == "plain" else ""
                body = "\n\n".join(template.format(n=n) for n in range(size))
                (folder / f"test_{stem}.py").write_text(header + "\n\n" + body + "\n")
                runs = [_pytest_seconds(folder, f"test_{stem}.py", options) for _ in range(repeat)]
                seconds[size] = statistics.median(runs)
            costs.append((seconds[2 * count] - seconds[count]) / count)
    return costs[0], costs[1]


NO_POSIX = REPO_ROOT / "tests" / "harness" / "no_posix"
WINDOWS_TICK = 0.015625


def like_windows(old_clock: bool) -> tuple[float, int, int, list[str]]:
    """The correct code (solutions and ok_ variants) as on Windows, simulated: no POSIX-only
    pieces, every wait ending on a 15.6 ms timer tick, and with old_clock time.monotonic (asyncio's
    clock) moving once a tick too, as before Python 3.13. (seconds, passed, failed, failures)."""
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(NO_POSIX), os.environ.get("PYTHONPATH")])),
        "KATA_SIMULATED_TICK": str(WINDOWS_TICK),
        "KATA_SIMULATED_TICK_CLOCK": "1" if old_clock else "",
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as folder:
        stdout, failures = _self_check_output(("--correct-only",), Path(folder) / "margins.jsonl", 0, env)
    passed, failed = _counts(stdout)
    return time.perf_counter() - started, passed, failed, failures


def tests_own_time() -> tuple[float, float]:
    """(the reference solutions' tests' own time, the wall time of running them in one child)."""
    exercises = discover()
    run = run_tests([e.tests for e in exercises], REPO_ROOT / "solutions", wall_limit=600)
    return sum(r.seconds for r in run.results), run.seconds


@dataclass
class Throughput:
    copies: int
    jobs: int
    seconds: float
    peak_memory_bytes: int
    all_full_marks: bool
    cpu_seconds: float | None = None  # None: no cgroup could be made here


def _process_tree(root: int, *, with_memory: bool = False) -> dict[int, int]:
    """A process and all its descendants (whatever their process group), from /proc: pid -> resident bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
            if with_memory:
                rss[int(entry.name)] = int((entry / "statm").read_text().split()[1]) * page
    tree, stack = {}, [root]
    while stack:
        pid = stack.pop()
        tree[pid] = rss.get(pid, 0)
        stack += children.get(pid, [])
    return tree


def _tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants."""
    return sum(_process_tree(root, with_memory=True).values())


@contextlib.contextmanager
def reaped(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """When the benchmark is interrupted, stop `process` and every process under it.

    The self-check's test runs live in process groups of their own, so killing one group
    is not enough: the whole tree is found from /proc and killed, the children first.
    """
    try:
        yield process
    except BaseException:
        for pid in reversed(list(_process_tree(process.pid))):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        raise


class CpuMeter:
    """CPU seconds of a command and everything it starts, sandboxes included (they keep their
    cgroup whatever namespaces they make): a cgroup of its own, where this machine lets us make
    one (root; cgroup v1's cpuacct or v2). `prefix` puts a command in it; None when unavailable."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.usage_file = ""
        name = f"kata-bench-{os.getpid()}"
        for root, usage in (
            (Path("/sys/fs/cgroup/cpuacct"), "cpuacct.usage"),
            (Path("/sys/fs/cgroup"), "cpu.stat"),
        ):
            if (root / usage).exists() or (usage == "cpu.stat" and (root / "cgroup.controllers").exists()):
                with contextlib.suppress(OSError):
                    (root / name).mkdir()
                    self.folder, self.usage_file = root / name, usage
                    break

    def prefix(self) -> list[str]:
        if self.folder is None:
            return []
        return ["sh", "-c", f'echo $$ > {self.folder}/cgroup.procs && exec "$@"', "sh"]

    def seconds(self) -> float | None:
        if self.folder is None:
            return None
        text = (self.folder / self.usage_file).read_text()
        if self.usage_file == "cpuacct.usage":
            return int(text) / 1e9
        fields = dict(line.split() for line in text.splitlines())
        return int(fields["usage_usec"]) / 1e6

    def close(self) -> None:
        if self.folder is not None:
            with contextlib.suppress(OSError):
                self.folder.rmdir()


class BatchFailed(Exception):
    """`grade.py batch` wrote no gradebook: its own line saying why."""


def throughput(copies: int, jobs: int, extra: list[str] | None = None) -> Throughput:
    """`grade.py batch` on `copies` copies of the reference solutions; wall time, peak memory and
    (where a cgroup can be made) CPU time of everything it ran. `extra`: more batch options."""
    with tempfile.TemporaryDirectory(prefix="kata-class-") as folder:
        root = Path(folder)
        for n in range(copies):
            shutil.copytree(REPO_ROOT / "solutions", root / "subs" / f"student{n:03d}" / "exercises")
        command = [
            sys.executable,
            str(REPO_ROOT / "grade.py"),
            "batch",
            *map(str, sorted((root / "subs").iterdir())),
            "--out",
            str(root / "out"),
            "--plain",
            "--jobs",
            str(jobs),
            *(extra or []),
        ]
        meter = CpuMeter()
        started = time.perf_counter()
        said = (root / "said.txt").open("w+b")  # the batch's own lines, for its reason if it stops
        process = subprocess.Popen(
            [*meter.prefix(), *command], cwd=REPO_ROOT, stdout=said, stderr=subprocess.STDOUT
        )
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.wait(0.25):
                peak = max(peak, _tree_rss(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            with reaped(process):
                process.wait()
        finally:
            stop.set()
        sampler.join()
        seconds = time.perf_counter() - started
        cpu = meter.seconds()
        meter.close()
        said.seek(0, os.SEEK_END)
        said.seek(max(0, said.tell() - 4000))
        tail = said.read().decode("utf-8", errors="replace").strip().splitlines()
        said.close()
        if not (root / "out" / "gradebook.csv").exists():
            stopped = next((line for line in reversed(tail) if line.startswith("grade.py batch:")), None)
            raise BatchFailed(stopped or (tail[-1] if tail else f"exit code {process.returncode}, no output"))
        with (root / "out" / "gradebook.csv").open(encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        full = len(rows) == copies and all(row["percent"] == "100.0" for row in rows)
    return Throughput(copies, jobs, seconds, peak, full, cpu)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
