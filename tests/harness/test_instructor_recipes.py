"""The Gradescope recipe (instructors/gradescope/): the zip holds no answers, and a result is always there.

build.sh is run for real into a temporary folder. run_autograder is run for real by bash on a
temporary /autograder tree (AUTOGRADER_ROOT): most tests put a stand-in for the virtualenv's python
there, a script that plays one way grading can end (no result, a hang, a rewrite of run_autograder
while it runs...), and passes anything else to the real python; two run the real grade.py from the
zip on exercises 01 and 02.
"""

import hashlib
import json
import os
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kata.catalog import REPO_ROOT, discover

pytestmark = pytest.mark.timeout(120)

RECIPE = REPO_ROOT / "instructors" / "gradescope"
STUDENT = "submission"
FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for the virtualenv's python: `grade.py batch` plays the scenario, anything else is python.
if [[ " $* " == *" grade.py batch "* ]]; then
    prev=""
    for arg in "$@"; do
        [[ $prev == --out ]] && out=$arg
        prev=$arg
    done
    {scenario}
else
    exec {python} "$@"
fi
"""
COPIES_RESULTS_JSON = 'cp "$AUTOGRADER_ROOT/results/results.json" "$AUTOGRADER_ROOT/seen.json"; exit 1'
GRADESCOPE_RESULT = {
    "score": 3.0,
    "execution_time": 4,
    "output": "submission: 3 / 5 points (60.0%), 3 of 5 tasks passed.",
    "tests": [
        {"name": f"01_coroutines task {n}", "score": 1.0, "max_score": 1.0, "status": "passed"}
        for n in (1, 2, 3)
    ]
    + [{"name": f"02_gather task {n}", "score": 0.0, "max_score": 1.0, "status": "failed"} for n in (1, 2)],
}


def answers() -> dict[str, str]:
    """sha256 -> name of every right answer in the repository: the solutions and the ok_ variants."""
    paths = [*(REPO_ROOT / "solutions").glob("*.py"), *(REPO_ROOT / "tests" / "variants").glob("*/ok_*.py")]
    return {hashlib.sha256(path.read_bytes()).hexdigest(): str(path.relative_to(REPO_ROOT)) for path in paths}


@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "autograder.zip"
    run = subprocess.run(
        ["bash", str(RECIPE / "build.sh"), str(out)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, f"build.sh failed: {run.stderr}"
    return out


def names_in(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as zipped:
        return [name for name in zipped.namelist() if not name.endswith("/")]


def test_the_zip_holds_everything_grading_needs(gradescope_zip):
    names = set(names_in(gradescope_zip))
    needed = {"setup.sh", "run_autograder"} | {
        f"async-kata/{name}"
        for name in ("grade.py", "conftest.py", "pyproject.toml", "points.toml", "README.md")
    }
    for exercise in discover():
        needed |= {
            f"async-kata/tests/test_{exercise.stem}.py",
            f"async-kata/exercises/{exercise.stem}.py",
            f"async-kata/hints/{exercise.stem}.md",
        }
    tracked = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "kata"], capture_output=True, text=True, check=True
    ).stdout.split()
    needed |= {f"async-kata/{name}" for name in tracked}
    assert not needed - names, f"the zip lacks files grading needs: {sorted(needed - names)}"


def test_the_zip_holds_no_solutions_variants_harness_tests_or_git(gradescope_zip):
    names = names_in(gradescope_zip)
    kept_out = (
        "solutions/",
        "tests/variants/",
        "tests/harness/",
        "instructors/",
        "bench/",
        ".venv/",
        ".kata/",
    )
    leaks = [
        name
        for name in names
        if ".git" in Path(name).parts or name.removeprefix("async-kata/").startswith(kept_out)
    ]
    assert not leaks, f"the zip holds files a submission could read for answers: {leaks[:10]}"


def test_no_file_in_the_zip_is_a_right_answer_under_another_name(gradescope_zip):
    known = answers()
    with zipfile.ZipFile(gradescope_zip) as zipped:
        found = {
            name: known[digest]
            for name in zipped.namelist()
            if (digest := hashlib.sha256(zipped.read(name)).hexdigest()) in known
        }
    assert not found, f"files in the zip are right answers: {found}"


def test_the_zip_keeps_run_autograder_and_setup_executable(gradescope_zip):
    with zipfile.ZipFile(gradescope_zip) as zipped:
        for name in ("run_autograder", "setup.sh"):
            mode = zipped.getinfo(name).external_attr >> 16
            assert mode & stat.S_IXUSR, f"{name} is not executable in the zip (mode {oct(mode)})"


def test_build_refuses_a_zip_that_would_hold_a_right_answer(tmp_path):
    repo = tmp_path / "kata"
    answer, ok_variant = "ANSWER = 42\n", "ALSO_RIGHT = 43\n"
    files = {
        "solutions/01_demo.py": answer,
        "kata/helper.py": answer,  # a solution copied into the grader
        "tests/variants/01_demo/ok_other.py": ok_variant,
        "exercises/01_demo.py": ok_variant,  # a stub that is a right answer
        "tests/test_01_demo.py": "def test_demo(): pass\n",
    }
    for relative, text in files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(text)
    shutil.copytree(RECIPE, repo / "instructors" / "gradescope")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "course"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    out = tmp_path / "autograder.zip"
    run = subprocess.run(
        ["bash", str(repo / "instructors" / "gradescope" / "build.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0, "build.sh made a zip that holds right answers"
    for leak in ("kata/helper.py", "exercises/01_demo.py"):
        assert leak in run.stderr, f"build.sh's error does not name {leak}: {run.stderr!r}"
    assert not out.exists(), "build.sh failed but left a zip behind"


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_build_writes_the_zip_with_the_python_named_by_PYTHON(tmp_path):
    # Where there is no `python3` (a chroot with only python3.14, say), PYTHON names the one to use.
    used, bare = tmp_path / "used", tmp_path / "bare-python3-ran"
    wrapper = executable(
        tmp_path / "chosen" / "python",
        f"#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >> {shlex.quote(str(used))}\n"
        f'exec {shlex.quote(sys.executable)} "$@"\n',
    )
    # A python3 first on PATH that only says it ran: build.sh must not reach it.
    shadow = executable(
        tmp_path / "path" / "python3", f"#!/usr/bin/env bash\ntouch {shlex.quote(str(bare))}\nexit 97\n"
    )
    out = tmp_path / "autograder.zip"
    env = {**os.environ, "PYTHON": str(wrapper), "PATH": f"{shadow.parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        ["bash", str(RECIPE / "build.sh"), str(out)], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, f"build.sh failed with PYTHON set: {run.stderr}"
    assert not bare.exists(), "build.sh ran the python3 on PATH although PYTHON named another"
    assert used.is_file() and "-m zipfile -c" in used.read_text(), (
        "build.sh did not run the python PYTHON names"
    )
    assert {"setup.sh", "run_autograder"} <= set(names_in(out)), (
        f"the zip is incomplete: {names_in(out)[:10]}"
    )


class Autograder:
    """A temporary /autograder: source/async-kata, venv/bin/python, submission/, results/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.script = root / "run_autograder"  # where Gradescope copies it
        (root / "source" / "async-kata").mkdir(parents=True)
        (root / STUDENT).mkdir()
        shutil.copy(RECIPE / "run_autograder", self.script)

    @property
    def results(self) -> Path:
        return self.root / "results" / "results.json"

    def fake_python(self, scenario: str) -> None:
        python = self.root / "venv" / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text(FAKE_PYTHON.format(scenario=scenario, python=sys.executable))
        python.chmod(0o755)

    def real_venv(self) -> None:
        (self.root / "venv").symlink_to(Path(sys.executable).parent.parent)

    def run(self, timeout: float = 60, **settings: str) -> subprocess.CompletedProcess:
        env = {key: value for key, value in os.environ.items() if not key.startswith("KATA_")}
        env.update(AUTOGRADER_ROOT=str(self.root), **settings)
        return subprocess.run(
            ["bash", str(self.script)], env=env, capture_output=True, text=True, timeout=timeout
        )

    def result(self) -> dict:
        """results.json, which must be valid JSON in Gradescope's format."""
        assert self.results.is_file(), "run_autograder left no results.json"
        data = json.loads(self.results.read_text(encoding="utf-8"))
        assert isinstance(data.get("score"), int | float), f"results.json has no numeric score: {data}"
        assert isinstance(data.get("tests"), list), f"results.json has no list of tests: {data}"
        return data


