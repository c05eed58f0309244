"""What `python grade.py` promises a learner, checked by running it for real.

Every test runs grade.py as a child process, exactly as a learner would, against a
copy of the shipped stubs in a temporary folder (`--target`), with its progress file
and backups in a temporary KATA_STATE_DIR. The repo's exercises/ and .kata/ are
never touched. Output is piped, so grade.py prints plain ASCII without colour,
except in the one test that gives it a pseudo-terminal.
"""

import asyncio
import json
import os
import re
import select
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from kata import watch
from kata.catalog import REPO_ROOT, discover
from kata.checking import fingerprint
from kata.session import Session
from kata.state import target_key

# Each grade.py run starts Python, and most start a child pytest run as well: on a
# loaded 2-core machine that takes seconds, so the default 10 s per-test limit is too short.
pytestmark = pytest.mark.timeout(120)

GRADE = REPO_ROOT / "grade.py"
RUN_TIMEOUT = 60  # seconds, for any one grade.py run
STUB_01 = REPO_ROOT / "exercises" / "01_coroutines.py"
SOLUTION_01 = REPO_ROOT / "solutions" / "01_coroutines.py"
SOLUTION_02 = REPO_ROOT / "solutions" / "02_gather.py"
SEQUENTIAL_02 = REPO_ROOT / "tests" / "variants" / "02_gather" / "wrong_sequential.py"
ASCII = {chr(code) for code in range(128)}
HANGS = "\n\nasync def greet(fetch_name, user_id):\n    while True:\n        pass\n"
HANGS_UNSTOPPABLY = (
    "\n\nasync def greet(fetch_name, user_id):\n"
    "    while True:\n"
    "        try:\n"
    "            while True:\n"
    "                pass\n"
    "        except BaseException:\n"
    "            pass\n"
)


class Kata:
    """One learner's setup: a target folder with the stubs, and a state folder for progress."""

    def __init__(self, root: Path) -> None:
        self.target = root / "work"
        self.state = root / "state"
        self.target.mkdir(parents=True)
        self.state.mkdir()
        for stub in sorted((REPO_ROOT / "exercises").glob("*.py")):
            shutil.copy(stub, self.target / stub.name)

    def file(self, stem: str) -> Path:
        return self.target / f"{stem}.py"

    def put(self, stem: str, source: Path | str) -> None:
        """Make the learner's file `stem` hold `source` (a file to copy, or text)."""
        if isinstance(source, Path):
            shutil.copy(source, self.file(stem))
        else:
            self.file(stem).write_text(source, encoding="utf-8")

    @property
    def progress_file(self) -> Path:
        return self.state / "progress.json"

    def env(self, **changes: str | None) -> dict[str, str]:
        env = dict(os.environ, KATA_STATE_DIR=str(self.state), COLUMNS="120")
        env.pop("NO_COLOR", None)
        for name, value in changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def command(self, *args: str) -> list[str]:
        """`python grade.py ARGS --target work` (unless ARGS name another target)."""
        target = [] if "--target" in args else ["--target", str(self.target)]
        return [sys.executable, str(GRADE), *args, *target]

    def grade(self, *args: str) -> subprocess.CompletedProcess:
        """Run grade.py (see `command`), piped, with no input."""
        return subprocess.run(
            self.command(*args),
            cwd=REPO_ROOT,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=RUN_TIMEOUT,
        )

    def grade_json(self, *args: str) -> dict:
        run = self.grade(*args, "--json")
        assert run.stderr == "", f"--json prints nothing on stderr, got: {run.stderr!r}"
        return json.loads(run.stdout)


def by_stem(report: dict) -> dict[str, dict]:
    return {entry["stem"]: entry for entry in report["exercises"]}


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def reads_well(run: subprocess.CompletedProcess) -> None:
    """Piped output is words for a learner: no Python traceback, no escape codes, only ASCII."""
    both = run.stdout + run.stderr
    assert "Traceback" not in both, f"grade.py explains problems in words, never with a traceback:\n{both}"
    assert "\x1b[" not in both, "no ANSI escape codes when the output is not a terminal"
    assert both.isascii(), f"only ASCII when the output is not a terminal: {sorted(set(both) - ASCII)}"


@pytest.fixture
def kata(tmp_path) -> Kata:
    return Kata(tmp_path)


