"""`grade.py batch` on a class that has everything: honest grades stay exact whatever classmates do.

The real command grades exercises 01 and 02 for one class: honest students (correct, partial, a
stub) whose grades are known exactly; submissions that are broken, hang or cheat pytest (inline
below); and submissions that attack the grader from outside the tests (tests/harness/batch_attacks:
they write the grader's files, leave processes behind, forge the cache, read classmates' files and
the solutions, try to crash the batch or its memory, hang past every interruption).

The grader runs from a throwaway copy of this repository and of its virtualenv (what the attacks
can reach is the copy, never this checkout): the class; the class again into the same output
folder; the honest students alone into a fresh one; the two submissions named like reports alone;
and a class whose output disk fills up.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from kata.catalog import REPO_ROOT
from tests.harness import batch_attacks

pytestmark = [
    pytest.mark.timeout(900),
    # Per test 2 s and per exercise 10 s (OPTIONS), for speed: honest work ran out of them under
    # the self-check's own load on a slow machine (CI, 2026-12-02).
    pytest.mark.load_sensitive,
    pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="the grader's virtualenv is copied: needs one"),
]

STEMS = ["01_coroutines", "02_gather"]
SOLUTION = {stem: (REPO_ROOT / "solutions" / f"{stem}.py").read_text() for stem in STEMS}
STUB = {stem: (REPO_ROOT / "exercises" / f"{stem}.py").read_text() for stem in STEMS}
FULL = 5.0  # 01 has 3 tasks, 02 has 2: one point each
TIME_LIMIT = 10.0  # --time-limit: seconds per exercise
OPTIONS = f"--exercises 01 02 --test-timeout 2 --time-limit {TIME_LIMIT:g} --seed 11".split()
JOBS = "3"
RUN_SECONDS = 420  # the longest one grader run may take before the test gives up on it
QUIET_AFTER_EXIT = 5.0  # seconds the output folder is watched after the grader exits
MEMORY_BOUND = 500 * 1024**2  # bytes of the grader's own peak memory, whatever the output
MEMORY_MARGIN = 100 * 1024**2  # over the peak for the honest students alone
HANG_BOUND = 2.5 * TIME_LIMIT  # a hang costs its exercise's limit plus the rest, not a limit per exercise

GREET = "\n\nasync def greet(fetch_name, user_id):\n    return f'Hello, {await fetch_name(user_id)}!'\n"
PROFILE = (
    "\n\nimport asyncio\n\n\nasync def fetch_profile(get_user, get_orders, user_id):\n"
    "    user, orders = await asyncio.gather(get_user(user_id), get_orders(user_id))\n"
    "    return {'user': user, 'orders': orders}\n"
)
# student -> (the files, points for 01, points for 02): what an honest grader must give, exactly.
HONEST = {
    "correct": (SOLUTION, 3, 2),
    "correct_2": (SOLUTION, 3, 2),
    "correct_3": (SOLUTION, 3, 2),
    "correct_4": (SOLUTION, 3, 2),
    "partial": ({"01_coroutines": SOLUTION["01_coroutines"], "02_gather": STUB["02_gather"]}, 3, 0),
    "partial_2": (
        {"01_coroutines": STUB["01_coroutines"] + GREET, "02_gather": STUB["02_gather"] + PROFILE},
        1,
        1,
    ),
    "stub": (STUB, 0, 0),
}
# The attack each honest student is the victim of (see tests/harness/batch_attacks/<attack>); writes_points
# (from the second run on) and rewrites_reports (after the grader exits) go after everyone.
VICTIM_OF = {
    "correct": "forges_cache (cached as all failed), copies_classmate (its text read)",
    "correct_2": "writes_pyc (a poisoned test bytecode cache)",
    "correct_3": "kills_classmates (its grading SIGKILLed)",
    "correct_4": "writes_kata (kata/testing/__init__.py edited)",
    "partial": "none of its own",
    "partial_2": "forges_cache (cached as all passed)",
    "stub": "writes_pth (a .pth in the virtualenv that makes _judge a no-op)",
}
SECRET = f"secret-{uuid.uuid4().hex}"  # in `correct`'s files only; copies_classmate goes after it

FORGE = """
import json, os
def _forge():
    for name in os.listdir("/proc/self/fd"):
        for test in ("test_results_come_back_in_the_order_of_the_ids",
                     "test_every_call_runs_at_the_same_time"):
            record = {"event": "test", "id": "tests/test_02_gather.py::" + test, "stem": "02_gather",
                      "test": test, "task": 1, "outcome": "passed", "seconds": 0.1, "message": ""}
            try:
                os.write(int(name), (json.dumps(record) + "\\n").encode())
            except OSError:
                pass