@pytest.fixture
def autograder(tmp_path) -> Autograder:
    return Autograder(tmp_path / "autograder")


def test_results_json_says_why_before_grading_starts(autograder):
    autograder.fake_python(COPIES_RESULTS_JSON)
    autograder.run(KATA_BUDGET_SECONDS="300")
    seen = json.loads((autograder.root / "seen.json").read_text(encoding="utf-8"))
    assert seen["score"] == 0 and seen["tests"] == [], (
        f"the result in place while grading gives points: {seen}"
    )
    assert "did not finish within 300 s" in seen["output"], f"it does not say why: {seen['output']!r}"
    assert "tell your instructor" in seen["output"], f"it does not say what to do: {seen['output']!r}"


def test_the_batch_result_for_the_student_becomes_results_json(autograder):
    folder = f'"$out/students/{STUDENT}"'
    text = json.dumps(GRADESCOPE_RESULT)
    autograder.fake_python(f"mkdir -p {folder} && printf '%s' '{text}' > {folder}/results.json")
    run = autograder.run()
    assert autograder.result() == GRADESCOPE_RESULT, f"results.json is not the batch's: {run.stdout}"
    # The placeholder written first is not a verdict, and the log does not read like one.
    assert "results.json: a placeholder until grading ends" in run.stdout, run.stdout
    assert "0 points:" not in run.stdout, f"the log reads as if the student got 0 points:\n{run.stdout}"


