"""The sandbox a submission runs in: what the code inside can reach, and that nothing it starts survives.

Each test runs for every kind of sandbox this machine allows (bubblewrap, an unprivileged user,
none); a protection a kind does not claim is skipped for it, with the reason.
"""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from kata.batch.course import snapshot
from kata.catalog import REPO_ROOT
from kata.sandbox import accounts, choose_sandbox
from kata.sandbox.bubblewrap import View
from kata.sandbox.choose import KINDS, SandboxUnavailable, python_paths
from tests.harness.alive import alive_with

pytestmark = pytest.mark.timeout(60)


def _available() -> list[str]:
    kinds = []
    for kind in KINDS:
        try:
            choose_sandbox(kind)
        except SandboxUnavailable:
            continue
        kinds.append(kind)
    return kinds


AVAILABLE = _available()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course")
    os.chmod(folder, 0o711)
    return snapshot(folder / "course")


def claimed_by(*kinds: str):
    """Run a test for each kind here that claims its protection (see each kind's one-line statement)."""
    return pytest.mark.parametrize("sandbox", [k for k in kinds if k in AVAILABLE], indirect=True)


ISOLATING = ("bubblewrap", "user")


@pytest.fixture
def sandbox(request):
    return choose_sandbox(request.param)


@pytest.fixture
def view(course, tmp_path):
    os.chmod(tmp_path, 0o711)
    target = tmp_path / "target"
    target.mkdir()
    os.chmod(target, 0o755)
    (target / "01_coroutines.py").write_text("answer = 42\n")
    os.chmod(target / "01_coroutines.py", 0o644)
    return View(course=course.root, target=target, readable=python_paths())


class Inside:
    """Python code started in a sandbox; its stdout once it ends."""

    def __init__(self, sandbox, view, code: str) -> None:
        self.sandbox = sandbox
        self.uid = sandbox.accounts.claim() if sandbox.accounts else None
        env = {"PATH": os.defpath, "HOME": str(sandbox.home_path(view)), "TMPDIR": "/tmp"}
        self.jail = sandbox.start([sys.executable, "-I", "-B", "-c", code], view, env=env, uid=self.uid)
        self.jail.process.stdin.close()
        self.jail.process.stdin = None

    def output(self, timeout: float = 30) -> str:
        try:
            self.jail.process.wait(timeout=timeout)
            out = self.jail.process.stdout.read()
        finally:
            self.close()
        return out.decode(errors="replace") or f"(no output; exit code {self.jail.process.returncode})"

    def close(self) -> None:
        self.jail.kill()
        if self.jail.process.stdout:
            self.jail.process.stdout.close()
        if self.uid is not None:
            self.sandbox.accounts.release(self.uid)
            self.uid = None


ESCAPES = """
import os, subprocess, sys, time
sleeper = [sys.executable, "-c", "import time; time.sleep(60)", "kata-sandbox-" + {hex!r}]
subprocess.Popen(sleeper, start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, sleeper)
    os._exit(0)
if os.fork() == 0:
    os.execv(sys.executable, sleeper)
print("started", flush=True)
time.sleep(60)
"""


def wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_the_sandbox_in_force_is_said_in_one_line():
    sandbox = choose_sandbox("auto")
    line = sandbox.protections()
    assert "\n" not in line and sandbox.kind in ("bubblewrap", "user", "none")
    assert ("NOT SANDBOXED" in line) == (sandbox.kind == "none")


def test_the_sandbox_line_says_how_the_cores_are_shared_between_submissions(monkeypatch, tmp_path):
    from kata.sandbox import choose

    for setting, words in (("1\n", "cores shared per submission"), ("0\n", "NOT per submission")):
        (tmp_path / "autogroup").write_text(setting)
        monkeypatch.setattr(choose, "AUTOGROUP", tmp_path / "autogroup")
        assert words in choose_sandbox("none").protections()
    monkeypatch.setattr(choose, "AUTOGROUP", tmp_path / "missing")  # not Linux, or no autogroup built in
    assert "use -j 1 when timing matters" in choose_sandbox("none").protections()


@claimed_by(*ISOLATING)
@pytest.mark.load_sensitive  # sandboxed start-ups within 10 s
def test_an_exercise_s_leftover_processes_die_when_it_ends_and_the_test_process_lives(sandbox, view):
    hex = uuid.uuid4().hex
    marker = f"kata-sandbox-{hex}"
    inside = Inside(sandbox, view, ESCAPES.format(hex=hex))
    try:
        wait_for(lambda: len(alive_with(marker)) >= 3)
        assert len(alive_with(marker)) >= 3, "the code started its three escapees"
        killed = inside.jail.end_exercise()
        wait_for(lambda: not alive_with(marker))
        assert not alive_with(marker), "a detached, a double-forked and a plain child all die"
        assert killed >= 3
        assert inside.jail.process.poll() is None, "the test process itself is spared"
    finally:
        inside.close()
    assert not alive_with(marker)


