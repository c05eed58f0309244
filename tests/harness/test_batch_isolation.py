"""Batch grading runs submissions in isolated children and trusts only their results.

Each test grades a small course (exercises 01 and 02) with one submission file doing
something a real submission did to a grader: crash, hang, exit early, forge results,
patch the clock, cheat equality, hard-code answers, eat memory, fork, print forever.
The cheat costs the tests it touches, nothing else: exercise 02 (the honest reference
solution in every case but its own) must still get full marks.
"""

import os
import platform
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from kata.batch.course import snapshot
from kata.batch.isolation import Grading, Limits, collect_expected, grade_files
from kata.catalog import REPO_ROOT
from kata.sandbox import choose_sandbox, syscalls
from kata.sandbox.choose import SandboxUnavailable
from tests.harness.alive import alive_with

# Each test grades with 2 s a test (FAST), and honest work must get full marks: under the
# self-check's own load on a slow machine it ran out of them (CI, 2026-12-02).
pytestmark = [pytest.mark.timeout(180), pytest.mark.load_sensitive]

STEMS = ("01_coroutines", "02_gather")
SOLUTIONS = {stem: (REPO_ROOT / "solutions" / f"{stem}.py").read_bytes() for stem in STEMS}
FAST = Limits(test_timeout=2.0, exercise_seconds=30.0)


@pytest.fixture(scope="module", params=["judge_mode", "one_process"])
def grading(request, tmp_path_factory):
    """The course as a batch grades it: a private copy, in the strongest sandbox this machine has;
    in judge mode (the tests in one process, the submission's code in another: what batch grading
    does for every exercise judge mode serves) and in one process (for the others)."""
    folder = tmp_path_factory.mktemp("course")
    os.chmod(folder, 0o711)
    judge = request.param == "judge_mode"
    return Grading(snapshot(folder / "course"), choose_sandbox("auto"), FAST, seed=7, judge=judge)


@pytest.fixture(scope="module")
def expected(grading):
    return collect_expected([f"tests/test_{stem}.py" for stem in STEMS], grading)


_GRADING = []


@pytest.fixture(autouse=True)
def _current_grading(grading):
    _GRADING[:] = [grading]


def grade(expected, limits=FAST, **changed: bytes):
    """Grade the reference solutions with some files replaced; return (outcomes by stem, the run)."""
    files = {**SOLUTIONS, **{stem: data for stem, data in changed.items()}}
    grading = _GRADING[0]
    if limits != grading.limits:
        grading = Grading(grading.course, grading.sandbox, limits, grading.seed, grading.judge)
    uid = grading.sandbox.accounts.claim() if grading.sandbox.accounts else None
    try:
        run = grade_files(files, expected, grading, uid)
    finally:
        if uid is not None:
            grading.sandbox.accounts.release(uid)
    by_stem: dict[str, list] = {}
    for result in run.results:
        by_stem.setdefault(result.stem, []).append(result)
    return by_stem, run


def passed(results) -> int:
    return sum(r.outcome == "passed" for r in results)


def solution_with(stem: str, code: str) -> bytes:
    """The reference solution with `code` appended (a later def replaces the earlier one)."""
    return SOLUTIONS[stem] + b"\n\n" + code.encode()


def assert_02_untouched(by_stem):
    assert passed(by_stem["02_gather"]) == len(by_stem["02_gather"]), (
        "a cheat in exercise 01 must not cost exercise 02 anything: "
        + "; ".join(f"{r.test}: {r.message[:120]}" for r in by_stem["02_gather"] if r.outcome != "passed")
    )


def test_the_expected_tests_come_from_the_repository_not_from_the_child(expected):
    assert {t.stem for t in expected} == set(STEMS)
    assert all(t.task is not None for t in expected), "every collected test knows its task"


