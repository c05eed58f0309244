"""The batch scans each submission in a child with a time and a memory limit (kata.batch.scan_process).

The scan used to run in the grader's own process: a file that made it slow stalled the class (a
punycode call took 52 s here, a hundred translate calls 25 s), one that made it big grew the
grader by gigabytes. The scan now prices what it works out (tests/harness/test_batch_scan_costs.py);
whatever that misses ends here, as a flag "could not be scanned (...)", never as a stalled or
killed grader.
"""

from __future__ import annotations

import csv
import resource
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from kata.batch.scan_process import scan_in_child
from kata.catalog import REPO_ROOT
from kata.runner import child_env

EXITS = b"import os\nos._exit(0)\n"
EXITS_FLAG = "ends the test process (os._exit)"
# About 0.9 MB of plain code: its scan is linear, but takes about 3 s and 400 MB (its syntax tree).
BIG = b"if False:\n    _s = 1\n" + b"    _s; _s; _s; _s; _s; _s; _s; _s; _s; _s\n" * 21_000


def solutions() -> dict[str, bytes]:
    return {path.stem: path.read_bytes() for path in sorted((REPO_ROOT / "solutions").glob("*.py"))}


def no_children_left() -> bool:
    return not psutil.Process().children(recursive=True)


def children_cpu_seconds() -> float:
    """CPU used by the children this process has waited for, and theirs (not the wall clock: the
    self-check runs 12 jobs on 2 cores)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_a_normal_submission_is_scanned_in_a_child_in_well_under_a_second():
    started = children_cpu_seconds()
    assert scan_in_child(solutions()) == []
    used = children_cpu_seconds() - started
    assert used < 1, f"scanning the reference solutions took {used:.2f} s of CPU"  # 0.07 s


def test_the_child_finds_what_the_scan_finds():
    flags = scan_in_child({"01_coroutines": EXITS, "02_gather": b"import gc\ngc.get_objects()\n"})
    assert flags[0] == f"01_coroutines.py:2 {EXITS_FLAG}"
    assert flags[1].startswith("02_gather.py:2 reaches into the garbage collector"), flags


@pytest.mark.load_sensitive
def test_a_scan_that_takes_too_long_ends_as_a_flag_for_each_file_it_did_not_finish():
    files = {"01_coroutines": EXITS, "02_gather": BIG, "03_create_task": BIG, "04_blocking": EXITS}
    started = time.perf_counter()
    flags = scan_in_child(files, seconds=1.5)
    elapsed = time.perf_counter() - started
    assert elapsed < 6.5, f"the scan was given 1.5 s and took {elapsed:.1f} s"
    late = "could not be scanned (the scan took longer than 1.5 s): worth a look"
    assert flags == [
        f"01_coroutines.py:2 {EXITS_FLAG}",
        f"02_gather.py: {late}",
        f"03_create_task.py: {late}",
        f"04_blocking.py: {late}",
    ]
    assert no_children_left()


def test_a_scan_that_needs_too_much_memory_ends_as_a_flag_and_the_other_files_are_scanned():
    files = {"01_coroutines": EXITS, "02_gather": BIG, "03_create_task": EXITS}
    flags = scan_in_child(files, memory_bytes=200 * 1024**2)
    assert flags[0] == f"01_coroutines.py:2 {EXITS_FLAG}"
    assert flags[1].startswith("02_gather.py: could not be scanned ("), flags
    assert flags[2] == f"03_create_task.py:2 {EXITS_FLAG}"
    assert no_children_left()


def test_a_scan_process_that_ends_early_flags_each_file_and_never_raises():
    files = {"01_coroutines": EXITS, "02_gather": EXITS}
    flags = scan_in_child(files, memory_bytes=8 * 1024**2)  # too little for Python to import the scan
    ended = "the scan's process ended, most likely out of memory: over 8 MB"
    ended = f"could not be scanned ({ended}): worth a look"
    assert flags == [f"01_coroutines.py: {ended}", f"02_gather.py: {ended}"]


@pytest.mark.load_sensitive  # 01's solutions must earn every point
def test_a_submission_built_to_stall_the_scan_is_graded_with_its_classmate_in_seconds(tmp_path):
    """Through `grade.py batch`: the punycode and translate reproducers (89 s for the two before, in
    the grader's own process; 0.5 s of CPU, all told, after)."""
    bomb = (
        "\n\nif False:  # never runs\n"
        '    _k = "".join(map(chr, range(0x4E00, 0x4E00 + 20_000))).encode("punycode")\n'
        '    _t = str.maketrans({"a": "b" * 999})\n'
        '    _s = "a" * 200000\n' + "".join(f"    _x{i} = _s.translate(_t)\n" for i in range(100))
    )
    answer = (REPO_ROOT / "solutions" / "01_coroutines.py").read_text()
    for name, text in (("honest", answer), ("attacker", answer + bomb)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "01_coroutines.py").write_text(text)
    out = tmp_path / "out"
    command = [sys.executable, "grade.py", "batch", str(tmp_path / "honest"), str(tmp_path / "attacker")]
    command += ["--out", str(out), "--exercises", "01", "--seed", "3", "-j", "2"]
    started = children_cpu_seconds()
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=300
    )
    used = children_cpu_seconds() - started  # the grader and its scan children (0.5 s)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert used < 15, f"grading the two took {used:.0f} s of CPU"
    with (out / "gradebook.csv").open(newline="") as rows:
        percents = {row["student"]: row["percent"] for row in csv.DictReader(rows)}
    assert percents == {"honest": "100.0", "attacker": "100.0"}


def test_the_scan_s_own_limits_do_not_reach_the_grader():
    before = Path("/proc/self/limits").read_text() if Path("/proc/self/limits").exists() else ""
    scan_in_child({"01_coroutines": EXITS}, memory_bytes=300 * 1024**2)
    after = Path("/proc/self/limits").read_text() if Path("/proc/self/limits").exists() else ""
    assert before == after