@claimed_by(*ISOLATING)
@pytest.mark.load_sensitive  # sandboxed start-ups within 10 s
def test_processes_the_next_exercise_starts_are_spared(sandbox, view):
    hex = uuid.uuid4().hex
    marker = f"kata-sandbox-{hex}"
    code = (
        "import subprocess, sys, time\n"
        "time.sleep(0.5)\n"
        "sleeper = 'import time; time.sleep(60)'\n"
        f"subprocess.Popen([sys.executable, '-c', sleeper, 'kata-sandbox-' + {hex!r}])\n"
        "time.sleep(60)\n"
    )
    inside = Inside(sandbox, view, code)
    try:
        boundary = time.clock_gettime(time.CLOCK_BOOTTIME)
        wait_for(lambda: alive_with(marker))
        assert alive_with(marker)
        inside.jail.end_exercise(since=boundary)
        assert alive_with(marker), "a process started after the exercise began belongs to it"
    finally:
        inside.close()
    assert not alive_with(marker), "and it dies with the sandbox"


# The judge (the test process) starts a host; the host, where graded code runs, starts a process
# whose command line is the standard library's pool worker's, and the judge one of its own.
DISGUISED = """
import subprocess, sys, time
looks_like_a_pool_worker = "from multiprocessing.spawn import spawn_main\\nimport time; time.sleep(60)"
host = (
    "import subprocess, sys, time\\n"
    f"worker = {{looks_like_a_pool_worker!r}}\\n"
    "subprocess.Popen([sys.executable, '-c', worker, sys.argv[1].replace('-host', '-disguised')])\\n"
    "time.sleep(60)\\n"
)
marker = "kata-sandbox-" + "{hex}"  # built, so that no process's own code holds its children's markers
subprocess.Popen([sys.executable, "-c", host, marker + "-host"])
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker + "-judge-s-own"])
time.sleep(60)
"""


@claimed_by(*ISOLATING)
@pytest.mark.load_sensitive  # sandboxed start-ups within 10 s
def test_in_judge_mode_a_host_s_process_dies_with_its_exercise_whatever_its_command_line_says(sandbox, view):
    hex = uuid.uuid4().hex
    inside = Inside(sandbox, view, DISGUISED.format(hex=hex))
    inside.jail.judging(True)
    try:
        started = [f"kata-sandbox-{hex}-{name}" for name in ("host", "disguised", "judge-s-own")]
        wait_for(lambda: all(alive_with(marker) for marker in started))
        assert all(alive_with(marker) for marker in started), "all three started"
        inside.jail.end_exercise()
        wait_for(lambda: not alive_with(started[1]))
        assert not alive_with(started[1]), (
            "a process the graded code started, calling itself multiprocessing's pool worker, outlived its "
            "exercise: only the judge's own children (its hosts) may live on into the next one"
        )
        assert alive_with(started[0]) and alive_with(started[2]), "the judge's own children are spared"
    finally:
        inside.close()


@claimed_by(*ISOLATING)
@pytest.mark.load_sensitive  # sandboxed start-ups within 10 s
def test_nothing_survives_the_sandbox(sandbox, view):
    hex = uuid.uuid4().hex
    marker = f"kata-sandbox-{hex}"
    inside = Inside(sandbox, view, ESCAPES.format(hex=hex))
    wait_for(lambda: len(alive_with(marker)) >= 3)
    inside.close()
    wait_for(lambda: not alive_with(marker), 5)
    assert not alive_with(marker)


@claimed_by(*ISOLATING)
def test_the_course_the_virtualenv_and_the_submission_s_files_are_read_only(sandbox, view):
    course = sandbox.course_path(view)
    targets = [
        course / "kata" / "plugin.py",
        course / "tests" / "planted.py",
        Path(sys.prefix) / "lib" / "planted.pth",
        sandbox.target_path(view) / "01_coroutines.py",
    ]
    code = (
        "import sys\n"
        f"for path in {[str(t) for t in targets]!r}:\n"
        "    try:\n"
        "        open(path, 'a').close()\n"
        "        print('WROTE', path)\n"
        "    except OSError as error:\n"
        "        print('refused', path, error.errno)\n"
    )
    out = Inside(sandbox, view, code).output()
    assert "WROTE" not in out, out
    assert out.count("refused") == len(targets), out