def test_every_test_of_the_whole_course_is_collected(grading):
    """The collection's one result line lists every test of the course. It outgrew the cap on a
    child's lines (88 KB for 312 tests against 64 KB) and `grade.py batch` graded nothing."""
    files = sorted(f"tests/{path.name}" for path in (REPO_ROOT / "tests").glob("test_*.py"))
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", *files, "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ids = [line for line in listed.stdout.splitlines() if line.startswith("tests/test_")]
    found = collect_expected(files, grading)
    assert [t.id for t in found] == ids
    assert len({t.stem for t in found}) == len(files)


def test_honest_solutions_pass_every_test(expected):
    _, run = grade(expected)
    assert [r.outcome for r in run.results] == ["passed"] * len(expected), run.output[-2000:]
    # One more child only for a second run of tests that failed on time (a loaded machine: the
    # flakes benchmark's run beside a CPU burner per core gave 01 one).
    assert run.children == 1 + (run.second_runs > 0), "an honest run needs one child process"


def test_os_exit_zero_in_a_function_fails_that_test_and_the_rest_go_on(expected):
    by_stem, _ = grade(
        expected,
        **{
            "01_coroutines": solution_with(
                "01_coroutines", "import os\nasync def greet(f, u):\n    os._exit(0)\n"
            )
        },
    )
    first = by_stem["01_coroutines"][0]
    # In judge mode the learner's process is not the test process: the judge says so in its words.
    ended = (
        "process ended while this test ran (exit code 0)",
        "process your code ran in ended (exit code 0)",
    )
    assert first.outcome == "failed" and any(words in first.message for words in ended), first.message
    assert passed(by_stem["01_coroutines"]) < len(by_stem["01_coroutines"])
    assert_02_untouched(by_stem)


def test_pytest_exit_with_code_zero_at_import_scores_nothing_for_that_exercise(expected):
    cheat = solution_with("01_coroutines", "import pytest\npytest.exit('all good', returncode=0)\n")
    by_stem, _ = grade(expected, **{"01_coroutines": cheat})
    assert passed(by_stem["01_coroutines"]) == 0, "an exit code of 0 is never taken as success"
    assert_02_untouched(by_stem)


def test_results_forged_on_every_open_descriptor_are_ignored(expected):
    forge = """
import json, os
def _forge():
    for name in os.listdir("/proc/self/fd"):
        for nonce in (None, "0" * 32):
            for test in ("test_greeting_uses_the_name_the_service_returned",):
                record = {"event": "test", "id": "tests/test_01_coroutines.py::" + test,
                          "stem": "01_coroutines", "test": test, "task": 1, "outcome": "passed",
                          "seconds": 0.1, "message": "", "nonce": nonce}
                try:
                    os.write(int(name), (json.dumps(record) + "\\n").encode())
                except OSError:
                    pass
async def greet(fetch_name, user_id):
    _forge()
    os._exit(0)
"""
    by_stem, _ = grade(expected, **{"01_coroutines": solution_with("01_coroutines", forge)})
    first = by_stem["01_coroutines"][0]
    assert first.outcome == "failed", (
        "a result without the run's nonce, or for a test not running, is ignored"
    )
    assert_02_untouched(by_stem)


def test_a_patched_clock_fails_the_timing_tests(expected):
    """A clock slowed 1000 times would make sequential calls look concurrent; the kata's own clock notices."""
    cheat = solution_with(
        "02_gather",
        "import time\n_real = time.perf_counter\ntime.perf_counter = lambda: _real() / 1000\n"
        "async def fetch_all(fetch_user, user_ids):\n    return [await fetch_user(i) for i in user_ids]\n",
    )
    by_stem, _ = grade(expected, **{"02_gather": cheat})
    timing = [r for r in by_stem["02_gather"] if r.task == 1]
    assert passed(timing) == 0, "sequential code behind a patched clock earns nothing"
    assert any("replaced while your code ran" in r.message for r in timing), [r.message for r in timing]