async def fetch_all(fetch_user, user_ids):
    _forge()
    os._exit(0)
"""
EXITS_WITH_ZERO = """
import {module}
async def greet(fetch_name, user_id):
    {exit_call}
"""
CONFTEST_REWRITES_OUTCOMES = """
import pytest
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
"""
# Graded first, so that what they plant and start is in place when the honest students are graded.
EARLY_ATTACKS = [
    "kills_classmates",
    "writes_pth",
    "writes_pyc",
    "writes_kata",
    "writes_points",
    "forges_cache",
    "burns_cpu",
    "rewrites_reports",
    "hangs_past_limit",
]
LATE_ATTACKS = ["copies_classmate", "execs_solution", "huge_output"]
REPORT_NAMES = ["results.csv", "gradebook.csv"]  # submission folders named like the grader's reports


# ---------------------------------------------------------------------------- the course copy


@dataclass
class Course:
    """A throwaway copy of the repository and its virtualenv; the grader runs from it."""

    range: Path  # everything the test made: the only place an attack may write
    repo: Path
    venv: Path
    mark: str  # in the argv of every process an attack starts and in every file it plants

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def copy_repository(destination: Path) -> None:
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        shutil.copytree(REPO_ROOT, destination, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__"))
        return
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def copy_virtualenv(destination: Path) -> None:
    # Without the editable install's hook: `kata` is the copy's (the grader's folder comes first anyway).
    shutil.copytree(sys.prefix, destination, symlinks=True, ignore=shutil.ignore_patterns("__editable__*"))


def tree_digest(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under root (symlinks by their target)."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            try:
                data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            except OSError:
                continue
            found[str(path.relative_to(root))] = hashlib.sha256(data).hexdigest()
    return found


def files_containing(root: Path, needle: str, names: list[str] | None = None) -> list[str]:
    found = []
    for relative in names if names is not None else tree_digest(root):
        with contextlib.suppress(OSError):
            if needle.encode() in (root / relative).read_bytes():
                found.append(relative)
    return found


# ---------------------------------------------------------------------------- the class


def write_submission(
    root: Path, name: str, files: dict[str, str], extra: dict[str, str] | None = None
) -> Path:
    folder = root / name
    (folder / "exercises").mkdir(parents=True)
    for stem, text in files.items():
        (folder / "exercises" / f"{stem}.py").write_text(text)
    for relative, text in (extra or {}).items():
        (folder / relative).write_text(text)
    return folder


def honest_files(student: str) -> dict[str, str]:
    """The student's files, each with a first line of its own: no two students hand in the same bytes."""
    files, _, _ = HONEST[student]
    tag = f"# {student}'s own work" + (f": {SECRET}" if student == "correct" else "")
    return {stem: f"{tag}\n{text}" for stem, text in files.items()}