@claimed_by("bubblewrap")
def test_its_own_folder_and_tmp_are_writable_and_bounded(sandbox, view):
    code = (
        "import os\n"
        "open('notes.txt', 'w').write('ok')\n"
        # Names of their own: the virtualenv may live under /tmp, and its folders show there too.
        "import tempfile\n"
        "scratch = tempfile.mkdtemp(dir='/tmp')\n"
        "open(scratch + '/x', 'w').write('ok')\n"
        "try:\n"
        "    with open(scratch + '/big', 'wb') as out:\n"
        "        for _ in range(200):\n"
        "            out.write(b'x' * 1024 * 1024)\n"
        "    print('NO LIMIT')\n"
        "except OSError as error:\n"
        "    print('full', error.errno)\n"
    )
    out = Inside(sandbox, view, code).output()
    assert "full" in out and "NO LIMIT" not in out, out


@claimed_by("bubblewrap")
def test_other_submissions_the_solutions_and_the_grader_are_out_of_sight(sandbox, view, tmp_path):
    classmate = tmp_path / "classmate"
    classmate.mkdir()
    (classmate / "02_gather.py").write_text("# classmate's answer\n")
    paths = [classmate / "02_gather.py", REPO_ROOT / "solutions" / "02_gather.py", REPO_ROOT / "points.toml"]
    code = (
        "import os\n"
        f"for path in {[str(p) for p in paths]!r}:\n"
        "    print('SEEN' if os.path.exists(path) else 'unseen', path)\n"
        "print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
        f"print('parent', os.getppid())\n"
    )
    out = Inside(sandbox, view, code).output()
    assert "SEEN" not in out, out
    pids = eval(out.split("pids", 1)[1].splitlines()[0])
    assert max(pids) < 10 and os.getpid() not in pids, f"only the sandbox's own processes: {pids}"


@claimed_by("bubblewrap")
def test_the_network_is_loopback_only(sandbox, view):
    code = (
        "import socket\n"
        "print('interfaces', sorted(name for _, name in socket.if_nameindex()))\n"
        "server = socket.create_server(('127.0.0.1', 0))\n"
        "client = socket.create_connection(server.getsockname(), timeout=5)\n"
        "print('loopback works')\n"
    )
    out = Inside(sandbox, view, code).output()
    assert "interfaces ['lo']" in out and "loopback works" in out, out


@claimed_by(*ISOLATING)
def test_two_sandboxes_run_as_different_unprivileged_users(sandbox, view):
    first = Inside(sandbox, view, "import os, time; print(os.getuid(), flush=True); time.sleep(30)")
    second = Inside(sandbox, view, "import os; print(os.getuid())")
    try:
        uids = {first.uid, second.uid}
        assert len(uids) == 2 and 0 not in uids
        assert second.output().strip() == str(second_uid := next(iter(uids - {first.uid})))
        assert second_uid >= 1000
    finally:
        first.close()


def test_a_sandbox_that_cannot_start_python_is_the_grader_s_failure_not_the_student_s(tmp_path):
    with pytest.raises(SandboxUnavailable, match="unknown sandbox"):
        choose_sandbox("chroot")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "grade.py"),
            "batch",
            "x",
            "--out",
            str(tmp_path / "out"),
            "--sandbox",
            "chroot",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="needs root and setpriv",
)
def test_a_uid_with_processes_is_skipped_never_killed(tmp_path, monkeypatch):
    """Another grader may keep its locks elsewhere (a chroot, a container with its own /run): its
    live sandboxes must not be killed by a claim here, nor share their uid."""
    monkeypatch.setattr(accounts, "LOCKS", tmp_path / "locks")  # a grader whose locks are elsewhere
    first = accounts.Accounts()
    busy = first.claim()
    other = subprocess.Popen(
        ["setpriv", f"--reuid={busy}", f"--regid={busy}", "--clear-groups", "sleep", "60"]
    )
    try:
        monkeypatch.setattr(accounts, "LOCKS", tmp_path / "elsewhere")  # this grader's own locks
        deadline = time.monotonic() + 10
        while not accounts.processes.of_user(busy) and time.monotonic() < deadline:
            time.sleep(0.01)
        claimed = accounts.Accounts().claim()
        assert claimed != busy, "a uid that has processes is not handed out"
        assert other.poll() is None, "the other grader's process was killed"
    finally:
        other.kill()
        other.wait()
        first.release(busy)
