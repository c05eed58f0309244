"""The learner's path works without the POSIX-only pieces, as on Windows.

Every process started here has tests/harness/no_posix on PYTHONPATH: its sitecustomize removes
SIGALRM and the interval timers, process groups, waitid, the load average, and the modules
fcntl, resource and termios, and makes multiprocessing spawn its workers. This is a simulation
on Linux, not Windows: paths, newlines and the 15.6 ms timer tick are not part of it.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kata import cli
from kata.catalog import REPO_ROOT

pytestmark = pytest.mark.timeout(300)

NO_POSIX = Path(__file__).with_name("no_posix")
HANG = "\n\nasync def greet(fetch_name, user_id):\n    import asyncio\n\n    await asyncio.Event().wait()\n"


def without_posix(state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(NO_POSIX), str(REPO_ROOT)]),
        "KATA_STATE_DIR": str(state),
        "NO_COLOR": "1",
    }


def run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=tmp_path,
        env=without_posix(tmp_path / "state"),
        capture_output=True,
        text=True,
        timeout=240,
    )


def grade(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, str(REPO_ROOT / "grade.py"), *args, "--target", "work"], tmp_path)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """The untouched stubs, with the reference solutions of 01 and 10 (a process pool) in place."""
    work = tmp_path / "work"
    shutil.copytree(REPO_ROOT / "exercises", work)
    for stem in ("01_coroutines", "10_cpu_bound"):
        shutil.copyfile(REPO_ROOT / "solutions" / f"{stem}.py", work / f"{stem}.py")
    return work


def test_the_simulation_removes_what_windows_lacks(tmp_path):
    probe = (
        "import os, signal, multiprocessing\n"
        "missing = [n for n in ('SIGALRM', 'setitimer') if hasattr(signal, n)]\n"
        "missing += [n for n in ('killpg', 'setsid', 'waitid', 'getloadavg', 'fork') if hasattr(os, n)]\n"
        "for name in ('fcntl', 'resource', 'termios'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "        missing.append(name)\n"
        "    except ImportError:\n"
        "        pass\n"
        "print(missing, multiprocessing.get_start_method())\n"
    )
    done = run([sys.executable, "-c", probe], tmp_path)
    assert done.stdout.strip() == "[] spawn", done.stdout + done.stderr


@pytest.mark.load_sensitive
def test_grade_py_passes_solutions_and_fails_a_stub_without_posix(tmp_path, course):
    for number in ("01", "10"):
        done = grade(tmp_path, number)
        assert done.returncode == 0, f"the solution of {number} did not pass:\n{done.stdout}{done.stderr}"
        assert "passes" in done.stdout
    stub = grade(tmp_path, "02")
    assert stub.returncode == 1, stub.stdout + stub.stderr
    assert "not written yet" in stub.stdout
    assert "Traceback" not in stub.stdout + stub.stderr


@pytest.mark.load_sensitive  # a hang stopped within 120 s
def test_a_hang_is_stopped_and_explained_without_sigalrm(tmp_path, course):
    with (course / "01_coroutines.py").open("a", encoding="utf-8") as file:
        file.write(HANG)
    started = time.monotonic()
    done = grade(tmp_path, "01")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "did not finish in time" in done.stdout, done.stdout
    assert "your code was waiting here" in done.stdout and "await asyncio.Event().wait()" in done.stdout
    assert time.monotonic() - started < 120, "stopped by the test's own limit, not by an outer kill"


@pytest.mark.load_sensitive  # 01's solution must pass, no second run
def test_pytest_on_one_exercise_file_works_without_posix(tmp_path):
    done = run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(REPO_ROOT / "tests" / "test_01_coroutines.py"),
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(REPO_ROOT),
            "--target",
            str(REPO_ROOT / "solutions"),
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_grading_a_class_says_in_one_line_that_it_needs_linux(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "platform", "win32")
    code = cli.batch([str(tmp_path), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith("grade.py batch: grading a class needs Linux") and error.count("\n") == 1, error
    assert not (tmp_path / "out").exists(), "nothing is written"