def cheats(root: Path) -> list[Path]:
    """Submissions that are broken, hang or cheat pytest from inside the tests."""
    paths = [
        write_submission(
            root, "broken", {"01_coroutines": "def greet(:\n", "02_gather": SOLUTION["02_gather"]}
        ),
        write_submission(
            root,
            "hangs",
            {
                "01_coroutines": SOLUTION["01_coroutines"]
                + "\nasync def greet(f, u):\n    while True:\n        pass\n",
                "02_gather": SOLUTION["02_gather"],
            },
        ),
        write_submission(
            root,
            "conftest_cheat",
            STUB,
            {"conftest.py": CONFTEST_REWRITES_OUTCOMES, "pytest.ini": "[pytest]\n"},
        ),
        write_submission(
            root,
            "pytest_exit_cheat",
            {
                "01_coroutines": STUB["01_coroutines"]
                + EXITS_WITH_ZERO.format(module="pytest", exit_call="pytest.exit('ok', returncode=0)"),
                "02_gather": SOLUTION["02_gather"],
            },
        ),
        write_submission(
            root,
            "os_exit_cheat",
            {
                "01_coroutines": STUB["01_coroutines"]
                + EXITS_WITH_ZERO.format(module="os", exit_call="os._exit(0)"),
                "02_gather": SOLUTION["02_gather"],
            },
        ),
        write_submission(
            root, "forged_report", {"01_coroutines": SOLUTION["01_coroutines"], "02_gather": FORGE}
        ),
        write_submission(
            root,
            "patched_clock",
            {
                "01_coroutines": SOLUTION["01_coroutines"],
                "02_gather": SOLUTION["02_gather"]
                + "\nimport time\n_real = time.perf_counter\ntime.perf_counter = lambda: _real() / 1000\n"
                "async def fetch_all(fetch_user, user_ids):\n"
                "    return [await fetch_user(i) for i in user_ids]\n",
            },
        ),
        write_submission(
            root,
            "always_equal",
            {
                "01_coroutines": SOLUTION["01_coroutines"],
                "02_gather": SOLUTION["02_gather"]
                + "\nclass Anything(list):\n    def __eq__(self, other):\n        return True\n"
                "async def fetch_all(fetch_user, user_ids):\n    return Anything()\n",
            },
        ),
        write_submission(
            root,
            "hard_coded",
            {
                "01_coroutines": SOLUTION["01_coroutines"],
                "02_gather": SOLUTION["02_gather"]
                + "\nasync def fetch_all(fetch_user, user_ids):\n    return [{'id': 1, 'name': 'user 1'}]\n",
            },
        ),
    ]
    github_zip = root / "zipped.zip"
    with zipfile.ZipFile(github_zip, "w") as archive:
        for stem, text in SOLUTION.items():
            archive.writestr(f"async-kata-main/exercises/{stem}.py", text)
        archive.writestr("../escape.py", "print('outside')")
    return [*paths, github_zip, root / "no_such_student"]


def attack(root: Path, course: Course, student: str) -> Path:
    files = batch_attacks.submission_files(
        student, course.repo, STEMS, range_dir=course.range, mark=course.mark
    )
    return write_submission(root, student, files)


def the_class(root: Path, course: Course) -> list[Path]:
    """Attackers that plant things first, the cheats, the honest students, the rest of the attackers."""
    return [
        *(attack(root, course, student) for student in EARLY_ATTACKS),
        *cheats(root),
        *(write_submission(root, student, honest_files(student)) for student in HONEST),
        *(attack(root, course, student) for student in LATE_ATTACKS),
        *(write_submission(root / "named", name, SOLUTION) for name in REPORT_NAMES),
    ]


# ---------------------------------------------------------------------------- running the grader


@dataclass
class Run:
    """One grader run and what was seen around it."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    at_exit: Path  # a copy of --out as the grader left it (a later run may write --out again)
    later: Path  # a copy of --out a few seconds later
    peak_memory: int  # bytes: the grader process's own high-water mark (VmHWM)
    changed_after_exit: list[str]  # files of --out that changed in those seconds
    left_alive: list[str]  # processes an attack started, alive after the run

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @functools.cached_property
    def rows(self) -> dict[str, dict[str, str]]:
        """The gradebook as the grader left it."""
        return read_gradebook(self.at_exit)

    @property
    def submissions(self) -> list[str]:
        return self.command[self.command.index("batch") + 1 : self.command.index("--out")]


def _peak_memory(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def marked_processes(mark: str) -> list[tuple[int, str]]:
    """(pid, command line) of every process with the run's marker in its argv."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes()
            if mark.encode() in argv:
                words = argv.decode(errors="replace").split("\0")
                found.append((int(entry.name), " ".join(w[:40] for w in words if w)[:160]))
    return found


