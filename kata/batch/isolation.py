"""Grade one submission's files in isolated child processes, trusting nothing the child says but its results.

- Only the expected `NN_topic.py` files are written, into a fresh scratch folder; the
  tests, the plugin and the pytest settings come from this repository.
- The child is `python -I` (no PYTHONPATH, no user site, no current folder on sys.path)
  with a scrubbed environment, plugin autoload off, `--noconftest`, its own process
  group, resource limits (CPU, memory, open files, file size, processes) and a hard
  wall-clock kill; its stdout/stderr are drained and capped.
- Results come back over an inherited pipe whose number and nonce travel on stdin,
  not argv; lines without the nonce are ignored, and a result counts only for the test
  that announced itself as running. The exit code is never looked at: every expected
  test id (from a trusted collection with no learner code) gets a result, and a test
  the child never reported failed ("the process ended...").
- A child that dies (os._exit, pytest.exit, a crash, a kill) is restarted on the tests
  it did not reach, so one cheating or crashing test costs that test, not the rest;
  an exercise that ends the process twice loses its remaining tests.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from kata.catalog import REPO_ROOT
from kata.report import TestResult
from kata.runner import kill_group

BOOTSTRAP = (
    "import sys; sys.path[:0] = [{root!r}]; sys.argv = ['kata-grading']; "
    "from kata.batch.child import main; sys.exit(main())"
)
ENDED_DURING = "not passed: the test process ended while this test ran (exit code {code})"
KILLED_DURING = "not passed: this test was still running when the time limit ({seconds:.0f} s) was up"
ENDED_TWICE = "not run: this exercise ended the test process twice; its remaining tests were not run"
NEVER_REACHED = "not run: the test process kept ending before this test"
MAX_CHILDREN = 12
STALLED = "the event loop was frozen for"


@dataclass(frozen=True)
class Limits:
    test_timeout: float = 10.0  # pytest-timeout, per test
    exercise_seconds: float = 60.0  # wall clock per exercise in a child run (the hard kill)
    memory_bytes: int = 2 * 1024**3
    open_files: int = 256
    file_bytes: int = 16 * 1024**2
    extra_processes: int = 64
    output_bytes: int = 64 * 1024


@dataclass
class GradedRun:
    results: list[TestResult]
    output: str = ""
    children: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def pytest_args(test_ids: Sequence[str], target: Path, limits: Limits, seed: int) -> list[str]:
    return [
        *test_ids,
        "-c",
        str(REPO_ROOT / "pyproject.toml"),
        "--rootdir",
        str(REPO_ROOT),
        "--noconftest",
        "-p",
        "kata.plugin",
        "-p",
        "pytest_asyncio.plugin",
        "-p",
        "pytest_timeout",
        "-p",
        "no:cacheprovider",
        "--target",
        str(target),
        "--kata-seed",
        str(seed),
        "--timeout",
        f"{limits.test_timeout:g}",
        "-q",
        "--no-header",
    ]


def clean_env(scratch: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "NO_COLOR": "1",
    }


def _user_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += 1
    return count


def _child_limits(limits: Limits, wall: float) -> dict[str, int]:
    return {
        "cpu_seconds": int(wall) + 5,
        "memory_bytes": limits.memory_bytes,
        "open_files": limits.open_files,
        "file_bytes": limits.file_bytes,
        "processes": _user_processes() + limits.extra_processes,
        "core_bytes": 0,
    }


class _Capped:
    """Drain a stream in a thread, keeping the first `limit` bytes."""

    def __init__(self, stream, limit: int) -> None:
        self.chunks: list[bytes] = []
        self.kept = 0
        self.dropped = 0
        self.limit = limit
        self.thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self.thread.start()

    def _drain(self, stream) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536):
                room = self.limit - self.kept
                if room > 0:
                    self.chunks.append(chunk[:room])
                    self.kept += min(room, len(chunk))
                self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        self.thread.join(timeout=5)
        text = b"".join(self.chunks).decode("utf-8", errors="replace")
        return text + (f"\n[... {self.dropped} more bytes of output dropped]" if self.dropped else "")


class _Channel:
    """Read result lines from the pipe; keep only those with the nonce."""

    def __init__(self, fd: int, nonce: str) -> None:
        self.nonce = nonce
        self.events: list[dict] = []
        self.thread = threading.Thread(target=self._read, args=(fd,), daemon=True)
        self.thread.start()

    def _read(self, fd: int) -> None:
        buffer = b""
        with open(fd, "rb", closefd=True) as pipe:
            while chunk := pipe.read1(65536):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    self._take(line)
            self._take(buffer)

    def _take(self, line: bytes) -> None:
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            return
        if isinstance(record, dict) and record.pop("nonce", None) == self.nonce:
            self.events.append(record)

    def finish(self) -> list[dict]:
        self.thread.join(timeout=10)
        return self.events


def _run_child(
    test_ids: list[str], scratch: Path, limits: Limits, wall: float, seed: int
) -> tuple[list[dict], int | None, bool, str]:
    """One child run: (events with the nonce, exit code, killed by the wall clock, capped output)."""
    nonce = secrets.token_hex(16)
    read_end, write_end = os.pipe()
    # Move the write end to an unremarkable high descriptor: its number is told on stdin only.
    hidden = fcntl.fcntl(write_end, fcntl.F_DUPFD, 100 + secrets.randbelow(800))
    os.close(write_end)
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", BOOTSTRAP.format(root=str(REPO_ROOT))],
            cwd=scratch,
            env=clean_env(scratch),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(hidden,),
            start_new_session=True,
        )
    finally:
        os.close(hidden)
    channel = _Channel(read_end, nonce)
    output = _Capped(process.stdout, limits.output_bytes)
    orders = {
        "args": pytest_args(test_ids, scratch / "target", limits, seed),
        "fd": hidden,
        "nonce": nonce,
        "backstop": limits.test_timeout + 2.0,
        "limits": _child_limits(limits, wall),
    }
    with contextlib.suppress(OSError):
        process.stdin.write((json.dumps(orders) + "\n").encode())
        process.stdin.close()
    killed = False
    try:
        process.wait(timeout=wall)
    except subprocess.TimeoutExpired:
        killed = True
    finally:
        kill_group(process)
        process.wait()
    text = output.text()
    process.stdout.close()
    return channel.finish(), process.returncode, killed, text


def grade_files(
    files: dict[str, bytes],
    expected: list[TestResult],
    limits: Limits = Limits(),
    seed: int = 0,
) -> GradedRun:
    """Run every expected test against `files` (stem -> bytes); one result per expected test, always."""
    started = time.perf_counter()
    run = GradedRun(results=[])
    results: dict[str, TestResult] = {}
    ended_by: dict[str, int] = {}  # stem -> how many times its tests ended the process
    with tempfile.TemporaryDirectory(prefix="kata-grade-") as folder:
        scratch = Path(folder)
        (scratch / "target").mkdir()
        for stem, data in files.items():
            (scratch / "target" / f"{stem}.py").write_bytes(data)
        outputs = []
        while run.children < MAX_CHILDREN:
            remaining = [t for t in expected if t.id not in results]
            if not remaining:
                break
            stems = {t.stem for t in remaining}
            wall = limits.exercise_seconds * len(stems) + 10.0
            events, code, killed, output = _run_child(
                [str(REPO_ROOT / t.id) for t in remaining], scratch, limits, wall, seed
            )
            run.children += 1
            outputs.append(output)
            running = _collect(events, {t.id: t for t in remaining}, results)
            if running is None:
                if not any(t.id in results for t in remaining):
                    run.notes.append(f"the test process ended before any test ran (exit code {code})")
                    break
                continue
            test = next(t for t in remaining if t.id == running)
            message = KILLED_DURING.format(seconds=wall) if killed else ENDED_DURING.format(code=code)
            results[test.id] = replace(test, outcome="failed", message=message)
            run.notes.append(f"{test.stem}: {message} ({test.test})")
            ended_by[test.stem] = ended_by.get(test.stem, 0) + 1
            if ended_by[test.stem] >= 2 or killed:
                for other in remaining:
                    if other.stem == test.stem and other.id not in results:
                        results[other.id] = replace(other, outcome="failed", message=ENDED_TWICE)
        for test in expected:
            results.setdefault(test.id, replace(test, outcome="failed", message=NEVER_REACHED))
        outputs.append(_second_chance(expected, results, scratch, limits, seed, run))
        run.output = "\n".join(outputs)[-limits.output_bytes :]
    run.results = [results[t.id] for t in expected]
    run.seconds = time.perf_counter() - started
    return run


def _second_chance(
    expected: list[TestResult],
    results: dict[str, TestResult],
    scratch: Path,
    limits: Limits,
    seed: int,
    run: GradedRun,
) -> str:
    """Run once more the tests failed only for a loop stall: blocking code stalls every time, a busy
    machine (many children on few cores) now and then. A test that passes the second time passes."""
    stalled = [t for t in expected if results[t.id].message.startswith(STALLED)]
    if not stalled:
        return ""
    wall = limits.exercise_seconds * len({t.stem for t in stalled}) + 10.0
    ids = [str(REPO_ROOT / t.id) for t in stalled]
    events, _, _, output = _run_child(ids, scratch, limits, wall, seed)
    run.children += 1
    again: dict[str, TestResult] = {}
    _collect(events, {t.id: t for t in stalled}, again)
    for test_id, result in again.items():
        if result.outcome == "passed":
            results[test_id] = result
    return output


def _collect(
    events: list[dict], remaining: dict[str, TestResult], results: dict[str, TestResult]
) -> str | None:
    """Take the results of tests that announced themselves; return the id still running at the end, if any."""
    running: str | None = None
    for event in events:
        kind, test_id = event.get("event"), event.get("id")
        if kind == "started" and test_id in remaining and test_id not in results:
            running = test_id
        elif kind == "test" and test_id == running:
            trusted = remaining[test_id]
            outcome = (
                event.get("outcome")
                if event.get("outcome") in ("passed", "failed", "error", "skipped")
                else "failed"
            )
            results[test_id] = replace(
                trusted,
                outcome=outcome,
                seconds=float(event.get("seconds") or 0.0),
                message=str(event.get("message") or "")[:4000],
            )
            running = None
    return running


def collect_expected(test_files: Sequence[Path]) -> list[TestResult]:
    """The full list of tests, from a collection run with no learner code at all."""
    with tempfile.TemporaryDirectory(prefix="kata-collect-") as folder:
        scratch = Path(folder)
        (scratch / "target").mkdir()
        args = [str(f) for f in test_files]
        events, code, _, output = _run_child([*args, "--collect-only"], scratch, Limits(), 120.0, 0)
    collected = [e for e in events if e.get("event") == "collected"]
    if not collected:
        raise RuntimeError(f"could not collect the tests (exit code {code}): {output.strip()[-300:]}")
    return [TestResult(**test) for test in collected[0]["tests"]]
