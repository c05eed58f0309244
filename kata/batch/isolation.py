"""Grade one submission's files in a sandboxed child, trusting nothing the child says but its results.

- The child runs in the sandbox chosen for the batch (kata.sandbox): the course is a private
  read-only copy (kata.batch.course), the submission's `NN_topic.py` files are read-only in a
  private, size-bounded folder, and graded code runs as an unprivileged uid where the machine
  allows it. It is `python -I -B` (no PYTHONPATH, no user site, no current folder on sys.path,
  no bytecode written) with a scrubbed environment, plugin autoload off, `--noconftest`,
  resource limits (CPU, memory, open files, file size, processes), and, where the machine allows
  it, a memory cgroup for all its processes together; its output is drained and capped.
- Each exercise has its own time limit, counted from its first test: a hang costs its own
  exercise that limit, never the others. When an exercise's tests are over (the next one's
  first test starts, or the child ends), every process it left behind is killed.
- Results come back over an inherited pipe whose number and nonce travel on stdin, not argv;
  lines without the nonce are ignored, lines and events are capped, and a result counts only
  for the test that announced itself as running. The exit code is never looked at: every
  expected test id (from a trusted collection with no learner code) gets a result, and a test
  the child never reported failed ("the process ended...").
- A child that dies (os._exit, pytest.exit, a crash, a kill) is restarted on the tests it did
  not reach, so one cheating or crashing test costs that test, not the rest; an exercise that
  ends the process twice loses its remaining tests.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from kata import reaping
from kata.batch.course import Course
from kata.batch.starving import RunDelays
from kata.judge.coverage import judged
from kata.judge.link import LEARNER_UID_VARIABLE, PREFIX_VARIABLE
from kata.report import HANG_GRACE, NOT_RUN_AFTER_HANG_IN_EXERCISE, TestResult, is_timeout
from kata.runner import machine_is_busy, worth_a_second_run
from kata.sandbox import Jail, Sandbox, memory
from kata.sandbox.bubblewrap import STUDENT, View
from kata.sandbox.choose import python_paths

BOOTSTRAP = (
    "import sys; sys.path[:0] = [{root!r}]; sys.argv = ['kata-grading']; "
    "from kata.batch.child import main; sys.exit(main())"
)
ENDED_DURING = "not passed: the test process ended while this test ran (exit code {code})"
KILLED_DURING = (
    "not passed: this test was still running when the exercise's time limit ({seconds:g} s) was up"
)
OUT_OF_TIME = "not run: the exercise's time limit ({seconds:g} s) was up before this test"
ENDED_TWICE = "not run: this exercise ended the test process twice; its remaining tests were not run"
NEVER_REACHED = "not run: the test process kept ending before this test"
OUT_OF_MEMORY = (
    "the sandbox ran out of memory while this exercise was graded: all of its processes together may "
    "use {budget}, and the kernel killed {count} of them"
)
MAX_CHILDREN = 12
MAX_LINE_BYTES = 64 * 1024  # a longer result line is dropped
# The trusted collection's one line lists every test of the course: 88 KB for 312 tests (it
# outgrew MAX_LINE_BYTES, and the batch could then grade nothing). No learner code runs there.
TRUSTED_LINE_BYTES = 16 * 1024**2
MAX_MESSAGE_CHARS = 4000
POLL_SECONDS = 0.05


class GraderFailure(RuntimeError):
    """The sandboxed child could not even start the tests: the machine's fault, never the student's."""


@dataclass(frozen=True)
class Limits:
    test_timeout: float = 10.0  # pytest-timeout, per test
    exercise_seconds: float = 60.0  # wall clock per exercise, from its first test (the hard kill)
    # Address space, per process (RLIMIT_AS), where no memory cgroup bounds the sandbox. With one
    # (kata.sandbox.memory) the cgroup bounds the memory, and each process may map BOUNDED_AS:
    # address space is not memory (a thread reserves 8 MiB of stack and its malloc arena 64 MiB,
    # and touches little of them: 2 GiB refused a correct answer's threads before memory ran short).
    memory_bytes: int = 2 * 1024**3
    # All of a sandbox's processes together, and its files in /sandbox, /tmp and /dev/shm, swap
    # included, where the machine gives it a memory cgroup (kata.sandbox.memory). The batch lowers
    # it so that -j sandboxes fit in the machine's memory (memory.fitting_budget).
    sandbox_memory_bytes: int = memory.DEFAULT_BUDGET
    open_files: int = 256
    file_bytes: int = 16 * 1024**2
    # Processes AND threads (RLIMIT_NPROC counts every task of the uid): the judge's host runs about
    # 20 threads of its own, and a correct answer may run a thread per call (32 for 10's tests on a
    # machine of 28 cores or more: min(32, cores + 4)); 64 refused the 33rd thread of an answer that
    # starts 32 at import. Bounded so that -j sandboxes stay far from the kernel's pid_max (32,768
    # by default).
    extra_processes: int = 512
    output_bytes: int = 64 * 1024
    space_bytes: int = 64 * 1024**2  # each of the sandbox's writable folders


BOUNDED_AS = 16 * 1024**3  # address space per process where a memory cgroup bounds the sandbox


@dataclass
class GradedRun:
    results: list[TestResult]
    output: str = ""
    children: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    strays: int = 0  # processes killed because an exercise had left them behind
    second_runs: int = 0  # tests run a second time (in a child of their own) for failing only on time
    out_of_memory: dict[str, int] = field(default_factory=dict)  # stem -> processes the kernel killed
    # Tests seen starved of CPU in the child that ran them, or None for "could not tell" (every test).
    starved: set[str] | None = field(default_factory=set)


@dataclass(frozen=True)
class Grading:
    """What every child of a batch shares: where the course is, the sandbox, the limits, the seed."""

    course: Course
    sandbox: Sandbox
    limits: Limits = Limits()
    seed: int = 0
    judge: bool = True  # judge mode (kata.judge) for every exercise it serves


def pytest_args(test_ids: Sequence[str], course: Path, target: Path, limits: Limits, seed: int) -> list[str]:
    return [
        *test_ids,
        "-c",
        str(course / "pyproject.toml"),
        "--rootdir",
        str(course),
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
        "--kata-file-names",
        "--kata-seed",
        str(seed),
        "--timeout",
        f"{limits.test_timeout:g}",
        "-q",
        "--no-header",
        # No capture: pytest captures into a file, which stops at the file-size limit (EFBIG), and a
        # correct answer that printed 20 MB while imported failed every test. Uncaptured, the
        # output is drained and capped here (_Capped); no grade reads it.
        "--capture=no",
    ]


# The sandbox's account (kata.sandbox.bubblewrap.accounts); the environment names it too, for the
# sandboxes with no /etc of their own (getpass.getuser(), a correct answer's log line at import,
# raised KeyError in batch grading only, a learner trial's).
SANDBOX_USER = STUDENT


def clean_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "USER": SANDBOX_USER,
        "LOGNAME": SANDBOX_USER,
        "TMPDIR": "/tmp",
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


def _child_limits(limits: Limits, wall: float, own_uid: bool) -> dict[str, int]:
    return {
        "cpu_seconds": int(wall) + 5,
        "memory_bytes": limits.memory_bytes,
        "open_files": limits.open_files,
        "file_bytes": limits.file_bytes,
        # With a uid of its own the count is the sandbox's alone; else it shares ours.
        "processes": limits.extra_processes + (0 if own_uid else _user_processes()),
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
    """Read result lines from the pipe as they come; keep only those with the nonce, within caps."""

    def __init__(self, fd: int, nonce: str, max_events: int, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.nonce = nonce
        self.max_events = max_events
        self.max_line_bytes = max_line_bytes
        self.events: list[dict] = []
        self.lock = threading.Lock()
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
                if len(buffer) > self.max_line_bytes:  # a line that never ends: drop it
                    buffer = b""
            self._take(buffer)

    def _take(self, line: bytes) -> None:
        if len(line) > self.max_line_bytes or len(self.events) >= self.max_events:
            return
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            return
        if isinstance(record, dict) and record.pop("nonce", None) == self.nonce:
            with self.lock:
                self.events.append(record)

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.events)

    def finish(self) -> list[dict]:
        self.thread.join(timeout=10)
        return self.snapshot()


@dataclass
class _ChildRun:
    events: list[dict]
    code: int | None
    killed_stem: str | None  # the exercise whose time limit was up, if one was
    output: str
    strays: int
    # stem -> processes killed when the sandbox's memory ran out
    out_of_memory: dict[str, int] = field(default_factory=dict)
    # The tests whose processes spent much of their stretch waiting for a CPU (kata.batch.starving);
    # None where that could not be measured (every test then counts as starved).
    starved: set[str] | None = None


class _ExerciseClock:
    """Which exercise the child is in, since when, and when its time is up."""

    def __init__(self, stems: dict[str, str], first: str, limit: float) -> None:
        self.stems = stems  # test id -> stem
        self.limit = limit
        self.current = first
        self.began = {first: time.monotonic()}
        self.seen_events = 0

    def advance(self, events: list[dict]) -> tuple[bool, float | None]:
        """Read new events; (moved to another exercise, the boot-clock time the move happened)."""
        moved, at = False, None
        for event in events[self.seen_events :]:
            stem = self.stems.get(_relative(event.get("id"))) if event.get("event") == "started" else None
            if stem is None or stem == self.current or stem in self.began:
                continue
            self.current = stem
            self.began[stem] = time.monotonic()
            moved = True
            reported = event.get("at")
            now = time.clock_gettime(time.CLOCK_BOOTTIME)
            # The child says when; a lie can only spare fewer of its own leftovers, or none later than now.
            at = min(float(reported), now) if isinstance(reported, (int, float)) else now
        self.seen_events = len(events)
        return moved, at

    def out_of_time(self) -> bool:
        return time.monotonic() - self.began[self.current] > self.limit


@dataclass
class _Started:
    jail: Jail
    channel: _Channel
    output: _Capped


def _start_child(
    grading: Grading,
    view: View,
    tests: Sequence[str],
    *,
    extra: Sequence[str] = (),
    backstop: float,
    limits: dict[str, int],
    max_events: int,
    uid: int | None = None,
    trusted: bool = False,
    judge: bool = False,
) -> _Started:
    """Start the grading child in the sandbox on `tests` (paths in the course) and hand it its
    orders on stdin: the result pipe and its nonce, the pytest arguments, the limits. `trusted`:
    no learner code runs (the collection), so it may write bytecode into the course. `judge`:
    the child is a judge (pytest --kata-judge) and the learner's code runs in a host process it
    starts as `uid`, beside it in the sandbox."""
    sandbox = grading.sandbox
    course = sandbox.course_path(view)
    nonce = secrets.token_hex(16)
    read_end, write_end = os.pipe()
    # Move the write end to an unremarkable high descriptor: its number is told on stdin only.
    hidden = fcntl.fcntl(write_end, fcntl.F_DUPFD, 100 + secrets.randbelow(800))
    os.close(write_end)
    env = clean_env(sandbox.home_path(view))
    if judge:
        prefix = sandbox.host_prefix(uid)
        env[PREFIX_VARIABLE] = json.dumps(prefix)
        if prefix:  # the learner's code runs as `uid`, the judge as root
            env[LEARNER_UID_VARIABLE] = str(uid)
        extra = [*extra, "--kata-judge"]
    if trusted:
        env["PYTHONDONTWRITEBYTECODE"] = ""
    bytecode = [] if trusted else ["-B"]
    try:
        jail = sandbox.start(
            [sys.executable, "-I", *bytecode, "-c", BOOTSTRAP.format(root=str(course))],
            view,
            env=env,
            pass_fds=(hidden,),
            uid=uid,
            trusted=trusted,
            judge=judge,
            memory_bytes=None if trusted else grading.limits.sandbox_memory_bytes,
        )
    finally:
        os.close(hidden)
    if jail.memory is not None:
        limits = {**limits, "memory_bytes": max(limits["memory_bytes"], BOUNDED_AS)}
    channel = _Channel(read_end, nonce, max_events, TRUSTED_LINE_BYTES if trusted else MAX_LINE_BYTES)
    output = _Capped(jail.process.stdout, grading.limits.output_bytes)
    target = sandbox.target_path(view)
    args = pytest_args([str(course / t) for t in tests], course, target, grading.limits, grading.seed)
    orders = {
        "args": [*args, *extra],
        "fd": hidden,
        "nonce": nonce,
        "backstop": backstop,
        "limits": limits,
        "judge": judge,
    }
    with contextlib.suppress(OSError):
        jail.process.stdin.write((json.dumps(orders) + "\n").encode())
        jail.process.stdin.close()
    return _Started(jail, channel, output)


def _run_child(
    test_ids: list[TestResult], work: Path, grading: Grading, uid: int | None, judge: bool
) -> _ChildRun:
    """One sandboxed child on `test_ids` (in order), each exercise within its own time limit;
    `judge`: in judge mode (the tests in one process, the learner's code in another)."""
    limits = grading.limits
    view = View(
        course=grading.course.root,
        target=work / "target",
        readable=python_paths(),
        space_bytes=limits.space_bytes,
    )
    stems = {t.id: t.stem for t in test_ids}
    wall = limits.exercise_seconds * len(set(stems.values()))
    child = _start_child(
        grading,
        view,
        list(stems),
        backstop=limits.test_timeout + HANG_GRACE,
        limits=_child_limits(limits, wall, own_uid=uid is not None),
        max_events=50 + 4 * len(test_ids),
        uid=uid,
        judge=judge,
    )
    jail, channel, output, process = child.jail, child.channel, child.output, child.jail.process
    clock = _ExerciseClock(stems, test_ids[0].stem, limits.exercise_seconds)
    killed_stem, strays = None, 0
    out_of_memory: dict[str, int] = {}
    killed_so_far = 0

    def memory_ran_out(stem: str) -> None:  # in the exercise that ran since the last look
        nonlocal killed_so_far
        killed = jail.out_of_memory()
        if killed > killed_so_far:
            out_of_memory[stem] = out_of_memory.get(stem, 0) + killed - killed_so_far
            killed_so_far = killed

    delays = RunDelays(process.pid)
    seen = 0

    def note_beginnings(events: list[dict]) -> None:  # on the grader's clock, not the child's word
        nonlocal seen
        for event in events[seen:]:
            if event.get("event") == "started" and isinstance(event.get("id"), str):
                delays.test_began(_relative(event["id"]))
        seen = len(events)

    try:
        while not reaping.exited(process):  # unreaped until jail.kill(): see kata.reaping
            was = clock.current
            events = channel.snapshot()
            note_beginnings(events)
            moved, at = clock.advance(events)
            if moved:
                memory_ran_out(was)
                strays += jail.end_exercise(since=at)
            delays.sample()
            if clock.out_of_time():
                killed_stem = clock.current
                break
            time.sleep(POLL_SECONDS)
    finally:
        delays.sample(force=True)
        memory_ran_out(clock.current)
        strays += jail.leftovers()  # all of them die now
        jail.kill()
    text = output.text()
    process.stdout.close()
    events = channel.finish()
    note_beginnings(events)
    for event in events:
        event.pop("at", None)
    return _ChildRun(events, process.returncode, killed_stem, text, strays, out_of_memory, delays.starved())


def _one_line(text: str) -> str:
    return text[:MAX_MESSAGE_CHARS]


def grade_files(
    files: dict[str, bytes], expected: list[TestResult], grading: Grading, uid: int | None = None
) -> GradedRun:
    """Run every expected test against `files` (stem -> bytes); one result per expected test, always.
    `uid`: the job slot's unprivileged uid, when the sandbox drops privileges. The exercises judge
    mode serves are graded in it (kata.judge.coverage); the others in one process, as before."""
    started = time.perf_counter()
    # Read before any of the submission's code runs: it cannot have made the machine busy yet.
    busy_before = machine_is_busy()
    run = GradedRun(results=[])
    results: dict[str, TestResult] = {}
    with tempfile.TemporaryDirectory(prefix="kata-grade-") as folder:
        work = Path(folder)
        os.chmod(work, 0o711)  # the sandbox's user may pass through to its files, not list or write
        (work / "target").mkdir(mode=0o755)
        os.chmod(work / "target", 0o755)
        for stem, data in files.items():
            (work / "target" / f"{stem}.py").write_bytes(data)
            os.chmod(work / "target" / f"{stem}.py", 0o644)
        outputs = []
        for group, judge in _by_mode(expected, grading.judge):
            outputs += _grade_group(group, judge, results, work, grading, uid, run)
        for test in expected:
            results.setdefault(test.id, replace(test, outcome="failed", message=NEVER_REACHED))
        for group, judge in _by_mode(expected, grading.judge):
            outputs.append(_second_chance(group, results, work, grading, uid, run, judge, busy_before))
        run.output = "\n".join(outputs)[-grading.limits.output_bytes :]
    run.results = [_memory_ran_out(results[t.id], run, grading.limits) for t in expected]
    run.seconds = time.perf_counter() - started
    return run


def _memory_ran_out(result: TestResult, run: GradedRun, limits: Limits) -> TestResult:
    """A failed test of an exercise whose sandbox ran out of memory says so first."""
    killed = run.out_of_memory.get(result.stem, 0)
    if not killed or result.outcome == "passed":
        return result
    said = OUT_OF_MEMORY.format(budget=memory.size(limits.sandbox_memory_bytes), count=killed)
    return replace(result, message=_one_line(f"{said}\n{result.message}" if result.message else said))


def _count_out_of_memory(run: GradedRun, child: _ChildRun) -> None:
    for stem, killed in child.out_of_memory.items():
        run.out_of_memory[stem] = run.out_of_memory.get(stem, 0) + killed


def _by_mode(expected: list[TestResult], judge: bool) -> list[tuple[list[TestResult], bool]]:
    """The tests to run in judge mode, then the others (each group in the expected order)."""
    if not judge:
        return [(expected, False)] if expected else []
    groups = [
        ([t for t in expected if judged(t.stem)], True),
        ([t for t in expected if not judged(t.stem)], False),
    ]
    return [(tests, mode) for tests, mode in groups if tests]


def _grade_group(
    expected: list[TestResult],
    judge: bool,
    results: dict[str, TestResult],
    work: Path,
    grading: Grading,
    uid: int | None,
    run: GradedRun,
) -> list[str]:
    """Run children on `expected` until each test has a result or MAX_CHILDREN have run; their output."""
    outputs: list[str] = []
    ended_by: dict[str, int] = {}  # stem -> how many times its tests ended the process
    children = 0
    while children < MAX_CHILDREN:
        remaining = [t for t in expected if t.id not in results]
        if not remaining:
            break
        child = _run_child(remaining, work, grading, uid, judge)
        children += 1
        run.children += 1
        run.strays += child.strays
        _count_out_of_memory(run, child)
        outputs.append(child.output)
        _note_starved(run, child, remaining)
        running = _collect(child.events, {t.id: t for t in remaining}, results)
        if child.killed_stem is not None:
            seconds = grading.limits.exercise_seconds
            for test in remaining:
                if test.stem == child.killed_stem and test.id not in results:
                    message = KILLED_DURING if test.id == running else OUT_OF_TIME
                    results[test.id] = replace(
                        test, outcome="failed", message=message.format(seconds=seconds)
                    )
            run.notes.append(f"{child.killed_stem}: the exercise's time limit ({seconds:g} s) was up")
            continue
        if running is None:
            if not any(t.id in results for t in remaining):
                if children == 1:  # no learner code had run yet: the grader's own failure
                    raise GraderFailure(
                        f"the test process ended before any test ran (exit code {child.code}): "
                        + " / ".join(child.output.strip().splitlines()[-3:])[-300:]
                    )
                run.notes.append(f"the test process ended before any test ran (exit code {child.code})")
                break
            continue
        test = next(t for t in remaining if t.id == running)
        message = ENDED_DURING.format(code=child.code)
        results[test.id] = replace(test, outcome="failed", message=message)
        run.notes.append(f"{test.stem}: {message} ({test.test})")
        ended_by[test.stem] = ended_by.get(test.stem, 0) + 1
        if ended_by[test.stem] >= 2:
            for other in remaining:
                if other.stem == test.stem and other.id not in results:
                    results[other.id] = replace(other, outcome="failed", message=ENDED_TWICE)
    return outputs


def _note_starved(run: GradedRun, child: _ChildRun, tests: list[TestResult]) -> None:
    """Keep which of `tests` the child saw starved of CPU (all of them where it could not tell)."""
    if run.starved is None:
        return
    if child.starved is None:
        run.starved = None
    else:
        run.starved |= {t.id for t in tests if t.id in child.starved}


def _second_chance(
    expected: list[TestResult],
    results: dict[str, TestResult],
    work: Path,
    grading: Grading,
    uid: int | None,
    run: GradedRun,
    judge: bool,
    busy_before: bool,
) -> str:
    """Run once more the tests that failed only on time, as grade.py does (kata.runner): a loop
    stall, a timing bound, a timeout on a busy machine, and the tests of an exercise that a timeout
    kept from running. A mistake fails the same way every time; a busy machine (many children on
    few cores) now and then. A test that passes the second time passes.

    Only stalls had a second run: a batch of 6 reference copies at -j 4 on 2 cores failed 10's
    pool test on a timing bound (a 0.59 s wait of the loop while the pools computed), 1 task of
    132, and the student lost its point.

    The machine counts as busy for a timeout only if it was before the submission's code ran
    (`busy_before`) and still is: a red team's answer made it busy itself (40 threads hashing),
    hung when it was not, and got full marks from the second run its own load had earned.

    And a timeout (or a give-up) counts only where its test was starved (kata.batch.starving): red team W3's
    answer hung in its first run only, beside a classmate that kept the machine busy (40 busy
    processes): the load average opened the second run for a hang that slept."""
    busy = busy_before and machine_is_busy()
    starved = run.starved

    def worth_it(test: TestResult) -> bool:
        return worth_a_second_run(results[test.id], busy and (starved is None or test.id in starved))

    rerun = [t for t in expected if worth_it(t)]
    hung = {t.stem for t in rerun if is_timeout(results[t.id].message)}
    rerun += [
        t
        for t in expected
        if t.stem in hung and t not in rerun and results[t.id].message == NOT_RUN_AFTER_HANG_IN_EXERCISE
    ]
    if not rerun:
        return ""
    rerun.sort(key=expected.index)
    child = _run_child(rerun, work, grading, uid, judge)
    run.children += 1
    run.second_runs += len(rerun)
    run.strays += child.strays
    _count_out_of_memory(run, child)
    again: dict[str, TestResult] = {}
    _collect(child.events, {t.id: t for t in rerun}, again)
    for test_id, result in again.items():
        if result.outcome == "passed":
            results[test_id] = result
    return child.output


def _collect(
    events: list[dict], remaining: dict[str, TestResult], results: dict[str, TestResult]
) -> str | None:
    """Take the results of tests that announced themselves; return the id still running at the end, if any."""
    running: str | None = None
    for event in events:
        kind, test_id = event.get("event"), _relative(event.get("id"))
        if kind == "started" and test_id in remaining and test_id not in results:
            running = test_id
        elif kind == "test" and test_id == running:
            trusted = remaining[test_id]
            outcome = (
                event.get("outcome")
                if event.get("outcome") in ("passed", "failed", "error", "skipped")
                else "failed"
            )
            try:
                seconds = max(0.0, float(event.get("seconds") or 0.0))
            except (TypeError, ValueError):
                seconds = 0.0
            results[test_id] = replace(
                trusted,
                outcome=outcome,
                seconds=seconds,
                message=_one_line(str(event.get("message") or "")),
                # Only ever a second run, which must pass on its own (in one process the child's
                # word is the learner's, who could as well have written "passed").
                time_only=event.get("time_only") is True,
                gave_up=event.get("gave_up") is True,
            )
            running = None
    return running


def _relative(test_id: object) -> str | None:
    """Test ids as the collection has them (tests/test_NN_topic.py::name), whatever root the child saw."""
    if not isinstance(test_id, str):
        return None
    marker = test_id.find("tests/test_")
    return test_id[marker:] if marker >= 0 else test_id


def collect_expected(test_files: Sequence[str], grading: Grading) -> list[TestResult]:
    """The full list of tests, from a trusted collection run with no learner code at all. It runs in
    the sandbox with the course writable, so the bytecode it compiles serves every child after it."""
    with tempfile.TemporaryDirectory(prefix="kata-collect-") as folder:
        work = Path(folder)
        os.chmod(work, 0o755)
        (work / "target").mkdir()
        os.chmod(work / "target", 0o755)
        view = View(
            course=grading.course.root, target=work / "target", readable=python_paths(), course_writable=True
        )
        child = _start_child(
            grading,
            view,
            test_files,
            extra=["--collect-only"],
            backstop=60.0,
            limits=_child_limits(Limits(), 120.0, own_uid=False),
            max_events=10,
            trusted=True,
        )
        jail, channel, output = child.jail, child.channel, child.output
        try:
            reaping.wait_unreaped(jail.process, 120)
        finally:
            jail.kill()
        text = output.text()
        jail.process.stdout.close()
        events = channel.finish()
    collected = [e for e in events if e.get("event") == "collected"]
    if not collected:
        code = jail.process.returncode
        raise GraderFailure(f"could not collect the tests (exit code {code}): {text.strip()[-300:]}")
    tests = []
    for test in collected[0]["tests"]:
        test = dict(test)
        test["id"] = _relative(test["id"])
        tests.append(TestResult(**test))
    return tests