def end_marked_processes(mark: str) -> list[str]:
    """Kill what an attack left behind (each has this run's marker in its argv); what was alive."""
    alive = marked_processes(mark)
    for pid, _ in alive:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return [f"pid {pid}: {command}" for pid, command in alive]


def read_gradebook(out: Path) -> dict[str, dict[str, str]]:
    with contextlib.suppress(OSError, csv.Error), (out / "gradebook.csv").open() as file:
        return {row["student"]: row for row in csv.DictReader(file)}
    return {}


def copy_of(out: Path, destination: Path) -> Path:
    """A copy of the output folder as it is now (what a process still running removes meanwhile is missed)."""
    destination.mkdir(parents=True)
    if out.is_dir():
        with contextlib.suppress(shutil.Error):
            shutil.copytree(out, destination, symlinks=True, dirs_exist_ok=True)
    return destination


def run_grader(
    course: Course,
    paths: list[Path],
    out: Path,
    *,
    quiet: float = 1.0,
    wrap: list[str] | None = None,
    readable: Path | None = None,
) -> Run:
    """Grade `paths` into `out` with the course copy's grader; watch it and what it leaves behind.

    `quiet`: seconds --out is watched after the grader exits; `wrap`: a command the grader runs
    under; `readable`: where --out can be read once the grader is gone (default: --out)."""
    command = [
        *(wrap or []),
        str(course.python),
        str(course.repo / "grade.py"),
        "batch",
        *map(str, paths),
        "--out",
        str(out),
        *OPTIONS,
        "-j",
        JOBS,
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHONPATH")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    logs = course.range / f"run-{uuid.uuid4().hex[:8]}"
    logs.mkdir()
    peak = [0]
    with (logs / "stdout").open("w") as stdout, (logs / "stderr").open("w") as stderr:
        process = subprocess.Popen(command, cwd=course.repo, env=env, stdout=stdout, stderr=stderr)

        def watch_memory() -> None:
            while process.poll() is None:
                peak[0] = max(peak[0], _peak_memory(process.pid))
                time.sleep(0.1)

        threading.Thread(target=watch_memory, daemon=True).start()
        try:
            returncode = process.wait(timeout=RUN_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = process.wait()
    readable = readable or out
    at_exit = copy_of(readable, logs / "out-at-exit")
    time.sleep(quiet)
    later = copy_of(readable, logs / "out-later")
    before, after = tree_digest(at_exit), tree_digest(later)
    run = Run(
        command=command,
        returncode=returncode,
        stdout=(logs / "stdout").read_text(errors="replace"),
        stderr=(logs / "stderr").read_text(errors="replace"),
        at_exit=at_exit,
        later=later,
        peak_memory=peak[0],
        changed_after_exit=sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n)),
        left_alive=end_marked_processes(course.mark),
    )
    seen = {k: getattr(run, k) for k in ("returncode", "peak_memory", "changed_after_exit", "left_alive")}
    (logs / "seen.json").write_text(json.dumps(seen, indent=1))  # for a person looking into a failure
    return run


@dataclass
class Graded:
    course: Course
    root: Path  # the submissions
    first: Run  # the class
    again: Run  # the class again, same --out
    fresh: Run  # the honest students alone, a fresh --out
    names_first: Run  # the submissions named like reports, graded before any report exists
    course_changes: list[str]  # files of the course copy or its virtualenv that a submission changed


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    base = tmp_path_factory.mktemp("attacks")
    course = Course(base, base / "repo", base / "venv", f"kata-attack-{uuid.uuid4().hex}")
    copy_repository(course.repo)
    copy_virtualenv(course.venv)
    root = base / "class"
    paths = the_class(root, course)
    before = {"repo": tree_digest(course.repo), "venv": tree_digest(course.venv)}
    try:
        first = run_grader(course, paths, base / "out", quiet=QUIET_AFTER_EXIT)
        again = run_grader(course, paths, base / "out", quiet=QUIET_AFTER_EXIT)
        fresh = run_grader(course, [root / student for student in HONEST], base / "out-fresh")
        named = [root / "named" / name for name in REPORT_NAMES]
        names_first = run_grader(course, named, base / "out-names")
    finally:
        end_marked_processes(course.mark)
    after = {"repo": tree_digest(course.repo), "venv": tree_digest(course.venv)}
    return Graded(course, root, first, again, fresh, names_first, course_changes(course, before, after))