def test_an_always_equal_object_is_not_an_answer(expected):
    cheat = solution_with(
        "02_gather",
        "class Anything(list):\n    def __eq__(self, other):\n        return True\n"
        "async def fetch_all(fetch_user, user_ids):\n    return Anything()\n",
    )
    by_stem, _ = grade(expected, **{"02_gather": cheat})
    task_1 = [r for r in by_stem["02_gather"] if r.task == 1]
    assert passed(task_1) < len(task_1), "exact type and value checks see through __eq__"


def test_hard_coded_answers_fail_on_random_inputs(expected):
    cheat = solution_with(
        "02_gather",
        "async def fetch_all(fetch_user, user_ids):\n"
        "    return [{'id': 1, 'name': 'user 1'}] * len(user_ids)\n",
    )
    by_stem, _ = grade(expected, **{"02_gather": cheat})
    task_1 = [r for r in by_stem["02_gather"] if r.task == 1]
    assert passed(task_1) < len(task_1)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("    while True:\n        pass\n", id="loops-forever"),
        pytest.param(
            "    while True:\n        try:\n            while True:\n                pass\n"
            "        except BaseException:\n            pass\n",
            id="swallows-the-interruption",
        ),
    ],
)
def test_a_hang_costs_that_exercise_and_a_few_seconds(expected, body):
    started = time.perf_counter()
    by_stem, _ = grade(
        expected, **{"01_coroutines": solution_with("01_coroutines", f"async def greet(f, u):\n{body}")}
    )
    elapsed = time.perf_counter() - started
    hung = by_stem["01_coroutines"][0]
    assert hung.outcome == "failed" and ("did not finish in time" in hung.message or "ended" in hung.message)
    assert elapsed < 60, f"a hang costs about one test limit (2 s here), not the run: {elapsed:.0f} s"
    assert_02_untouched(by_stem)


def test_a_memory_hog_fails_its_exercise_and_the_grader_survives(expected):
    by_stem, _ = grade(
        expected, **{"01_coroutines": solution_with("01_coroutines", "hog = bytearray(8 * 1024**3)\n")}
    )
    assert passed(by_stem["01_coroutines"]) == 0
    assert_02_untouched(by_stem)


def test_a_correct_answer_that_runs_many_threads_at_once_is_not_refused_by_the_limits(expected):
    """The sandbox's process limit counts threads too (RLIMIT_NPROC counts every task of the uid):
    at 64, with the judge's host running about 20 of its own, a correct answer to 10 that started
    32 worker threads at import failed with "can't start new thread" in batch grading only, and an
    answer with a thread per call would on a machine of 28 cores or more (32 calls at once)."""
    threads = (
        "import threading\n"
        "_go = threading.Event()\n"
        "_waiting = [threading.Thread(target=_go.wait) for _ in range(120)]\n"
        "for _thread in _waiting:\n    _thread.start()\n"
        "_go.set()\n"
        "for _thread in _waiting:\n    _thread.join()\n\n"
    )
    by_stem, _ = grade(expected, **{"01_coroutines": threads.encode() + SOLUTIONS["01_coroutines"]})
    assert [r.message for r in by_stem["01_coroutines"] if r.outcome != "passed"] == []
    assert_02_untouched(by_stem)


def test_a_correct_answer_that_asks_for_its_user_name_at_import_passes(expected):
    """getpass.getuser() at import (for a log line) raised KeyError in batch grading only: the
    sandbox's uid has no entry in /etc/passwd and the environment named no user (a learner trial's)."""
    asks = b"import getpass\n\nOWNER = getpass.getuser()\n\n" + SOLUTIONS["01_coroutines"]
    by_stem, _ = grade(expected, **{"01_coroutines": asks})
    assert [r.message for r in by_stem["01_coroutines"] if r.outcome != "passed"] == []
    assert_02_untouched(by_stem)