# ---------------------------------------------------------------- the default command


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory) -> subprocess.CompletedProcess:
    """`python grade.py` on the untouched stubs."""
    return Kata(tmp_path_factory.mktemp("fresh")).grade()


def test_on_fresh_stubs_it_shows_progress_the_table_and_the_first_step(fresh_run):
    out = fresh_run.stdout
    assert fresh_run.returncode == 1, "nothing passes yet, so the exit code is 1"
    assert "Progress: [" in out and "0/22 exercises done" in out, f"a progress bar comes first:\n{out}"
    rows = [line for line in out.splitlines() if re.match(r"^\d\d  ", line)]
    assert len(rows) == 22, f"the table has one row per exercise:\n{out}"
    assert all("not started" in row for row in rows), f"every untouched stub is 'not started':\n{out}"
    assert "01_coroutines.py" in out, "it names the file to edit first"
    assert re.search(r"`greet`.*is not written yet", out), f"it says what is missing, in words:\n{out}"
    assert "python grade.py hint 01" in out, "it offers the first hint"
    assert "python grade.py watch" in out, "it suggests watch mode"
    reads_well(fresh_run)


def test_piped_output_is_plain_ascii_without_colour(fresh_run):
    """Not a terminal (here: a pipe) means no colour and no Unicode, so logs and pipes stay clean."""
    assert fresh_run.stdout.strip()
    reads_well(fresh_run)