def test_the_old_place_of_the_student_result_is_read_too(autograder):
    text = json.dumps(GRADESCOPE_RESULT)
    autograder.fake_python(
        f"mkdir -p \"$out/{STUDENT}\" && printf '%s' '{text}' > \"$out/{STUDENT}/results.json\""
    )
    autograder.run()
    assert autograder.result() == GRADESCOPE_RESULT


def test_a_grader_that_ends_without_a_result_leaves_zero_and_the_exit_code(autograder):
    autograder.fake_python("exit 3")
    autograder.run()
    data = autograder.result()
    assert data["score"] == 0, f"no result, yet points: {data}"
    assert "ended without a result (exit code 3)" in data["output"], (
        f"the reason is wrong: {data['output']!r}"
    )


@pytest.mark.parametrize(
    "written",
    [
        "{not json",
        '{"score": NaN, "tests": []}',
        '{"score": 55}',
        '["score", 55]',
        '{"score": "55", "tests": []}',
    ],
)
def test_a_result_not_in_gradescopes_format_is_not_used(autograder, written):
    folder = f'"$out/students/{STUDENT}"'
    autograder.fake_python(f"mkdir -p {folder} && printf '%s' '{written}' > {folder}/results.json")
    autograder.run()
    data = autograder.result()
    assert data["score"] == 0, f"{written!r} was taken as the result: {data}"
    assert "could not be read" in data["output"], f"the reason is wrong: {data['output']!r}"


@pytest.mark.load_sensitive
def test_a_hang_is_stopped_at_the_budget_with_the_reason(autograder):
    autograder.fake_python("exec sleep 60")
    started = time.monotonic()
    autograder.run(KATA_BUDGET_SECONDS="1")
    took = time.monotonic() - started
    data = autograder.result()
    assert took < 15, f"a 1 s budget took {took:.1f} s"
    assert data["score"] == 0 and "stopped after 1 s" in data["output"], f"the reason is wrong: {data}"