def test_a_correct_answer_that_looks_up_its_own_account_at_import_passes(expected):
    """pwd.getpwuid(os.getuid()) at import (a home folder or a user name for a log line) raised
    KeyError in batch grading only: the sandbox's uid had no entry in /etc/passwd (a learner
    trial's). The sandbox's own /etc/passwd and /etc/group name it, with the sandbox's HOME."""
    asks = (
        b"import grp, os, pwd\n\n"
        b"ME = pwd.getpwuid(os.getuid())\n"
        b"assert ME.pw_name == os.environ['USER'] and ME.pw_dir == os.environ['HOME'], ME\n"
        b"assert pwd.getpwnam(ME.pw_name).pw_uid == os.getuid()\n"
        b"GROUP = grp.getgrgid(os.getgid())\n\n"
    ) + SOLUTIONS["01_coroutines"]
    by_stem, _ = grade(expected, **{"01_coroutines": asks})
    assert [r.message for r in by_stem["01_coroutines"] if r.outcome != "passed"] == []
    assert_02_untouched(by_stem)


# Modules 01 leaves where a Python started after it might look for them: its working folder
# (`python -m` puts it first on the path), its user site-packages (a .pth runs at start-up), and
# usercustomize. Any of them, imported by the host that serves 02, ends that host at once.
PLANTS_MODULES = """
import os, sys

_ENDS_THE_PROCESS = "import os; os._exit(0)\\n"
_USER_SITE = os.path.join(
    os.path.expanduser("~"), ".local", "lib", "python%d.%d" % sys.version_info[:2], "site-packages"
)
for _folder, _name in [
    (os.getcwd(), "argparse.py"),
    (os.getcwd(), "kata.py"),
    (_USER_SITE, "usercustomize.py"),
    (_USER_SITE, "planted.pth"),
]:
    try:
        os.makedirs(_folder, exist_ok=True)
        with open(os.path.join(_folder, _name), "w") as _file:
            _file.write(_ENDS_THE_PROCESS)
    except OSError:
        pass
"""


def test_modules_one_exercise_leaves_in_its_folders_are_never_imported_by_the_next(expected):
    """A red team's 01 wrote a `kata.py` into its working folder (/sandbox, writable, and shared by
    every exercise's host): the host that served 02 imported it in place of the grader's package,
    and it silenced that host's reports (02's and 09's wrong answers earned full marks,
    unflagged). Hosts import only from where the grader put things (kata.judge.link)."""
    by_stem, _ = grade(expected, **{"01_coroutines": SOLUTIONS["01_coroutines"] + PLANTS_MODULES.encode()})
    assert [r.message for r in by_stem["01_coroutines"] if r.outcome != "passed"] == []
    assert_02_untouched(by_stem)


# 01 leaves a process that leaves its host's process group and keeps forking (each new process
# the last exercise's, but started just now), and kills every host of the grader's but its own
# (a red team's did so, and wrote into their memory instead): 02's host among them.
HUNTS_LATER_HOSTS = """
import os, time

def _parent(pid):
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return int(stat.read().rsplit(b")", 1)[1].split()[1])


def _hunt(mine, judge):
    os.setpgid(0, 0)
    ends = time.monotonic() + 30
    while time.monotonic() < ends:
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in (mine, os.getpid()):
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as command:
                        # The hosts the same judge started: this grading's, no other's.
                        if b"kata.sandbox.host" in command.read() and _parent(int(entry)) == judge:
                            os.kill(int(entry), 9)
                except (OSError, ValueError, IndexError):
                    pass
        if os.fork():
            os._exit(0)
        time.sleep(0.005)
    os._exit(0)

if not os.environ.get("HUNTING"):
    os.environ["HUNTING"] = "1"
    _host, _judge = os.getpid(), os.getppid()
    if os.fork() == 0:
        try:
            _hunt(_host, _judge)
        finally:
            os._exit(0)
"""