def run_in_terminal(kata: Kata, *args: str, **env: str | None) -> tuple[int, str]:
    """Run grade.py with stdout and stderr on a pseudo-terminal; all it wrote, once it has ended."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    # A fixed encoding: grade.py only draws Unicode on a UTF-8 terminal, whatever the locale here.
    environment = kata.env(**{"TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8", **env})
    try:
        process = subprocess.Popen(
            kata.command(*args),
            cwd=REPO_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
        )
    finally:
        os.close(slave)
    chunks = []
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal, and everything has been read
                break
            if not data:
                break
            chunks.append(data)
        return process.wait(timeout=RUN_TIMEOUT), b"".join(chunks).decode("utf-8", errors="replace")
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()


def test_colour_on_a_terminal_unless_no_color_or_a_dumb_terminal(kata):
    code, out = run_in_terminal(kata, "list")
    assert code == 0 and "Progress:" in out
    assert "\x1b[" in out, f"on a colour terminal the output has ANSI colour codes:\n{out!r}"

    code, out = run_in_terminal(kata, "list", NO_COLOR="1")
    assert code == 0 and "Progress:" in out
    assert "\x1b[" not in out, f"NO_COLOR=1 means no escape codes, even on a terminal:\n{out!r}"
    assert out.isascii(), "NO_COLOR output is plain ASCII"

    code, out = run_in_terminal(kata, "list", TERM="dumb")
    assert code == 0 and "Progress:" in out
    assert "\x1b[" not in out, f"TERM=dumb means no escape codes:\n{out!r}"


@dataclass
class Incremental:
    kata: Kata
    runs: list[dict]  # three `grade.py --json` reports
    saved: dict  # the progress file after the second run
    passed_version: str  # the fingerprint of 01 (file and tests) as it passed


@pytest.fixture(scope="module")
def incremental(tmp_path_factory) -> Incremental:
    """`grade.py --json` three times with the solution of 01 in place: twice unchanged,
    then after a comment is appended to it."""
    kata = Kata(tmp_path_factory.mktemp("incremental"))
    kata.put("01_coroutines", SOLUTION_01)
    exercise = next(e for e in discover() if e.stem == "01_coroutines")
    first = kata.grade_json()
    second = kata.grade_json()
    saved = json.loads(kata.progress_file.read_text(encoding="utf-8"))
    passed_version = fingerprint(exercise, kata.target)
    with kata.file("01_coroutines").open("a", encoding="utf-8") as file:
        file.write("# a comment changes the file, so the pass no longer holds\n")
    third = kata.grade_json()
    return Incremental(kata, [first, second, third], saved, passed_version)


@pytest.mark.load_sensitive  # 01's solution must pass
def test_an_exercise_that_passed_and_did_not_change_is_not_run_again(incremental):
    first, second, third = (by_stem(report) for report in incremental.runs)
    assert first["01_coroutines"]["status"] == "done"
    assert first["01_coroutines"]["checked_now"] is True, "a file not seen before is checked"
    assert first["02_gather"]["status"] == "not started", "the next exercise is still the stub"

    assert second["01_coroutines"]["status"] == "done"
    assert second["01_coroutines"]["checked_now"] is False, (
        "a file that passed and has not changed since is not run again"
    )
    record = incremental.saved["targets"][target_key(incremental.kata.target)]["01_coroutines"]
    assert record["passed"] is True
    assert record["fingerprint"] == incremental.passed_version, (
        "the progress file remembers which version of the file (and of its tests) passed"
    )

    assert third["01_coroutines"]["checked_now"] is True, (
        "any change to the file, even a comment, means a new check"
    )
    assert third["01_coroutines"]["status"] == "done"


@pytest.mark.load_sensitive  # 01's solution must pass
def test_json_output_has_every_exercise_with_its_tasks_and_tests(incremental):
    report = incremental.runs[0]
    assert (report["done"], report["total"]) == (1, 22), "top level: how many are done, out of how many"
    assert [e["number"] for e in report["exercises"]] == list(range(1, 23))
    for entry in report["exercises"]:
        assert {"number", "stem", "status", "tasks", "tests"} <= entry.keys()
        for task in entry["tasks"]:
            assert {"number", "title", "passed"} <= task.keys()
        for test in entry["tests"]:
            assert {"test", "task", "outcome", "seconds", "message"} <= test.keys()
    gather = by_stem(report)["02_gather"]
    assert gather["tasks"] and gather["tests"], "an exercise that was run lists its tasks and its tests"
    assert any(t["outcome"] != "passed" and t["message"] for t in gather["tests"]), (
        "a failing test carries its message"
    )
    assert all(t["outcome"] == "passed" for t in by_stem(report)["01_coroutines"]["tests"])


# ---------------------------------------------------------------- one exercise


@pytest.mark.load_sensitive  # 02's solution must pass its bounds
def test_one_exercise_draws_the_timeline_when_calls_ran_one_after_another(kata):
    kata.put("02_gather", SEQUENTIAL_02)
    run = kata.grade("02")
    assert run.returncode == 1, "a failing exercise exits with 1"
    assert "expected (all at once)" in run.stdout and "observed" in run.stdout, (
        f"the failure shows the expected and the observed timeline:\n{run.stdout}"
    )
    assert "ran one after another" in run.stdout, "and says what went wrong in words"
    reads_well(run)

    kata.put("02_gather", SOLUTION_02)
    run = kata.grade("02")
    assert run.returncode == 0, f"a passing exercise exits with 0:\n{run.stdout}"
    assert "02_gather passes" in run.stdout


@pytest.mark.parametrize(
    ("code", "words"),
    [
        pytest.param(HANGS, "did not finish in time", id="loops-forever"),
        pytest.param(HANGS_UNSTOPPABLY, "did not even stop when interrupted", id="swallows-the-interruption"),
    ],
)
@pytest.mark.load_sensitive
def test_an_exercise_that_hangs_is_stopped_and_the_rest_is_not_run(kata, code, words):
    kata.put("01_coroutines", SOLUTION_01.read_text(encoding="utf-8") + code)
    started = time.monotonic()
    run = kata.grade("01")
    elapsed = time.monotonic() - started
    assert run.returncode == 1
    # The limit, and on a busy machine one more try with twice the limit; never minutes.
    assert elapsed < 60, f"a hang costs one test's time limit (a second try when busy): took {elapsed:.1f} s"
    assert "did not finish in time" in run.stdout, f"it says the test hung:\n{run.stdout}"
    assert words in run.stdout, f"and how:\n{run.stdout}"
    assert "not run" in run.stdout, f"the tests after the hang are reported as not run:\n{run.stdout}"
    reads_well(run)


@pytest.mark.load_sensitive  # 01's other tasks must pass
def test_code_that_ends_the_process_in_one_task_costs_no_verdict_of_the_others(kata):
    """greet ends the test process (os._exit): its tests fail, saying so, and every other test,
    whichever child it was dealt to and whatever came before it there, still gets its verdict."""
    exits = "\n\nasync def greet(fetch_name, user_id):\n    import os\n    os._exit(3)\n"
    kata.put("01_coroutines", SOLUTION_01.read_text(encoding="utf-8") + exits)
    report = by_stem(kata.grade_json("01"))["01_coroutines"]
    outcomes = {test["test"]: (test["task"], test["outcome"], test["message"]) for test in report["tests"]}
    greet = {name: why for name, (task, outcome, why) in outcomes.items() if task == 1}
    others = {name: (outcome, why) for name, (task, outcome, why) in outcomes.items() if task != 1}
    assert greet and all("ended while this test was running" in why for why in greet.values()), greet
    assert others and all(outcome == "passed" for outcome, _ in others.values()), (
        f"the tests that never call greet pass: {others}"
    )


def test_a_syntax_error_is_one_line_with_the_line_number(kata):
    source = SOLUTION_01.read_text(encoding="utf-8") + "\ndef broken(:\n    pass\n"
    kata.put("01_coroutines", source)
    line = source.splitlines().index("def broken(:") + 1
    run = kata.grade("01")
    assert run.returncode == 1
    reasons = [text for text in run.stdout.splitlines() if "cannot read this file" in text]
    assert len(reasons) == 1, f"the reason is given once, not once per test:\n{run.stdout}"
    assert f"line {line}" in reasons[0], f"the reason names line {line}: {reasons[0]!r}"
    reads_well(run)


# ---------------------------------------------------------------- trouble


def test_an_unreadable_progress_file_is_kept_aside_and_progress_starts_afresh(kata):
    kata.progress_file.write_bytes(b"{not json")
    run = kata.grade()
    assert run.returncode == 1, "grade.py still checks the course (the stubs fail)"
    assert "Progress: [" in run.stdout
    notes = lines(run.stderr)
    assert len(notes) == 1, f"one line says what happened to the file:\n{run.stderr}"
    assert notes[0].startswith("grade.py: note:") and "unreadable" in notes[0] and "kept as" in notes[0]
    kept = list(kata.state.glob("progress.json.unreadable-*"))
    assert len(kept) == 1, "the unreadable file is set aside, never deleted"
    assert kept[0].read_bytes() == b"{not json", "byte for byte as it was"
    assert json.loads(kata.progress_file.read_text(encoding="utf-8"))["version"] == 1, (
        "a new, valid progress file is written"
    )
    reads_well(run)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["99"], id="unknown-exercise"),
        pytest.param(["--target", "/nope"], id="missing-target"),
        pytest.param(["reset"], id="reset-without-an-exercise"),
        pytest.param(["hint", "01", "--task", "9"], id="hint-for-a-task-that-does-not-exist"),
    ],
)
def test_bad_usage_is_one_line_on_stderr_and_exit_code_2(kata, args):
    run = kata.grade(*args)
    assert run.returncode == 2, f"bad usage exits with 2, got {run.returncode}"
    assert len(lines(run.stderr)) == 1, f"exactly one line says what is wrong:\n{run.stderr}"
    assert run.stderr.startswith("grade.py: ")
    assert run.stdout == "", "and nothing else is printed"
    reads_well(run)


# ---------------------------------------------------------------- hint, solution, reset, list


def test_hints_come_one_level_at_a_time_and_are_remembered(kata):
    for level in (1, 2, 3):
        run = kata.grade("hint", "01")
        assert run.returncode == 0
        assert f"Hint {level}/3" in run.stdout, f"call {level} shows hint {level}:\n{run.stdout}"
        assert f"Hint {level + 1}/3" not in run.stdout, "and not the next one yet"
    assert "last hint" in run.stdout, "the third call says it was the last hint"
    listed = by_stem(kata.grade_json("list"))
    assert listed["01_coroutines"]["hints_shown"] == 3, "the progress remembers how many hints were shown"


def test_still_stuck_gives_the_exact_command_for_the_next_hint_of_that_task(kata):
    run = kata.grade("hint", "01", "--task", "2")
    assert "Task 2" in run.stdout and "Hint 1/" in run.stdout, f"--task 2 shows task 2's hint:\n{run.stdout}"
    stuck = next((line for line in lines(run.stdout) if line.startswith("Still stuck?")), "")
    command = re.search(r"`([^`]+)`", stuck)
    assert command, f"'Still stuck?' names a command to run:\n{run.stdout}"
    words = command.group(1).split()
    assert words[:4] == ["python", "grade.py", "hint", "01"] and "--task" in words, (
        f"the command asks for task 2 again, not the first task: {command.group(1)}"
    )
    again = kata.grade(*words[2:])
    assert "Task 2" in again.stdout and "Hint 2/" in again.stdout, (
        f"running that command shows task 2's second hint:\n{again.stdout}"
    )


@pytest.mark.load_sensitive  # 01's solution must pass
def test_hints_stay_readable_after_the_exercise_passes_and_are_not_counted(kata):
    kata.put("01_coroutines", SOLUTION_01)
    assert kata.grade("01").returncode == 0
    run = kata.grade("hint", "01")
    assert run.returncode == 0
    assert "already passes" in run.stdout, f"it says the exercise passes:\n{run.stdout}"
    shown_in_full = "Hint 1/3" in run.stdout and "Hint 3/3" in run.stdout
    assert shown_in_full, f"and shows the hints in full:\n{run.stdout}"
    assert "python grade.py solution 01" in run.stdout, "and where the reference solution is"
    listed = by_stem(kata.grade_json("list"))
    assert listed["01_coroutines"]["hints_shown"] == 0, "reading hints after passing counts as no hint used"
    reads_well(run)


@pytest.mark.load_sensitive  # 01's solution must pass
def test_the_solution_stays_hidden_until_the_exercise_passes(kata):
    solution_text = SOLUTION_01.read_text(encoding="utf-8")
    marker = solution_text.splitlines()[0]  # the reference solution's docstring line

    run = kata.grade("solution", "01")
    assert run.returncode == 1, "on a stub the solution is refused"
    assert marker not in run.stdout, "and not shown"
    assert len(lines(run.stderr)) == 1 and "--before-passing" in run.stderr, (
        f"one line says how to see it anyway:\n{run.stderr}"
    )

    run = kata.grade("solution", "01", "--before-passing")
    assert run.returncode == 0 and marker in run.stdout, "--before-passing shows it"
    listed = by_stem(kata.grade_json("list"))
    assert listed["01_coroutines"]["solution_seen_before_passing"], "and that is recorded in the progress"

    kata.put("01_coroutines", SOLUTION_01)
    run = kata.grade("solution", "01")
    assert run.returncode == 0 and marker in run.stdout, "once the exercise passes, the solution is shown"


def test_reset_asks_first_keeps_a_backup_and_restores_the_stub(kata):
    kata.put("01_coroutines", SOLUTION_01)
    learner = kata.file("01_coroutines").read_bytes()

    run = kata.grade("reset", "01")
    assert run.returncode == 2, "without a terminal to ask on, reset refuses unless given --yes"
    assert len(lines(run.stderr)) == 1 and "--yes" in run.stderr
    assert kata.file("01_coroutines").read_bytes() == learner, "and nothing was changed"

    run = kata.grade("reset", "01", "--yes")
    assert run.returncode == 0
    assert kata.file("01_coroutines").read_bytes() == STUB_01.read_bytes(), "the shipped stub is back"
    backups = list((kata.state / "backups").glob("**/01_coroutines.*.py"))
    assert len(backups) == 1, "the learner's version is kept in the backups folder"
    assert backups[0].read_bytes() == learner, "byte for byte"

    run = kata.grade("reset", "--all", "--yes")
    assert run.returncode == 0 and "Nothing to reset" in run.stdout, "when every file is the stub"


def test_list_never_runs_tests(kata):
    kata.put("01_coroutines", SOLUTION_01)
    report = kata.grade_json("list")
    assert not [e["stem"] for e in report["exercises"] if e["checked_now"]], "list only shows what is known"
    assert by_stem(report)["01_coroutines"]["status"] == "edited, not checked", (
        "a changed file that was never checked is shown as such, not checked by list"
    )
    run = kata.grade("list")
    assert run.returncode == 0, "list exits with 0 whatever the progress"
    assert "edited, not checked" in run.stdout


# ---------------------------------------------------------------- watch


class Output:
    """What a child process prints, read in a thread so the test can wait for it with a deadline."""

    def __init__(self, stream) -> None:
        self._parts: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self._parts.append(line)

    def finish(self) -> None:
        """After the process has ended: wait for the reader to see the end of its output."""
        self._thread.join(timeout=10)

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def wait_for(self, predicate, what: str, timeout: float = 120) -> str:
        """The output once `predicate` holds. The limit only matters when something is wrong: a
        check that takes 3 s idle took over 30 s while the self-check ran 8 jobs on 2 cores."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text
            if predicate(text):
                return text
            time.sleep(0.05)
        raise AssertionError(f"waited {timeout} s for {what}; the output so far:\n{self.text}")


