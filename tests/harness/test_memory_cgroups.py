"""A memory cgroup per sandbox (kata.sandbox.memory): all of a submission's processes share one budget.

Resource limits bound each process; 64 processes of one submission could together use more memory
than the machine has, and the kernel's OOM killer would then pick a victim anywhere: a classmate's
grading, or the grader. Here every sandbox's processes run in a cgroup of their own, from the
first, and a submission that outgrows its budget loses only its own exercise.

The tests that need cgroups check, where this machine gives the grader none (not root, a read-only
cgroupfs, no memory controller), that the batch says memory is NOT bounded per sandbox, and why.
The parsing of the kernel's files is tested on both cgroup versions with files written here: this
machine has cgroup v1's memory controller only.
"""

import contextlib
import functools
import os
import re
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from kata.batch.course import snapshot
from kata.batch.isolation import Grading, Limits, collect_expected, grade_files
from kata.catalog import REPO_ROOT
from kata.sandbox import choose_sandbox, memory
from kata.sandbox.choose import SandboxUnavailable
from tests.harness.alive import alive_with, still_alive_after

pytestmark = [pytest.mark.timeout(240), pytest.mark.load_sensitive]

STEMS = ("01_coroutines", "02_gather")
SOLUTIONS = {stem: (REPO_ROOT / "solutions" / f"{stem}.py").read_bytes() for stem in STEMS}
FAST = Limits(test_timeout=2.0, exercise_seconds=30.0)


def needs_cgroups(test):
    """The test as it is where the grader can make memory cgroups. Elsewhere (not root, a read-only
    cgroupfs, no memory controller) it checks instead that the batch says so, and why: the
    self-check counts a skipped test as failed, and the honest words are what is true there."""
    if not memory.problem():
        return test

    @functools.wraps(test)
    def says_memory_is_not_bounded(*_args, **_kwargs):
        line = choose_sandbox("none").protections()
        assert f"memory NOT bounded per sandbox ({memory.problem()})" in line, line

    return says_memory_is_not_bounded


# ------------------------------------------------------------------ reading the kernel's files

V1_CGROUP = """\
9:name=systemd:/
4:memory:/process_api/abc
1:cpu:/
0::/
"""
V1_MOUNTS = """\
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
34 30 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:31 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 30 0:36 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def test_cgroup_v1_s_memory_controller_is_found_and_preferred_on_a_hybrid_machine():
    assert memory.locate(V1_CGROUP, V1_MOUNTS) == (1, Path("/sys/fs/cgroup/memory/process_api/abc"), False)


def test_a_mount_of_part_of_the_hierarchy_is_followed(tmp_path):
    """In a container the cgroupfs may be mounted from a folder of the hierarchy, not its root."""
    mounts = "34 30 0:30 /docker/ff /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    found = memory.locate("4:memory:/docker/ff/job\n", mounts)
    assert found == (1, Path("/sys/fs/cgroup/memory/job"), False)


def test_cgroup_v2_is_used_where_it_offers_the_memory_controller(tmp_path):
    own = tmp_path / "system.slice" / "runner.service"
    own.mkdir(parents=True)
    mounts = f"29 23 0:26 / {tmp_path} rw - cgroup2 cgroup2 rw,nsdelegate\n"
    (own / "cgroup.controllers").write_text("cpu io pids\n")
    said = memory.locate("0::/system.slice/runner.service\n", mounts)
    assert isinstance(said, str) and "no memory controller" in said
    (own / "cgroup.controllers").write_text("cpu io memory pids\n")
    assert memory.locate("0::/system.slice/runner.service\n", mounts) == (2, own, False)
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    assert memory.locate("0::/\n", mounts) == (2, tmp_path, True)
    assert "no cgroup hierarchy" in memory.locate("0::/\n", "")


def test_cgroup_v2_makes_the_sandboxes_beside_the_grader_or_below_the_root(tmp_path):
    """v2 gives controllers only to cgroups without processes of their own: not below the grader's."""
    own = tmp_path / "system.slice" / "runner.service"
    own.mkdir(parents=True)
    assert memory.hierarchy_for(2, own, is_root=False) == memory.Hierarchy(2, own.parent)
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    assert memory.hierarchy_for(2, tmp_path, is_root=True) == memory.Hierarchy(2, tmp_path)
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory\n", "switched on at the root"
    assert memory.hierarchy_for(1, own, is_root=False) == memory.Hierarchy(1, own), "v1: below the grader"