def test_a_process_an_exercise_leaves_cannot_reach_the_next_exercises(expected):
    """A red team's 01 left a process that kept forking (each new process got past the grader's
    count of what an exercise left behind, which spared what started after the next exercise
    began) and wrote into the later exercises' hosts' memory: their wrong answers earned full
    marks, unflagged; killing them instead, the reference 03 and 04 lost every test. At each
    change of exercise the judge now stops every process of the learner's before the next host
    starts (kata.judge.session), and the grader counts and kills them. (In one process there is no
    host to hunt, and nothing is stopped between exercises: 02 must be untouched all the same.)"""
    by_stem, run = grade(
        expected, **{"01_coroutines": SOLUTIONS["01_coroutines"] + HUNTS_LATER_HOSTS.encode()}
    )
    assert [r.message for r in by_stem["01_coroutines"] if r.outcome != "passed"] == []
    assert_02_untouched(by_stem)
    if _GRADING[0].judge:
        assert run.strays >= 1, (
            f"the process 01 left is counted (flagged for the instructor): notes {run.notes}"
        )


def test_endless_output_is_capped(expected):
    by_stem, run = grade(
        expected,
        **{
            "01_coroutines": solution_with(
                "01_coroutines",
                "import sys\nasync def greet(f, u):\n"
                "    while True:\n        sys.__stdout__.write('x' * 4096)\n",
            )
        },
    )
    assert by_stem["01_coroutines"][0].outcome == "failed"
    assert len(run.output) <= FAST.output_bytes + 200, "the kept output is capped"
    assert_02_untouched(by_stem)


def test_a_correct_answer_that_prints_past_the_file_size_limit_while_imported_passes(expected):
    """A correct answer that printed ~20 MB while imported got 0 for every task: pytest's capture
    file reached the file-size limit (16 MB), and the print failed with EFBIG (in one process)
    or the judge stopped reading the host's output (judge mode: BrokenPipeError). Output volume
    alone never fails a test: it is drained and capped, never kept whole, in memory or on disk."""
    limits = replace(FAST, file_bytes=1024**2)  # the same, at a smaller scale: 3 MB past 1 MB
    printing = b"for _ in range(30_000):\n    print('x' * 100)\n\n" + SOLUTIONS["01_coroutines"]
    by_stem, run = grade(expected, limits, **{"01_coroutines": printing})
    assert [r.message for r in by_stem["01_coroutines"] if r.outcome != "passed"] == []
    assert len(run.output) <= limits.output_bytes + 200, "the kept output is capped"
    assert_02_untouched(by_stem)


def test_processes_started_by_an_exercise_do_not_outlive_it(expected):
    """Forked, detached (a new session) and double-forked: all killed when the exercise ends."""
    marker = f"kata-escape-{uuid.uuid4().hex}"
    escape = f"""
import os, subprocess, sys, warnings
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)", {marker!r}]
# Python 3.12+ warns that fork() in a process with threads may deadlock, an error under pytest.
warnings.simplefilter("ignore", DeprecationWarning)
async def greet(fetch_name, user_id):
    for _ in range(5):
        if os.fork() == 0:
            os.execv(sys.executable, SLEEPER)
    subprocess.Popen(SLEEPER, start_new_session=True)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, SLEEPER)
        os._exit(0)
    return await fetch_name(user_id)
"""
    # What is checked is the strays, not speed. Under the self-check's load on a slow machine the
    # grading's test process ended with exit code 3 (the hang backstop's: the test outlived FAST's
    # 2 s and the 3 s after it) and no stray was counted: CI, 2026-12-02, 3 runs of 3.
    roomy = replace(FAST, test_timeout=10.0)
    by_stem, run = grade(expected, roomy, **{"01_coroutines": solution_with("01_coroutines", escape)})
    time.sleep(0.5)
    assert not alive_with(marker), "processes started by a submission were still running after grading"
    assert run.strays >= 7, (
        f"every left-behind process is counted (flagged for the instructor): {run.strays}; "
        f"notes {run.notes}; the grading's output ends:\n{run.output[-3000:]}"
    )
    assert_02_untouched(by_stem)