def watching(stem: str):
    pattern = re.compile(rf"Watching \S*{stem}\.py: save it to check again")

    def predicate(text: str) -> bool:
        last = text.rsplit("Progress:", 1)[-1]  # the footer of the latest check
        return bool(pattern.search(last))

    return predicate


@pytest.mark.load_sensitive  # 01's solution must pass
def test_watch_rechecks_on_save_on_enter_and_moves_on_when_an_exercise_passes(kata):
    process = subprocess.Popen(
        kata.command("watch", "--poll"),
        cwd=REPO_ROOT,
        env=kata.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        bufsize=1,
    )
    output = Output(process.stdout)
    try:
        text = output.wait_for(watching("01_coroutines"), "watch to show 01 and wait")
        assert re.search(r"Enter or r|press Enter", text), "it tells how to check by hand"

        latest = text.rsplit("Progress:", 1)[-1]
        assert "grade.py watch" not in latest, "in watch mode it does not suggest watch mode"

        kata.put("01_coroutines", SOLUTION_01)
        text = output.wait_for(watching("02_gather"), "a save to be checked, and watch to move on to 02")
        assert "1/22 exercises done" in text
        assert "01_coroutines passes" in text, f"it says 01 passes before moving on:\n{text}"
        assert "python grade.py solution 01" in text, "and offers the reference solution"

        checks = text.count("Progress:")
        process.stdin.write("\n")
        process.stdin.flush()
        output.wait_for(
            lambda t: t.count("Progress:") > checks and watching("02_gather")(t), "Enter to start a check"
        )

        process.stdin.write("q\n")
        process.stdin.flush()
        assert process.wait(timeout=15) == 1, "q quits; the exit code is 1 while not everything is done"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=RUN_TIMEOUT)
        output.finish()
        process.stdin.close()
        process.stdout.close()