def course_changes(course: Course, before: dict, after: dict) -> list[str]:
    """Files of the course copy or its virtualenv that were changed, removed, or planted by an attack.

    The grader may add files of its own (bytecode caches): a new file counts when it holds the
    attacks' marker or is a .pth file (Python runs those at every start)."""
    changes = []
    for part, root in (("repo", course.repo), ("venv", course.venv)):
        old, new = before[part], after[part]
        changes += [f"{part}/{name}: changed" for name in old if name in new and old[name] != new[name]]
        changes += [f"{part}/{name}: removed" for name in old if name not in new]
        added = [name for name in new if name not in old]
        planted = set(files_containing(root, course.mark, added)) | {n for n in added if n.endswith(".pth")}
        changes += [f"{part}/{name}: planted" for name in sorted(planted)]
    return changes


# ---------------------------------------------------------------------------- reading the reports


def points(rows, student, exercise=None) -> float:
    return float(rows[student][exercise or "total"])


def student_report(out: Path, student: str) -> dict:
    """The student's results.json (DIR/students/<student>/ or DIR/<student>/)."""
    for place in (out / "students" / student, out / student):
        if (place / "results.json").is_file():
            return json.loads((place / "results.json").read_text())
    raise AssertionError(f"no results.json for {student} in {out}")


def wrong_grades(rows: dict[str, dict[str, str]], expected: dict[str, tuple[float, float]]) -> list[str]:
    """One line per student whose points for 01, 02 and in total are not the expected ones."""
    wrong = []
    for student, (first, second) in expected.items():
        row = rows.get(student)
        if row is None:
            wrong.append(f"{student}: no row in the gradebook")
            continue
        found = (row.get("01_coroutines"), row.get("02_gather"), row.get("total"))
        with contextlib.suppress(TypeError, ValueError):
            if tuple(float(x) for x in found) == (first, second, first + second):
                continue
        wrong.append(
            f"{student}: 01, 02, total = {', '.join(map(str, found))}, expected {first:g}, {second:g}, "
            f"{first + second:g} (the victim of: {VICTIM_OF.get(student, 'none of its own')}); "
            f"flags: {row.get('flags', '')[:160]}"
        )
    return wrong


def describe(run: Run) -> str:
    tail = "\n".join(run.output.strip().splitlines()[-6:])
    return f"exit code {run.returncode}; the grader's last lines:\n{tail}"


# ---------------------------------------------------------------------------- the tests: the attacks

RUNS = ["first", "again", "fresh"]
RUN_IDS = ["the-class", "again-same-out", "honest-alone-fresh-out"]


@pytest.mark.parametrize("which", RUNS, ids=RUN_IDS)
def test_honest_students_get_exactly_their_grades_in_every_run(graded, which):
    """Whatever classmates did (in this run or an earlier one), an honest grade is exact, and stays so."""
    run = getattr(graded, which)
    expected = {student: (first, second) for student, (_, first, second) in HONEST.items()}
    wrong = [f"as the grader left it: {line}" for line in wrong_grades(run.rows, expected)]
    if not wrong:
        later = wrong_grades(read_gradebook(run.later), expected)
        wrong = [f"{QUIET_AFTER_EXIT:g} s after the grader exited: {line}" for line in later]
    assert not wrong, (
        f"{len(wrong)} honest students got a wrong grade:\n" + "\n".join(wrong) + "\n" + describe(run)
    )