def test_cgroup_v2_s_limits_kills_and_room_are_read_from_its_files(tmp_path):
    slice_ = tmp_path / "system.slice"
    cgroup = memory.Cgroup(slice_ / "kata-1-1", 2)
    cgroup.path.mkdir(parents=True)
    (cgroup.path / "memory.swap.max").write_text("max\n")
    cgroup.limit(512 * 1024**2)
    assert (cgroup.path / "memory.max").read_text() == f"{512 * 1024**2}\n"
    assert (cgroup.path / "memory.swap.max").read_text() == "0\n", "no swap past the budget"
    assert cgroup.limit_bytes() == 512 * 1024**2
    (cgroup.path / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 3\n")
    assert cgroup.oom_kills() == 3
    (slice_ / "memory.max").write_text("max\n")
    assert memory.Hierarchy(2, slice_).room() is None
    (slice_ / "memory.max").write_text(f"{6 * 1024**3}\n")
    assert memory.Hierarchy(2, slice_).room() == 6 * 1024**3


def test_cgroup_v1_s_kills_and_room_are_read_from_its_files(tmp_path):
    cgroup = memory.Cgroup(tmp_path / "kata-1-1", 1)
    cgroup.path.mkdir()
    (cgroup.path / "memory.memsw.limit_in_bytes").write_text("9223372036854771712\n")
    cgroup.limit(2 * 1024**3)
    assert (cgroup.path / "memory.memsw.limit_in_bytes").read_text() == f"{2 * 1024**3}\n", "swap too"
    (cgroup.path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n")
    assert cgroup.oom_kills() == 4
    (tmp_path / "memory.stat").write_text("cache 0\nhierarchical_memory_limit 805306368\n")
    assert memory.Hierarchy(1, tmp_path).room() == 805306368


def test_the_budget_fits_the_sandboxes_graded_at_once_in_the_machine_s_memory():
    GiB, MiB = 1024**3, 1024**2
    assert memory.fitting_budget(4, room=24 * GiB) == 2 * GiB, "2 GiB at most"
    assert memory.fitting_budget(4, room=8 * GiB) == 1536 * MiB, "three quarters of 8 GiB in 4"
    assert memory.fitting_budget(1, room=768 * 10**6) == 549 * MiB, "a Gradescope container of 768 MB"
    assert memory.fitting_budget(64, room=8 * GiB) == 512 * MiB, "never below 512 MiB"


def test_the_sandbox_line_says_whether_memory_is_bounded_per_sandbox_and_why_not(monkeypatch):
    monkeypatch.setattr(memory, "_found", lambda: (None, "cgroup v2: Read-only file system"))
    line = choose_sandbox("none").protections()
    assert "memory NOT bounded per sandbox (cgroup v2: Read-only file system), only per process" in line
    assert line.count("memory NOT bounded") == 1
    monkeypatch.setattr(memory, "_found", lambda: (memory.Hierarchy(1, Path("/x")), ""))
    line = choose_sandbox("none").protections(memory_bytes=1024**3, jobs=64)
    said = "memory bounded per sandbox (1 GiB for all its processes and files, swap included; cgroup v1"
    assert said in line
    assert "NOT enough for 64 at once" in line


@needs_cgroups
def test_the_grader_finds_memory_cgroups_work_here():
    assert "memory bounded per sandbox (2 GiB" in choose_sandbox("none").protections()


# ------------------------------------------------------------------ real cgroups


@needs_cgroups
def test_a_command_runs_only_once_it_is_in_the_cgroup():
    cgroup = memory.hierarchy().make(256 * 1024**2)
    try:
        inside = subprocess.run(cgroup.enter(["cat", "/proc/self/cgroup"]), capture_output=True, text=True)
        assert inside.returncode == 0 and f"/{cgroup.path.name}\n" in inside.stdout, inside
    finally:
        assert cgroup.remove()
    assert not cgroup.path.exists()
    refused = subprocess.run(cgroup.enter(["echo", "ran"]), capture_output=True, text=True)
    assert refused.returncode != 0 and "ran" not in refused.stdout, "no cgroup, nothing runs"


def _in(cgroup: memory.Cgroup, argv: list[str]) -> subprocess.Popen:
    process = subprocess.Popen(cgroup.enter(argv))
    deadline = time.monotonic() + 5
    while process.pid not in cgroup.pids() and time.monotonic() < deadline:
        time.sleep(0.01)
    return process


@needs_cgroups
def test_cgroups_left_by_a_grader_that_died_are_removed_with_what_runs_in_them():
    hierarchy = memory.hierarchy()
    here = os.stat("/proc/self/ns/pid").st_ino
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid no process has now
    left = memory.Cgroup(hierarchy.parent / f"kata-{here}-{gone.pid}-1", hierarchy.version)
    kept = memory.Cgroup(hierarchy.parent / f"kata-{here}-{os.getppid()}-999999", hierarchy.version)
    left.path.mkdir()
    kept.path.mkdir()
    try:
        orphan = _in(left, ["sleep", "60"])
        assert hierarchy.sweep() >= 1
        assert not left.path.exists(), "a dead grader's cgroup is removed"
        assert orphan.wait(timeout=5) == -9, "what still ran in it is killed"
        assert kept.path.exists(), "a running grader's cgroup is never touched"
    finally:
        left.remove()
        kept.remove()


@needs_cgroups
def test_a_grader_of_another_pid_namespace_s_cgroups_go_only_once_long_empty(monkeypatch):
    """The Gradescope recipe runs the batch in a PID namespace of its own, where it is pid 3: killed
    at its time limit, it left a cgroup named after pid 3, and outside that namespace pid 3 is
    someone else (a kernel thread here). Such a cgroup cannot be judged by its pid: it is removed
    once it has been empty for a while, and what runs in one is never killed."""
    hierarchy = memory.hierarchy()
    elsewhere = [memory.Cgroup(hierarchy.parent / f"kata-1-3-{n}", hierarchy.version) for n in (1, 2)]
    empty, busy = elsewhere
    for cgroup in elsewhere:
        cgroup.path.mkdir()
    try:
        sleeper = _in(busy, ["sleep", "60"])
        assert hierarchy.sweep() == 0 and empty.path.exists(), "empty for less than a minute: kept"
        monkeypatch.setattr(memory, "EMPTY_FOR", -1.0)  # as if a minute had gone by
        assert hierarchy.sweep() == 1
        assert not empty.path.exists(), "long empty: removed"
        assert busy.path.exists() and sleeper.poll() is None, "a process in it: kept, and left running"
        sleeper.kill()
        sleeper.wait()
    finally:
        for cgroup in elsewhere:
            cgroup.remove()


def _graded_in_a_thread(files, expected, grading) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def grade() -> None:
        accounts = grading.sandbox.accounts
        uid = accounts.claim() if accounts else None
        try:
            box["run"] = grade_files(files, expected, grading, uid)
        except BaseException as error:
            box["error"] = error
        finally:
            if uid is not None:
                accounts.release(uid)

    thread = threading.Thread(target=grade)
    thread.start()
    return thread, box


def _ours() -> list[Path]:
    parent = memory.hierarchy().parent
    return sorted(p for p in parent.iterdir() if re.fullmatch(rf"kata-\d+-{os.getpid()}-\d+", p.name))


def _memory_cgroup_of(pid: int) -> Path | None:
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text()
        found = memory.locate(text, Path("/proc/self/mountinfo").read_text())
    except OSError:
        return None
    return found[1] if isinstance(found, tuple) else None


@pytest.fixture(scope="module", params=["judge_mode", "one_process"])
def judge(request):
    return request.param == "judge_mode"


@pytest.fixture(scope="module")
def course():
    """Outside pytest's temporary folder (root's alone), so the `user` kind's uid can reach it."""
    with tempfile.TemporaryDirectory(prefix="kata-memory-course-") as folder:
        os.chmod(folder, 0o711)
        yield snapshot(Path(folder) / "course")


@pytest.fixture(scope="module")
def expected(course):
    grading = Grading(course, choose_sandbox("auto"), FAST, seed=7)
    return collect_expected([f"tests/test_{stem}.py" for stem in STEMS], grading)


@needs_cgroups
@pytest.mark.parametrize("kind", ["auto", "none"])
def test_every_process_of_a_sandbox_runs_in_its_cgroup_and_the_cgroup_goes_with_it(
    course, expected, judge, kind
):
    """While 01 is graded, the processes its code started (and the one that started them) are in a
    cgroup of this grader's with the budget as its limit; after the grading it is gone. (The `user`
    kind needs a Python every user can run, which a pyenv under /root is not, and the self-check
    counts a skip as a failure: it was checked by hand with a venv of the system's Python, 2026-12-05,
    and passed.)"""
    try:
        sandbox = choose_sandbox(kind)
    except SandboxUnavailable as error:
        pytest.skip(str(error))
    budget = 768 * 1024**2
    grading = Grading(course, sandbox, replace(FAST, sandbox_memory_bytes=budget), seed=7, judge=judge)
    marker = f"kata-cgroup-{uuid.uuid4().hex}"
    starts = (
        "import subprocess as _subprocess, sys as _sys\n"
        f"_subprocess.Popen([_sys.executable, '-c', 'import time; time.sleep(30)', {marker!r}])\n"
    )
    files = {**SOLUTIONS, "01_coroutines": starts.encode() + SOLUTIONS["01_coroutines"]}
    before = _ours()
    thread, box = _graded_in_a_thread(files, expected, grading)
    seen: dict[int, tuple[Path, int | None, bool, bool]] = {}  # pid -> what was seen of its cgroup
    while thread.is_alive() and len(seen) < 3:
        for pid in alive_with(marker):
            if pid not in seen and (folder := _memory_cgroup_of(pid)) is not None:
                cgroup = memory.Cgroup(folder, memory.hierarchy().version)
                members = cgroup.pids()
                with contextlib.suppress(OSError, IndexError):
                    parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                    seen[pid] = (folder, cgroup.limit_bytes(), pid in members, parent in members)
        time.sleep(0.01)
    thread.join(timeout=200)
    assert "error" not in box, box.get("error")
    assert seen, "no process of the submission's was seen while it was graded"
    for pid, (folder, limit, member, parent_member) in seen.items():
        assert re.fullmatch(rf"kata-\d+-{os.getpid()}-\d+", folder.name), f"{pid} ran in {folder}"
        assert folder.parent == memory.hierarchy().parent
        assert limit == budget, f"{folder}: its limit is {limit}, not the budget"
        assert member and parent_member, f"{pid} or the process that started it is not in {folder}"
        assert not folder.exists(), f"{folder} is still there after the grading"
    assert _ours() == before, "every cgroup of the grading is gone"
    assert not still_alive_after(marker, 5)
    run = box["run"]
    assert all(r.outcome == "passed" for r in run.results if r.stem == "02_gather")


HOG = """
import subprocess as _subprocess, sys as _sys, asyncio as _asyncio

_HOLD = "import time; data = b'x' * (400 * 1024**2); time.sleep(1.0)"
_honest_greet = greet


def _hogs():
    started = [_subprocess.Popen([_sys.executable, "-c", _HOLD, {marker!r}]) for _ in range(8)]
    return [process.wait() for process in started]


async def greet(fetch_name, user_id):
    ended = await _asyncio.to_thread(_hogs)
    assert ended == [0] * 8, f"the 8 processes of 400 MiB ended with {{ended}}"
    return await _honest_greet(fetch_name, user_id)
"""


@needs_cgroups
def test_a_memory_hog_loses_its_own_exercise_and_a_classmate_graded_at_once_keeps_full_marks(
    course, expected, judge
):
    """8 processes of 400 MiB each (3.2 GiB, each well under its 2 GiB of address space) against a
    1 GiB budget for the sandbox, while a classmate is graded beside it (-j 2). Without the cgroup
    the machine here has room for them all, and the hog passes 01: with it, the kernel kills some
    of them, 01 fails and says why, and nothing else is touched."""
    limits = Limits(test_timeout=10.0, exercise_seconds=60.0, sandbox_memory_bytes=1024**3)
    grading = Grading(course, choose_sandbox("auto"), limits, seed=7, judge=judge)
    marker = f"kata-hog-{uuid.uuid4().hex}"
    hog = {**SOLUTIONS, "01_coroutines": SOLUTIONS["01_coroutines"] + HOG.format(marker=marker).encode()}
    before = _ours()
    hogging, hog_box = _graded_in_a_thread(hog, expected, grading)
    classmate, classmate_box = _graded_in_a_thread(dict(SOLUTIONS), expected, grading)
    for thread in (hogging, classmate):
        thread.join(timeout=220)
    assert "error" not in hog_box and "error" not in classmate_box, (hog_box, classmate_box)
    hog_run, classmate_run = hog_box["run"], classmate_box["run"]

    def failures(run) -> str:
        return "; ".join(f"{r.test}: {r.message[:300]}" for r in run.results if r.outcome != "passed")

    assert all(r.outcome == "passed" for r in classmate_run.results), failures(classmate_run)
    assert classmate_run.out_of_memory == {}
    assert all(r.outcome == "passed" for r in hog_run.results if r.stem == "02_gather"), failures(hog_run)
    greets = [r for r in hog_run.results if r.stem == "01_coroutines" and r.task == 1]
    assert greets and all(r.outcome != "passed" for r in greets), failures(hog_run)
    assert hog_run.out_of_memory.get("01_coroutines", 0) >= 1, hog_run.out_of_memory
    assert all(r.message.startswith("the sandbox ran out of memory") for r in greets), failures(hog_run)
    assert "all of its processes together may use 1 GiB" in greets[0].message
    assert _ours() == before, "every cgroup of both gradings is gone"
    assert not still_alive_after(marker, 5)