async def test_watch_poll_sees_a_save_made_in_the_same_second_as_the_one_before(tmp_path):
    """--poll compares contents: a second save whose time (to the second) and size match the
    first is still a change (watchfiles' poller compared whole seconds and missed it)."""
    path = tmp_path / "02_gather.py"
    path.write_text("first = 1\n")
    stamp = path.stat().st_mtime_ns
    session = SimpleNamespace(target=tmp_path, exercises=[SimpleNamespace(stem="02_gather")])
    events, stop = asyncio.Queue(), asyncio.Event()
    poller = asyncio.create_task(watch._poll_files(session, events, stop))
    await asyncio.sleep(watch.POLL_SECONDS / 2)
    path.write_text("again = 2\n")  # same size
    os.utime(path, ns=(stamp, stamp))  # and the same modification time
    try:
        kind, names = await asyncio.wait_for(events.get(), 5)
    finally:
        stop.set()
        await poller
    assert (kind, names) == ("change", "02_gather.py")


@pytest.mark.parametrize(
    ("cwd", "path", "shown"),
    [
        ("", "exercises/11_timeouts.py", "exercises/11_timeouts.py"),
        ("tests", "exercises/11_timeouts.py", "../exercises/11_timeouts.py"),
        ("", "{outside}/11_timeouts.py", "{outside}/11_timeouts.py"),
        ("tests", "{outside}/11_timeouts.py", "{outside}/11_timeouts.py"),
    ],
)
def test_paths_are_shown_as_the_learner_would_type_them(cwd, path, shown, tmp_path, monkeypatch):
    """Relative where both ends are in the kata; a --target outside it is shown whole, not as ../../tmp/..."""
    outside = str(tmp_path.resolve())
    monkeypatch.chdir(REPO_ROOT / cwd)
    found = Session.shown(SimpleNamespace(), REPO_ROOT / path.format(outside=outside))
    assert found == shown.format(outside=outside)