def test_every_attack_ran_and_its_own_results_say_what_it_did(graded):
    """The other tests mean something only if the attacks ran: each says what it did in its own results."""
    run, silent = graded.first, []
    for student in batch_attacks.reporting():
        try:
            outputs = [test["output"] for test in student_report(run.at_exit, student)["tests"]]
        except AssertionError as error:
            outputs = [str(error)]
        if not any("attack: " in output for output in outputs):
            silent.append(f"{student}: {' | '.join(o[:80] for o in outputs)}")
    assert not silent, "these attacks left no word of what they did:\n" + "\n".join(silent)


def test_no_submission_changes_the_graders_files_or_virtualenv(graded):
    assert not graded.course_changes, (
        "graded code changed the grader's own files (later students are graded by them):\n"
        + "\n".join(graded.course_changes)
    )


@pytest.mark.parametrize("which", RUNS, ids=RUN_IDS)
def test_nothing_a_submission_started_is_alive_after_the_batch(graded, which):
    run = getattr(graded, which)
    assert not run.left_alive, (
        f"{len(run.left_alive)} processes started by submissions outlived the grader:\n"
        + "\n".join(run.left_alive)
    )


@pytest.mark.parametrize("which", ["first", "again"], ids=RUN_IDS[:2])
def test_no_report_changes_after_the_grader_exits(graded, which):
    run = getattr(graded, which)
    assert not run.changed_after_exit, (
        f"{len(run.changed_after_exit)} files of --out changed in the {QUIET_AFTER_EXIT:g} s after "
        f"the grader exited: {', '.join(run.changed_after_exit[:8])}"
    )


@pytest.mark.parametrize("which", [*RUNS, "names_first"], ids=[*RUN_IDS, "names-like-reports-first"])
def test_no_submission_crashes_the_batch(graded, which):
    run = getattr(graded, which)
    assert "Traceback" not in run.output, f"the grader crashed:\n{run.output[-1500:]}"
    assert run.returncode in (0, 1), f"exit code {run.returncode} (0 or 1 as documented): {describe(run)}"
    assert len(run.rows) == len(run.submissions), (
        f"{len(run.rows)} rows in the gradebook for {len(run.submissions)} submissions: {describe(run)}"
    )


@pytest.mark.parametrize("which", ["first", "names_first"], ids=["last-in-the-class", "first-in-a-class"])
def test_submissions_named_like_the_reports_are_graded_and_the_reports_stay_files(graded, which):
    run = getattr(graded, which)
    for name in REPORT_NAMES:
        assert (run.at_exit / name).is_file(), f"--out/{name} is not the report: {describe(run)}"
    wrong = wrong_grades(run.rows, dict.fromkeys(REPORT_NAMES, (3.0, 2.0)))
    assert not wrong, "a correct submission named like a report must get full points:\n" + "\n".join(wrong)


def test_a_cached_result_written_by_a_submission_is_not_believed(graded):
    for which in ("first", "again"):
        run = getattr(graded, which)
        for student, expected in (("partial_2", 2.0), ("correct", FULL)):
            assert student in run.rows and points(run.rows, student) == expected, (
                f"{which} run: {student} has {run.rows.get(student, {}).get('total')} points, "
                f"not {expected:g}: forges_cache wrote its cached result"
            )


def test_executing_the_reference_solution_from_the_grader_earns_nothing(graded):
    rows = graded.first.rows
    assert "execs_solution" in rows and points(rows, "execs_solution") == 0, (
        f"execs_solution got {rows.get('execs_solution', {}).get('total')} points "
        "for running solutions/02_gather.py"
    )


def test_a_classmates_files_never_show_in_a_report(graded):
    run = graded.first
    leaks = files_containing(run.at_exit, SECRET)
    leaks += ["the grader's output"] if SECRET in run.output else []
    assert not leaks, f"text of correct's files (read by copies_classmate) shows in: {', '.join(leaks)}"