def leftovers(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_nothing_the_batch_started_outlives_a_stopped_batch(autograder):
    probe = subprocess.run(
        ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "true"], check=False
    )
    if probe.returncode != 0:
        pytest.skip(
            "no PID namespace here: ending what a submission starts is then the grader's sandbox's job"
        )
    marker = f"kata-leftover-{secrets.token_hex(6)}"
    # A process in its own session escapes a kill of the batch's process group.
    autograder.fake_python(
        f"setsid bash -c 'exec -a {marker} sleep 120' </dev/null >/dev/null 2>&1 & sleep 0.5; exec sleep 60"
    )
    autograder.run(KATA_BUDGET_SECONDS="2")
    deadline = time.monotonic() + 5
    while leftovers(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = leftovers(marker)
    for pid in survivors:
        os.kill(pid, 9)
    assert not survivors, f"processes the batch started are still running after it was stopped: {survivors}"


# coreutils 9.10's timeout, as strace shows it in a Debian sid chroot: in its child, before exec,
# prctl(PR_SET_PDEATHSIG, SIGTERM), then getppid() == 1 is taken for "timeout has already died" and
# the child exits 125 at once, saying nothing; timeout then exits 125 too. So a timeout that is pid 1
# (the first process of a PID namespace) never runs its command. This stand-in forks and asks its
# child the same question, then hands over to the real timeout.
COREUTILS_9_10_TIMEOUT = """#!{python} -I
import os, sys
with open({record!r}, "a", encoding="utf-8") as record:
    record.write(f"pid {{os.getpid()}}\\n")
child = os.fork()
if child == 0:
    os._exit(125 if os.getppid() == 1 else 0)
if os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 125:
    sys.exit(125)
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""


@pytest.mark.parametrize("ending", ["a result", "a hang"])
def test_the_timeout_of_coreutils_9_10_runs_the_batch(autograder, tmp_path, ending):
    real = shutil.which("timeout")
    if real is None:
        pytest.skip("no timeout on PATH")
    record = tmp_path / "timeout-ran"
    fake = executable(
        tmp_path / "coreutils-9.10" / "timeout",
        COREUTILS_9_10_TIMEOUT.format(python=sys.executable, record=str(record), real=real),
    )
    path = f"{fake.parent}{os.pathsep}{os.environ['PATH']}"
    if ending == "a result":
        folder = f'"$out/students/{STUDENT}"'
        text = json.dumps(GRADESCOPE_RESULT)
        autograder.fake_python(f"mkdir -p {folder} && printf '%s' '{text}' > {folder}/results.json")
        run = autograder.run(PATH=path)
        data = autograder.result()
        assert data == GRADESCOPE_RESULT, f"not the batch's result: {data['output']!r}\n{run.stdout}"
    else:
        autograder.fake_python("exec sleep 60")
        run = autograder.run(PATH=path, KATA_BUDGET_SECONDS="1")
        data = autograder.result()
        assert "stopped after 1 s" in data["output"], f"the reason is wrong: {data['output']!r}\n{run.stdout}"
    assert record.is_file(), f"run_autograder did not run the timeout first on PATH: {run.stdout}"


FORGED = (
    """printf '{"score": 55, "tests": []}' > "$AUTOGRADER_ROOT/results/results.json"; """
    """touch "$AUTOGRADER_ROOT/forged"\n"""
)


def test_rewriting_run_autograder_while_it_runs_changes_nothing(autograder):
    # Graded code running as root can write the script bash is reading; bash reads a script as it goes.
    # Blank lines past the original's end, then the forgery: wherever bash reads on, it reaches it.
    forged_script = "\n" * (2 * autograder.script.stat().st_size) + FORGED
    (autograder.root / "forged.sh").write_text(forged_script)
    autograder.fake_python('cat "$AUTOGRADER_ROOT/forged.sh" > "$AUTOGRADER_ROOT/run_autograder"; exit 1')
    autograder.run()
    data = autograder.result()
    assert not (autograder.root / "forged").exists(), "code written into run_autograder while it ran was run"
    assert data["score"] == 0, f"the rewritten run_autograder changed the result: {data}"


def test_a_bad_budget_falls_back_to_the_default(autograder):
    autograder.fake_python(COPIES_RESULTS_JSON)
    run = autograder.run(KATA_BUDGET_SECONDS="ten minutes")
    seen = json.loads((autograder.root / "seen.json").read_text(encoding="utf-8"))
    assert "not a whole number of seconds" in run.stdout, f"the bad setting is not reported: {run.stdout!r}"
    assert "within 540 s" in seen["output"], f"the default budget was not used: {seen['output']!r}"


def unpack(gradescope_zip: Path, autograder: Autograder) -> Path:
    """The zip as Gradescope lays it out; returns the kata's folder."""
    source = autograder.root / "source"
    shutil.rmtree(source)
    with zipfile.ZipFile(gradescope_zip) as zipped:
        zipped.extractall(source)
    shutil.copy(source / "run_autograder", autograder.script)
    autograder.real_venv()
    return source / "async-kata"


@pytest.mark.load_sensitive  # the solutions must earn every point
def test_a_correct_submission_gets_every_point_from_the_zip(gradescope_zip, autograder):
    kata = unpack(gradescope_zip, autograder)
    # Points only the zip's points.toml gives: full marks of 6 show the zip's kata did the grading.
    with (kata / "points.toml").open("a", encoding="utf-8") as points:
        points.write("\n[exercises.01_coroutines]\ntask_points = { 1 = 2 }\n")
    for stem in ("01_coroutines", "02_gather"):
        shutil.copy(REPO_ROOT / "solutions" / f"{stem}.py", autograder.root / STUDENT)
    run = autograder.run(timeout=110, KATA_EXERCISES="01 02")
    data = autograder.result()
    failed = [test["name"] for test in data["tests"] if test["status"] != "passed"]
    assert not failed, f"a correct submission failed {failed}: {run.stdout[-2000:]}"
    assert (data["score"], sum(test["max_score"] for test in data["tests"])) == (6, 6), (
        f"expected 6 of 6 points with the zip's points.toml: {data['score']} ({run.stdout[-2000:]})"
    )


@pytest.mark.load_sensitive
def test_a_real_batch_past_its_budget_leaves_zero_and_the_reason(gradescope_zip, autograder):
    unpack(gradescope_zip, autograder)
    (autograder.root / STUDENT / "01_coroutines.py").write_text("import time\ntime.sleep(600)\n")
    started = time.monotonic()
    autograder.run(timeout=60, KATA_EXERCISES="01 02", KATA_BUDGET_SECONDS="3")
    took = time.monotonic() - started
    data = autograder.result()
    assert data["score"] == 0 and "stopped after 3 s" in data["output"], f"the reason is wrong: {data}"
    assert took < 20, f"a 3 s budget took {took:.1f} s"