def test_a_syntax_error_or_a_file_that_is_not_utf8_costs_only_that_exercise(expected):
    for broken in (b"def greet(:\n", b"# caf\xe9\nasync def greet(f, u):\n    return 1\n"):
        by_stem, _ = grade(expected, **{"01_coroutines": broken})
        assert passed(by_stem["01_coroutines"]) == 0
        assert_02_untouched(by_stem)


def test_a_missing_exercise_file_fails_its_tests_only(expected):
    run = grade_files({"02_gather": SOLUTIONS["02_gather"]}, expected, _GRADING[0])
    by_stem = {stem: [r for r in run.results if r.stem == stem] for stem in STEMS}
    assert passed(by_stem["01_coroutines"]) == 0
    assert_02_untouched(by_stem)


def test_nothing_is_left_in_the_temporary_folder(expected, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    grade(expected)
    assert os.listdir(tmp_path) == []


@pytest.mark.load_sensitive
def test_a_test_failed_only_for_a_loop_stall_gets_a_second_run(expected):
    """A busy machine can stall a correct solution's loop once; blocking code stalls every time."""
    # Stalls only in the second test of 02 a process runs (each test loads the module afresh):
    # in the first child, never in the second chance, which runs that one test alone. The stall
    # is the thread at work, as a loop kept from its core looks (a `time.sleep` is a blocking
    # call, the code's: no second run, in batch grading as under grade.py).
    once = solution_with(
        "02_gather",
        "import builtins, time\n"
        "builtins.kata_loads_02 = _loads = getattr(builtins, 'kata_loads_02', 0) + 1\n"
        "_fetch_all = fetch_all\n"
        "async def fetch_all(fetch_user, user_ids):\n"
        "    if _loads == 2:\n"
        "        until = time.perf_counter() + 0.3\n"
        "        while time.perf_counter() < until:\n"
        "            pass\n"
        "    return await _fetch_all(fetch_user, user_ids)\n",
    )
    by_stem, run = grade(expected, **{"02_gather": once})
    assert_02_untouched(by_stem)
    assert run.children == 2, "one more child ran the stalled test again"

    always = solution_with(
        "02_gather",
        "import time\n_fetch_all = fetch_all\n"
        "async def fetch_all(fetch_user, user_ids):\n"
        "    time.sleep(0.3)\n    return await _fetch_all(fetch_user, user_ids)\n",
    )
    by_stem, _ = grade(expected, **{"02_gather": always})
    blocked = [r for r in by_stem["02_gather"] if r.task == 1]
    assert passed(blocked) == 0, "code that blocks every time fails every time"


# ---------------------------------------------------------------------------- the kernel's keyrings

KEYRING_PAIR = Path(__file__).parent / "keyring_pair"
KEYCTL_INVALIDATE = 21  # linux/keyctl.h
NATIVE_KEY_CALLS = syscalls.KEY_CALLS.get(syscalls.MACHINE_ARCH.get(platform.machine()))
ADD_KEY, _, KEYCTL = NATIVE_KEY_CALLS or (None, None, None)
keyrings_here = pytest.mark.skipif(
    not Path("/proc/keys").exists() or NATIVE_KEY_CALLS is None,
    reason=f"no kernel keyrings here, or no key call numbers known for {platform.machine()}",
)
REFUSED = """
import ctypes as _ctypes, errno as _errno, os as _os

JUDGE = {judge!r}


def _keyring_calls_refused():
    libc = _ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = _ctypes.c_long
    seen = []
    key = libc.syscall({add_key}, b"user", {name!r}.encode(), b"x", _ctypes.c_size_t(1), _ctypes.c_int(-4))
    seen.append(("add_key", key, _ctypes.get_errno()))
    if key > 0:
        libc.syscall({keyctl}, {invalidate}, _ctypes.c_long(key))
    got = libc.syscall({keyctl}, 0, _ctypes.c_long(-3), _ctypes.c_long(0))  # KEYCTL_GET_KEYRING_ID, session
    seen.append(("keyctl", got, _ctypes.get_errno()))
    problems = [
        f"{{call}} gave {{value}} ({{_os.strerror(number)}})"
        for call, value, number in seen
        if value != -1 or number != _errno.EPERM
    ]
    if JUDGE:  # the judge that started this host must be filtered too
        parent = _os.getppid()
        with open(f"/proc/{{parent}}/cmdline", "rb") as file:
            argv = file.read()
        with open(f"/proc/{{parent}}/status") as file:
            status = file.read()
        if b"kata.batch.child" not in argv:
            problems.append(f"the parent is not the judge: {{argv[:200]!r}}")
        elif "Seccomp:\\t2" not in status:
            problems.append("the judge has no seccomp filter")
    return problems


_PROBLEMS = _keyring_calls_refused()
_honest_fetch_all, _honest_fetch_profile = fetch_all, fetch_profile


async def fetch_all(fetch_user, user_ids):
    assert not _PROBLEMS, "; ".join(_PROBLEMS)
    return await _honest_fetch_all(fetch_user, user_ids)


async def fetch_profile(get_user, get_orders, user_id):
    assert not _PROBLEMS, "; ".join(_PROBLEMS)
    return await _honest_fetch_profile(get_user, get_orders, user_id)
"""


def _keys_named(name: str) -> list[int]:
    with open("/proc/keys") as file:
        return [int(line.split()[0], 16) for line in file if name in line]


@pytest.fixture
def key_name():
    """A key name of this test's own; any key by that name is removed afterwards."""
    import ctypes

    name = f"kata-keys-{uuid.uuid4().hex}"
    yield name
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    for serial in _keys_named(name):
        libc.syscall(KEYCTL, KEYCTL_INVALIDATE, ctypes.c_long(serial))
    deadline = time.monotonic() + 10  # the kernel's key collector removes invalidated keys soon after
    while _keys_named(name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _keys_named(name), f"keys named {name} are still in /proc/keys 10 s after being invalidated"


def _failures(results) -> str:
    return "; ".join(f"{r.test}: {r.message[:300]}" for r in results if r.outcome != "passed")


@keyrings_here
@pytest.mark.parametrize("kind", ["auto", "none"])
def test_graded_code_is_refused_the_kernel_s_keyrings(expected, key_name, kind):
    """add_key and keyctl fail with EPERM where the submission's code runs, in the sandbox kinds
    this suite can run (the `user` kind needs a Python every user can run, which a pyenv under
    /root is not: it was checked by hand with a system Python, and the filter is installed by
    the grading child whatever the kind), and in judge mode in the judge that started it too."""
    grading = _GRADING[0]
    try:
        sandbox = choose_sandbox(kind)
    except SandboxUnavailable as error:
        pytest.skip(str(error))
    _GRADING[:] = [Grading(grading.course, sandbox, grading.limits, grading.seed, grading.judge)]
    try:
        code = REFUSED.format(
            judge=grading.judge, name=key_name, invalidate=KEYCTL_INVALIDATE, add_key=ADD_KEY, keyctl=KEYCTL
        )
        by_stem, _ = grade(expected, **{"02_gather": solution_with("02_gather", code)})
    finally:
        _GRADING[:] = [grading]
    assert passed(by_stem["02_gather"]) == len(by_stem["02_gather"]), _failures(by_stem["02_gather"])
    assert passed(by_stem["01_coroutines"]) == len(by_stem["01_coroutines"])


# ------------------------------------------------------------- new namespaces and memory files

PAST_THE_LIMITS = """
import ctypes as _ctypes, errno as _errno, os as _os, shutil as _shutil, subprocess as _subprocess
import threading as _threading


def _ways_past_the_limits():
    libc = _ctypes.CDLL(None, use_errno=True)
    problems = []
    if libc.unshare(0x10000000) != -1 or _ctypes.get_errno() != _errno.EPERM:  # CLONE_NEWUSER
        problems.append("unshare(CLONE_NEWUSER) was not refused")
    if libc.memfd_create(b"kata", 0) != -1 or _ctypes.get_errno() != _errno.EPERM:
        problems.append("memfd_create was not refused")
    if _shutil.which("unshare"):  # the red team's way: a root of its own, then a tmpfs or a PID namespace
        done = _subprocess.run(["unshare", "-Ur", "true"], capture_output=True)
        if done.returncode == 0:
            problems.append("unshare -Ur worked")
    # What graded code may still do: threads, fork, and programs (clone3 falls back to clone).
    thread = _threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    pid = _os.fork()
    if pid == 0:
        _os._exit(7)
    if _os.waitstatus_to_exitcode(_os.waitpid(pid, 0)[1]) != 7:
        problems.append("fork did not work")
    if _subprocess.run(["true"]).returncode != 0:
        problems.append("a program could not be run")
    return problems


_PROBLEMS = _ways_past_the_limits()
_honest_fetch_all, _honest_fetch_profile = fetch_all, fetch_profile


async def fetch_all(fetch_user, user_ids):
    assert not _PROBLEMS, "; ".join(_PROBLEMS)
    return await _honest_fetch_all(fetch_user, user_ids)


async def fetch_profile(get_user, get_orders, user_id):
    assert not _PROBLEMS, "; ".join(_PROBLEMS)
    return await _honest_fetch_profile(get_user, get_orders, user_id)
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.machine() not in syscalls.MACHINE_ARCH,
    reason="the filter is for Linux on x86_64, aarch64 and i686",
)
@pytest.mark.parametrize("kind", ["auto", "none"])
def test_graded_code_gets_no_namespace_nor_memory_file_of_its_own(expected, kind):
    """A red team, graded as root with bubblewrap, made a user namespace of its own (`unshare -Ur`):
    it mounted a tmpfs far past /tmp's 64 MiB, and processes in a nested PID namespace outlived
    their exercise; a memfd held 2.5 GiB past RLIMIT_AS. Refused in every kind and mode, while
    threads, fork and programs still work."""
    grading = _GRADING[0]
    try:
        sandbox = choose_sandbox(kind)
    except SandboxUnavailable as error:
        pytest.skip(str(error))
    _GRADING[:] = [Grading(grading.course, sandbox, grading.limits, grading.seed, grading.judge)]
    try:
        by_stem, _ = grade(expected, **{"02_gather": solution_with("02_gather", PAST_THE_LIMITS)})
    finally:
        _GRADING[:] = [grading]
    assert passed(by_stem["02_gather"]) == len(by_stem["02_gather"]), _failures(by_stem["02_gather"])


@keyrings_here
@pytest.mark.skipif(platform.machine() != "x86_64", reason="the red team's pair calls x86_64 syscall numbers")
def test_a_key_left_by_one_submission_gives_another_nothing(expected, key_name):
    """The red team's pair (tests/harness/keyring_pair): the writer, graded first, leaves 02's answer
    in its keyring for every uid; the reader, graded after it under another uid, has none of its own."""

    def submission(student: str) -> bytes:
        text = (KEYRING_PAIR / student / "02_gather.py").read_text()
        assert "kata-redteam-02" in text
        return text.replace("kata-redteam-02", key_name).encode()

    grading = _GRADING[0]
    accounts = grading.sandbox.accounts
    uids = [accounts.claim(), accounts.claim()] if accounts else [None, None]
    try:
        writer = grade_files({**SOLUTIONS, "02_gather": submission("key_writer")}, expected, grading, uids[0])
        reader = grade_files({**SOLUTIONS, "02_gather": submission("key_reader")}, expected, grading, uids[1])
    finally:
        for uid in uids:
            if uid is not None:
                accounts.release(uid)
    writer_02 = [r for r in writer.results if r.stem == "02_gather"]
    reader_02 = [r for r in reader.results if r.stem == "02_gather"]
    assert passed(writer_02) == len(writer_02), "the writer solves 02 itself: " + _failures(writer_02)
    assert passed(reader_02) == 0, "the reader found the writer's answer in the kernel keyring"