def test_huge_output_leaves_the_graders_memory_bounded(graded):
    """50 MB of output cost the grader no more memory than an honest class does, give or take a little."""
    run, honest = graded.first, graded.fresh
    task_1 = next(t for t in student_report(run.at_exit, "huge_output")["tests"] if t.get("number") == "2.1")
    # The 50 MB message is cut by the child before it is sent; under load, pytest-timeout or the
    # hang backstop may also stop the child while it formats 50 MB. Whatever reached the grader,
    # its memory must stay bounded (the 50 MB printed in task 2 go down the pipe it drains).
    assert task_1["status"] == "failed", f"huge_output's task 1 cannot pass: {task_1['output']!r}"
    assert run.peak_memory and honest.peak_memory, "the grader's peak memory could not be read"
    bound = min(MEMORY_BOUND, honest.peak_memory + MEMORY_MARGIN)
    assert run.peak_memory < bound, (
        f"the grader peaked at {run.peak_memory / 1024**2:.0f} MB grading the class, "
        f"{honest.peak_memory / 1024**2:.0f} MB grading the honest students alone (bound "
        f"{bound / 1024**2:.0f} MB): huge_output raised a 50 MB message and printed 50 MB"
    )
    assert points(run.rows, "huge_output") == 0


def test_a_hang_costs_its_exercises_time_limit_not_one_per_exercise(graded):
    seconds = student_report(graded.first.at_exit, "hangs_past_limit")["execution_time"]
    assert seconds < HANG_BOUND, (
        f"hangs_past_limit took {seconds} s to grade with --time-limit {TIME_LIMIT:g}: a hang in 01 "
        f"should cost about {TIME_LIMIT:g} s plus the time exercise 02 takes (bound {HANG_BOUND:g} s)"
    )
    assert points(graded.first.rows, "hangs_past_limit", "02_gather") == 2, (
        "the hang in 01 costs 01, never 02"
    )


# ---------------------------------------------------------------------------- a full output disk

DISK_BYTES = 48 * 1024  # the output folder's filesystem: room for the reports of a few students
DISK_FULL = re.compile(r"no space|disk( is)? full|full disk", re.IGNORECASE)


def test_a_full_output_disk_stops_the_batch_cleanly_with_the_gradebook_so_far(graded):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed: no small filesystem for --out")
    disk = graded.course.range / "small-disk"
    disk.mkdir()
    probe = subprocess.run(
        ["bwrap", "--bind", "/", "/", "--tmpfs", str(disk), "--", "true"], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip(f"bwrap cannot make a filesystem here: {probe.stderr.decode().strip()[:200]}")
    kept = graded.course.range / "small-disk-kept"
    students = [*HONEST, "correct_5", "correct_6", "correct_7"]
    root = graded.course.range / "disk-class"
    paths = [write_submission(root, s, honest_files(s) if s in HONEST else SOLUTION) for s in students]
    # The small filesystem exists only in bwrap's mount namespace: --out is copied out before it goes.
    wrap = [
        "bwrap", "--bind", "/", "/", "--dev-bind", "/dev", "/dev", "--proc", "/proc", "--cap-add", "ALL",
        "--size", str(DISK_BYTES), "--tmpfs", str(disk), "--",
        "sh", "-c", f'"$@"; code=$?; cp -r {disk}/out {kept}; exit $code', "sh",
    ]  # fmt: skip
    run = run_grader(graded.course, paths, disk / "out", wrap=wrap, readable=kept)
    assert run.returncode != 0, f"a full disk must end the batch with a non-zero exit code: {describe(run)}"
    assert "Traceback" not in run.output, f"a full disk must stop the batch cleanly:\n{run.output[-1500:]}"
    said = [line for line in run.output.splitlines() if DISK_FULL.search(line)]
    assert len(said) == 1, f"one line says the disk is full: {said or describe(run)}"
    rows = run.rows
    assert 0 < len(rows) < len(students), (
        f"the gradebook so far: {len(rows)} rows for {len(students)} students"
    )
    expected = {s: (HONEST[s][1], HONEST[s][2]) if s in HONEST else (3.0, 2.0) for s in rows}
    wrong = wrong_grades(rows, expected)
    assert not wrong, "the gradebook so far has wrong grades:\n" + "\n".join(wrong)


# ---------------------------------------------------------------------------- the cheats from inside


def test_the_run_ends_with_a_summary_and_says_one_submission_could_not_be_graded(graded):
    run = graded.first
    assert run.returncode == 1, "exit code 1: a submission (the missing path) could not be graded"
    assert "Traceback" not in run.output
    assert "Points per exercise" in run.stdout and "not graded: no_such_student" in run.stdout


def test_full_points_go_to_correct_work_only(graded):
    rows = graded.first.rows
    full = sorted(name for name, row in rows.items() if float(row["total"]) == FULL)
    expected = sorted([s for s, (_, a, b) in HONEST.items() if a + b == FULL] + ["zipped", *REPORT_NAMES])
    assert full == expected, f"only the correct submissions get full points: {full}"


def test_partial_broken_and_hanging_work_gets_the_points_of_what_works(graded):
    rows = graded.first.rows
    assert (points(rows, "partial", "01_coroutines"), points(rows, "partial", "02_gather")) == (3, 0)
    assert (points(rows, "broken", "01_coroutines"), points(rows, "broken", "02_gather")) == (0, 2)
    assert points(rows, "hangs", "02_gather") == 2, "a hang in 01 costs 01, never 02"
    assert points(rows, "hangs", "01_coroutines") < 3


def test_a_conftest_that_rewrites_outcomes_is_never_run_and_is_flagged(graded):
    rows = graded.first.rows
    assert points(rows, "conftest_cheat") == 0
    assert (
        "conftest.py" in rows["conftest_cheat"]["flags"] and "pytest.ini" in rows["conftest_cheat"]["flags"]
    )


@pytest.mark.parametrize("student", ["pytest_exit_cheat", "os_exit_cheat"])
def test_exiting_with_code_zero_instead_of_answering_earns_nothing(graded, student):
    """A popular classroom grader gave full marks for this: exit code 0 and a cut-short report."""
    rows = graded.first.rows
    assert points(rows, student, "01_coroutines") == 0, f"{student}: ending the process earns nothing"
    assert points(rows, student, "02_gather") == 2, "the other exercise is graded as usual"
    assert "exit" in rows[student]["flags"], "the early exit is flagged for the instructor"


def test_forged_results_earn_nothing(graded):
    rows = graded.first.rows
    assert points(rows, "forged_report", "02_gather") == 0
    assert points(rows, "forged_report", "01_coroutines") == 3


def test_a_patched_clock_fails_the_timing_task_and_is_flagged(graded):
    rows = graded.first.rows
    assert points(rows, "patched_clock", "02_gather") == 0
    assert "patches time.perf_counter" in rows["patched_clock"]["flags"]


def test_always_equal_objects_and_hard_coded_answers_earn_nothing_for_their_task(graded):
    run = graded.first
    for student in ("always_equal", "hard_coded"):
        tasks = {t.get("number"): t for t in student_report(run.at_exit, student)["tests"]}
        assert tasks["2.1"]["score"] == 0, f"{student}: task 2.1 must earn nothing"
    assert "__eq__" in run.rows["always_equal"]["flags"]


def test_a_zip_member_that_climbs_out_is_skipped_flagged_and_never_written(graded):
    assert "escape.py" in graded.first.rows["zipped"]["flags"]
    assert not (graded.root.parent / "escape.py").exists() and not (graded.root / "escape.py").exists()


def test_every_student_gets_a_gradescope_results_json(graded):
    run = graded.first
    for student in run.rows:
        result = student_report(run.at_exit, student)
        assert {"score", "execution_time", "tests"} <= result.keys()
        assert all(t["status"] in ("passed", "failed") for t in result["tests"])


def test_results_csv_has_a_row_per_student_and_task(graded):
    run = graded.first
    with (run.at_exit / "results.csv").open() as file:
        lines = list(csv.DictReader(file))
    assert len(lines) == len(run.rows) * 5, "5 tasks (01: 3, 02: 2) for each of the students"
