"""Batch intake: a submission (a directory or a .zip) becomes its expected exercise files' bytes, plus flags.

Nothing from a submission is run, extracted or written; only `NN_topic.py` files of the course are read,
with caps. An extra file that would change how tests run, and is not the kata's own copy, is flagged for
the instructor (never graded); a clone of the kata gets no flag at all.
"""

import io
import os
import re
import stat
import struct
import subprocess
import sys
import tarfile
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from kata.batch import submissions
from kata.batch.submissions import (
    MAX_FILE_BYTES,
    MAX_MEMBERS,
    NO_FILES,
    NO_SUCH_PATH,
    NOT_A_SUBMISSION,
    distinct_paths,
    load_submission,
    load_submissions,
)
from kata.catalog import REPO_ROOT, discover

STEMS = ("01_coroutines", "02_gather", "03_create_task")
CATALOG_STEMS = [exercise.stem for exercise in discover()]
ANSWER = b"async def main():\n    return 42\n"


def make_dir(root: Path, files: dict[str, bytes | str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    root.mkdir(parents=True, exist_ok=True)
    return root


def make_zip(path: Path, members: dict[str, bytes | str], compression=zipfile.ZIP_DEFLATED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root, with the bytes of each regular file: to prove nothing was written."""
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() and not path.is_symlink() else None
        for path in sorted(root.rglob("*"))
    }


class ReadCounter:
    """Counts the bytes zipfile hands out when a member is read."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bytes = 0
        original = zipfile.ZipExtFile.read

        def counting_read(file, n=-1):
            data = original(file, n)
            self.bytes += len(data)
            return data

        monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)


# ---------------------------------------------------------------------------- where the files are


def test_a_directory_with_an_exercises_folder_gives_the_bytes_of_each_expected_file(tmp_path):
    alice = make_dir(
        tmp_path / "alice",
        {"exercises/01_coroutines.py": ANSWER, "exercises/02_gather.py": b"x = 2\n", "README.md": "hi"},
    )
    submission = load_submission(alice, STEMS)
    assert submission.problem is None
    assert submission.student == "alice"
    assert submission.source == alice
    assert submission.files == {"01_coroutines": ANSWER, "02_gather": b"x = 2\n"}, (
        "each expected file's bytes, under its stem; a stem with no file is simply absent"
    )
    assert submission.flags == []


def test_exercise_files_at_the_top_of_the_directory_are_found_too(tmp_path):
    bob = make_dir(tmp_path / "bob", {"01_coroutines.py": ANSWER, "03_create_task.py": b"y = 3\n"})
    submission = load_submission(bob, STEMS)
    assert submission.problem is None
    assert submission.files == {"01_coroutines": ANSWER, "03_create_task": b"y = 3\n"}


def test_the_exercises_folder_wins_when_it_has_any_expected_file(tmp_path):
    carol = make_dir(
        tmp_path / "carol", {"exercises/01_coroutines.py": ANSWER, "02_gather.py": b"stray copy\n"}
    )
    assert load_submission(carol, STEMS).files == {"01_coroutines": ANSWER}, (
        "the first place holding at least one expected file is the only one read"
    )


def test_files_that_are_not_expected_stems_are_never_copied(tmp_path):
    dave = make_dir(
        tmp_path / "dave",
        {
            "exercises/01_coroutines.py": ANSWER,
            "exercises/99_bonus.py": b"not in the course",
            "exercises/helpers.py": b"import os",
            "exercises/01_Coroutines.py": b"wrong case",
            "solutions/02_gather.py": b"someone else's",
            "exercises/notes.txt": b"notes",
        },
    )
    assert set(load_submission(dave, STEMS).files) == {"01_coroutines"}


def test_a_github_zip_is_read_inside_its_single_top_folder(tmp_path):
    archive = make_zip(
        tmp_path / "erin.zip",
        {
            "kata-main/": b"",
            "kata-main/README.md": "# my kata",
            "kata-main/exercises/01_coroutines.py": ANSWER,
            "kata-main/exercises/02_gather.py": b"x = 2\n",
            "kata-main/conftest.py": "import pytest",
        },
    )
    submission = load_submission(archive, STEMS)
    assert submission.problem is None
    assert submission.student == "erin", "a zip's student id is its file name without .zip"
    assert submission.files == {"01_coroutines": ANSWER, "02_gather": b"x = 2\n"}
    assert submission.flags == [
        "kata-main/conftest.py differs from the kata's: pytest would load it "
        "(never run by the grader: worth a look)"
    ], "paths in flags are as the submission names them, top folder included"


def test_a_directory_holding_one_folder_and_no_py_file_is_read_inside_that_folder(tmp_path):
    frank = make_dir(
        tmp_path / "frank", {"notes.txt": "x", "project/01_coroutines.py": ANSWER, ".git/HEAD": "ref"}
    )
    assert load_submission(frank, STEMS).files == {"01_coroutines": ANSWER}, (
        "one folder (hidden folders do not count) and no .py file at the top: look inside it"
    )


def test_a_zip_made_on_macos_still_has_a_single_top_folder(tmp_path):
    archive = make_zip(
        tmp_path / "gina.zip",
        {"work/exercises/01_coroutines.py": ANSWER, "__MACOSX/work/exercises/._01_coroutines.py": b"\0\5"},
    )
    assert load_submission(archive, STEMS).files == {"01_coroutines": ANSWER}


def test_a_py_file_at_the_top_keeps_the_search_at_the_top(tmp_path):
    hugo = make_dir(tmp_path / "hugo", {"main.py": "print()", "project/exercises/01_coroutines.py": ANSWER})
    submission = load_submission(hugo, STEMS)
    assert submission.files == {}
    assert submission.problem.startswith(NO_FILES), submission.problem
    where = "found project/exercises/01_coroutines.py: put the exercise files in exercises/"
    assert where in submission.problem, submission.problem


def test_no_expected_file_at_all_is_a_problem_that_says_where_it_looked(tmp_path):
    ivy = make_dir(tmp_path / "ivy", {"exercises/my_answers.py": "x = 1"})
    submission = load_submission(ivy, STEMS)
    assert submission.files == {}
    assert submission.problem == "no exercise files found (looked for exercises/NN_topic.py and NN_topic.py)"


def test_stems_must_be_exercise_stems(tmp_path):
    with pytest.raises(ValueError, match="not exercise stems"):
        load_submission(make_dir(tmp_path / "jo", {}), ["../../etc/passwd"])


# ---------------------------------------------------------------------------- flags: extra files

NEVER_RUN = "(never run by the grader: worth a look)"


def fake_kata(root: Path) -> Path:
    """A kata to compare with: its own conftest.py, pyproject.toml and kata/ package (no git history)."""
    return make_dir(
        root,
        {
            "conftest.py": "pytest_plugins = ['kata.plugin']\n",
            "pyproject.toml": "[project]\nname = 'k'\n\n[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
            "kata/__init__.py": "",
            "kata/plugin.py": "def _judge():\n    if True:\n        return 1\n    return 2\n",
        },
    )


RISKY_FILES = [
    ("tests/conftest.py", "import os", "pytest would load it"),
    ("exercises/conftest.py", "import os", "pytest would load it"),
    ("pytest.ini", "[pytest]\naddopts = -p no:kata\n", "it holds pytest settings"),
    (".pytest.ini", "[pytest]\n", "it holds pytest settings"),
    ("pytest.toml", "[pytest]\n", "it holds pytest settings"),
    ("tox.ini", "[tox]\n[pytest]\naddopts = -x\n", "it holds pytest settings"),
    ("setup.cfg", "[metadata]\nname = x\n[tool:pytest]\naddopts = -x\n", "it holds pytest settings"),
    ("sitecustomize.py", "import os", "Python would run it at start-up"),
    ("usercustomize.py", "import os", "Python would run it at start-up"),
    ("lib/evil.pth", "import os", "Python would run it at start-up"),
    ("pytest.py", "import os", "it would be imported instead of pytest"),
    ("exercises/asyncio.py", "import os", "it would be imported instead of asyncio"),
]


@pytest.mark.parametrize(("name", "content", "why"), RISKY_FILES)
def test_a_file_that_would_change_a_test_run_is_flagged_with_why_and_never_fails_the_student(
    tmp_path, name, content, why
):
    kim = make_dir(tmp_path / "kim", {"exercises/01_coroutines.py": ANSWER, name: content})
    submission = load_submission(kim, STEMS, kata_root=fake_kata(tmp_path / "kata"))
    assert submission.flags == [f"{name}: {why} {NEVER_RUN}"]
    assert submission.problem is None, "a flag is for the instructor: the exercises are still graded"
    assert submission.files == {"01_coroutines": ANSWER}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("pyproject.toml", "[project]\nname = 'mine'\n"),
        ("setup.cfg", "[metadata]\nname = mine\n"),
        ("tox.ini", "[tox]\nenvlist = py311\n"),
    ],
)
def test_a_settings_file_without_pytest_settings_is_not_flagged(tmp_path, name, content):
    kim = make_dir(tmp_path / "kim", {"exercises/01_coroutines.py": ANSWER, name: content})
    assert load_submission(kim, STEMS, kata_root=fake_kata(tmp_path / "kata")).flags == []


def test_a_pyproject_with_its_own_pytest_settings_is_flagged_as_different_from_the_kata(tmp_path):
    lou = make_dir(
        tmp_path / "lou",
        {"01_coroutines.py": ANSWER, "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-p no:kata'\n"},
    )
    assert load_submission(lou, STEMS, kata_root=fake_kata(tmp_path / "kata")).flags == [
        f"pyproject.toml differs from the kata's: it holds pytest settings {NEVER_RUN}"
    ]


@pytest.mark.parametrize(
    ("label", "change"),
    [
        ("byte for byte", lambda text: text),
        ("with Windows line endings", lambda text: text.replace("\n", "\r\n")),
        ("with trailing spaces and blank lines", lambda text: text.replace("\n", "   \n") + "\n\n"),
    ],
)
def test_a_copy_of_the_kata_s_own_files_is_not_flagged(tmp_path, label, change):
    kata = fake_kata(tmp_path / "kata")
    own = {
        relative: change((kata / relative).read_text())
        for relative in ("conftest.py", "pyproject.toml", "kata/__init__.py", "kata/plugin.py")
    }
    mia = make_dir(tmp_path / "mia", {"exercises/01_coroutines.py": ANSWER, **own})
    assert load_submission(mia, STEMS, kata_root=kata).flags == [], f"the kata's own files, {label}"


def test_an_indentation_change_in_the_kata_s_code_is_flagged(tmp_path):
    kata = fake_kata(tmp_path / "kata")
    moved = (kata / "kata/plugin.py").read_text().replace("    return 2", "return 2")
    ned = make_dir(tmp_path / "ned", {"exercises/01_coroutines.py": ANSWER, "kata/plugin.py": moved})
    assert load_submission(ned, STEMS, kata_root=kata).flags == [
        f"kata/plugin.py differs from the kata's: it would be imported as part of kata {NEVER_RUN}"
    ], "leading whitespace changes what Python runs: only line endings and trailing spaces are ignored"


def test_a_file_added_to_the_kata_package_is_flagged(tmp_path):
    kata = fake_kata(tmp_path / "kata")
    own = {relative: (kata / relative).read_bytes() for relative in ("kata/__init__.py", "kata/plugin.py")}
    ola = make_dir(tmp_path / "ola", {"01_coroutines.py": ANSWER, **own, "kata/judge.py": "x = 1"})
    assert load_submission(ola, STEMS, kata_root=kata).flags == [
        f"kata/judge.py: it would be imported as part of kata {NEVER_RUN}"
    ]


HARMLESS = {
    "README.md": "# my answers",
    "notes.txt": "gather runs them together",
    ".gitignore": ".venv/\n",
    ".DS_Store": b"\x00\x01",
    "hints/02_gather.md": "mine",
    "tests/test_mine.py": "def test_x():\n    assert True\n",
    "exercises/mine_test.py": "import pytest",
    "exercises/__pycache__/conftest.cpython-311.pyc": b"\x00",
    ".venv/pyvenv.cfg": "home = /usr/bin",
    ".venv/lib/python3.11/site-packages/_pytest/__init__.py": "",
    ".venv/lib/python3.11/site-packages/distutils-precedence.pth": "import os",
    "myenv/pyvenv.cfg": "home = /usr/bin",
    "myenv/lib/python3.11/site-packages/pytest/__init__.py": "",
    "myenv/lib/sitecustomize.py": "",
    ".git/hooks/conftest.py": "",
    ".idea/workspace.xml": "<x/>",
    ".vscode/settings.json": "{}",
    ".github/workflows/classroom.yml": "on: push",
    ".pytest_cache/v/cache/lastfailed": "{}",
    "node_modules/x/conftest.py": "",
    "async_kata.egg-info/PKG-INFO": "x",
}


def test_ordinary_files_and_hidden_cache_and_virtualenv_folders_are_never_flagged(tmp_path):
    pia = make_dir(tmp_path / "pia", {"exercises/01_coroutines.py": ANSWER, **HARMLESS})
    submission = load_submission(pia, STEMS, kata_root=fake_kata(tmp_path / "kata"))
    assert submission.flags == [], "nothing there could change a test run here: " + "; ".join(
        submission.flags
    )


@pytest.mark.parametrize("folder", ["pytest", "_pytest", "vendor/_pytest", "aiohttp"])
def test_a_package_that_would_replace_one_the_tests_import_is_flagged_once(tmp_path, folder):
    lee = make_dir(
        tmp_path / "lee",
        {
            "01_coroutines.py": ANSWER,
            f"{folder}/__init__.py": "",
            f"{folder}/conftest.py": "",
            f"{folder}/x.pth": "",
        },
    )
    module = folder.rpartition("/")[2]
    assert load_submission(lee, STEMS, kata_root=fake_kata(tmp_path / "kata")).flags == [
        f"{folder}/: it would be imported instead of {module} {NEVER_RUN}"
    ]


def test_each_risky_file_is_flagged_once_in_a_zip_too(tmp_path):
    archive = make_zip(
        tmp_path / "max.zip",
        {
            "exercises/01_coroutines.py": ANSWER,
            "conftest.py": "",
            "pytest.ini": "[pytest]",
            "sitecustomize.py": "",
            "tests/test_answers.py": "",
            "site.pth": "",
            "pytest/__init__.py": "",
        },
    )
    assert load_submission(archive, STEMS, kata_root=fake_kata(tmp_path / "kata")).flags == [
        f"conftest.py differs from the kata's: pytest would load it {NEVER_RUN}",
        f"pytest.ini: it holds pytest settings {NEVER_RUN}",
        f"sitecustomize.py: Python would run it at start-up {NEVER_RUN}",
        f"site.pth: Python would run it at start-up {NEVER_RUN}",
        f"pytest/: it would be imported instead of pytest {NEVER_RUN}",
    ], "in the zip's order, each once"


def test_many_risky_files_give_a_short_list_of_flags(tmp_path):
    files = {f"exercises/part{number:02d}/conftest.py": "import os" for number in range(1, 31)}
    nora = make_dir(tmp_path / "nora", {"exercises/01_coroutines.py": ANSWER, **files})
    flags = load_submission(nora, STEMS, kata_root=fake_kata(tmp_path / "kata")).flags
    assert len(flags) == submissions.MAX_FLAGS_PER_KIND + 1
    assert flags[-1] == f"and 20 more extra files {NEVER_RUN}"


def test_a_risky_file_too_big_to_compare_is_flagged_unread(tmp_path):
    ray = make_dir(
        tmp_path / "ray", {"01_coroutines.py": ANSWER, "conftest.py": b"#" * (MAX_FILE_BYTES + 10)}
    )
    assert load_submission(ray, STEMS, kata_root=fake_kata(tmp_path / "kata")).flags == [
        "conftest.py could not be compared with the kata's (too big or unreadable): pytest would load it "
        f"{NEVER_RUN}"
    ]


# ---------------------------------------------------------------------------- hostile settings files

# setup.cfg, tox.ini and pyproject.toml are read to see whether they hold pytest settings, in the
# grader's own process, before grading starts: a file built to make that slow stalls the class.
UNREAD_SETTINGS = "{name} was not read (more than 64 KB): it could hold pytest settings " + NEVER_RUN


@pytest.mark.parametrize("packed", ["folder", "zip"])
@pytest.mark.parametrize("name", ["setup.cfg", "tox.ini", "pyproject.toml"])
def test_a_huge_newline_only_settings_file_loads_in_well_under_a_second(tmp_path, name, packed):
    """200,000 newlines in a setup.cfg took 33 s to load (a `\\s*` that crossed lines, tried at every
    line start), 300,000 in a 1.2 KB zip over 4 minutes: such a file is now not read past 64 KB."""
    members = {"01_coroutines.py": ANSWER, name: b"\n" * 200_000}
    path = make_zip(tmp_path / "ivy.zip", members) if packed == "zip" else make_dir(tmp_path / "ivy", members)
    kata = fake_kata(tmp_path / "kata")
    started = time.process_time()  # CPU: the self-check runs 12 jobs on 2 cores
    submission = load_submission(path, STEMS, kata_root=kata)
    elapsed = time.process_time() - started
    assert elapsed < 2, f"loading took {elapsed:.1f} s of CPU"
    assert submission.flags == [UNREAD_SETTINGS.format(name=name)]
    assert submission.files == {"01_coroutines": ANSWER}


@pytest.mark.parametrize("name", ["setup.cfg", "tox.ini"])
def test_an_ini_file_of_blank_lines_just_under_the_cap_is_read_in_well_under_a_second(tmp_path, name):
    blank = b"\n" * 64_000  # took 3 s: a section header must not span lines
    quiet = make_dir(tmp_path / "quiet", {"01_coroutines.py": ANSWER, name: blank})
    settings = blank + b" \t[ tool:pytest ]\nx = 1\n"
    loud = make_dir(tmp_path / "loud", {"01_coroutines.py": ANSWER, name: settings})
    kata = fake_kata(tmp_path / "kata")
    started = time.process_time()
    assert load_submission(quiet, STEMS, kata_root=kata).flags == []
    assert load_submission(loud, STEMS, kata_root=kata).flags == [
        f"{name}: it holds pytest settings {NEVER_RUN}"
    ]
    elapsed = time.process_time() - started
    assert elapsed < 2, f"loading two submissions took {elapsed:.1f} s of CPU"


TOML_BOMBS = [
    pytest.param("a" + ".a" * 8_000 + " = 1\n", id="one key of 8,000 dotted parts"),
    pytest.param("a = " + "[" * 5_000 + "\n", id="arrays nested 5,000 deep"),
    pytest.param("a = " + "9" * 5_000 + "\n", id="an integer of 5,000 digits"),
]


@pytest.mark.parametrize("with_settings", [False, True])
@pytest.mark.parametrize("bomb", TOML_BOMBS)
def test_a_pyproject_built_to_break_the_toml_parser_loads_quickly_and_small(tmp_path, bomb, with_settings):
    """tomllib keeps every prefix of a dotted key (300 MB for 8,000 parts, quadratic), and raises
    RecursionError or ValueError on some input: none of it may stall or stop the loading."""
    settings = "\n[tool.pytest.ini_options]\naddopts = '-p no:kata'\n" if with_settings else ""
    ned = make_dir(tmp_path / "ned", {"01_coroutines.py": ANSWER, "pyproject.toml": bomb + settings})
    kata = fake_kata(tmp_path / "kata")
    tracemalloc.start()
    started = time.process_time()
    try:
        submission = load_submission(ned, STEMS, kata_root=kata)
        elapsed = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 2, f"loading took {elapsed:.1f} s of CPU"
    assert peak < 50 * 1024 * 1024, f"loading needed {peak / 2**20:.0f} MB"
    expected = [f"pyproject.toml differs from the kata's: it holds pytest settings {NEVER_RUN}"]
    assert submission.flags == (expected if with_settings else [])
    assert submission.files == {"01_coroutines": ANSWER}


# ---------------------------------------------------------------------------- flags: a clone of the kata


def tracked_files(commit: str = "HEAD") -> list[str]:
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-tree", "-r", "--name-only", "-z", commit],
        capture_output=True,
        check=True,
    )
    return [name.decode() for name in listed.stdout.split(b"\0") if name]


def clone_of_the_kata(root: Path, commit: str = "HEAD") -> Path:
    """What a student hands in: the repository at `commit` with every exercise answered, and the
    folders a working copy grows (.git, .venv with pytest installed, __pycache__, editor settings)."""
    # One `git archive` instead of a `git show` per tracked file (548 processes: over the 10 s
    # timeout on a loaded machine).
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                make_dir(root, {member.name: tar.extractfile(member).read()})
    for solution in (REPO_ROOT / "solutions").glob("*.py"):
        make_dir(root, {f"exercises/{solution.name}": solution.read_bytes()})
    junk = {
        ".git/HEAD": "ref: refs/heads/main\n",
        ".git/hooks/pre-commit.sample": "#!/bin/sh\n",
        ".venv/pyvenv.cfg": "home = /usr/bin\n",
        ".venv/lib/python3.11/site-packages/_pytest/__init__.py": "",
        ".venv/lib/python3.11/site-packages/pytest/__init__.py": "",
        ".venv/lib/python3.11/site-packages/distutils-precedence.pth": "import os\n",
        "__pycache__/conftest.cpython-311-pytest-9.2.0.pyc": b"\x00\x01",
        "tests/__pycache__/test_02_gather.cpython-311-pytest-9.2.0.pyc": b"\x00\x01",
        "kata/__pycache__/plugin.cpython-311.pyc": b"\x00\x01",
        ".pytest_cache/v/cache/lastfailed": "{}",
        ".kata/progress.json": "{}",
        ".vscode/settings.json": "{}",
        ".DS_Store": b"\x00",
        "my-notes.md": "gather, then create_task",
    }
    make_dir(root, junk)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(sys.executable)  # what a real virtualenv holds
    (root / ".venv" / "lib64").symlink_to("lib", target_is_directory=True)
    return root


def has_git_history() -> bool:
    try:
        return bool(tracked_files())
    except (OSError, subprocess.CalledProcessError):
        return False


needs_git = pytest.mark.skipif(not has_git_history(), reason="needs the kata's git repository")


@needs_git
def test_a_clone_of_the_kata_with_answers_gets_no_flag(tmp_path):
    clone = clone_of_the_kata(tmp_path / "tess")
    submission = load_submission(clone, CATALOG_STEMS)
    assert submission.problem is None
    assert len(submission.files) == len(CATALOG_STEMS), "every answer is read"
    assert submission.flags == [], "a clone of the kata is not suspicious: " + "; ".join(submission.flags)


@needs_git
def test_a_clone_zipped_by_github_gets_no_flag(tmp_path):
    clone = clone_of_the_kata(tmp_path / "clone")
    members = {
        f"async-kata-main/{path.relative_to(clone).as_posix()}": path.read_bytes()
        for path in sorted(clone.rglob("*"))
        if path.is_file()
    }
    submission = load_submission(make_zip(tmp_path / "uma.zip", members), CATALOG_STEMS)
    assert submission.flags == [], "; ".join(submission.flags)
    assert len(submission.files) == len(CATALOG_STEMS)


@needs_git
def test_a_clone_of_an_older_version_of_the_kata_gets_no_flag(tmp_path):
    commits = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "log", "--format=%H", "--", "kata/plugin.py", "conftest.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if len(commits) < 2:
        pytest.skip("the kata's history has no older version of its plugin")
    clone = clone_of_the_kata(tmp_path / "vic", commits[len(commits) // 2])
    assert (clone / "kata/plugin.py").read_bytes() != (REPO_ROOT / "kata/plugin.py").read_bytes(), (
        "the older clone should hold an older plugin, or this test proves nothing"
    )
    submission = load_submission(clone, CATALOG_STEMS)
    assert submission.flags == [], "a clone made weeks ago is not suspicious: " + "; ".join(submission.flags)


@needs_git
def test_a_clone_with_a_changed_conftest_gets_exactly_that_flag(tmp_path):
    clone = clone_of_the_kata(tmp_path / "walt")
    with (clone / "conftest.py").open("a") as conftest:
        conftest.write("\ndef pytest_runtest_makereport(item, call):\n    pass\n")
    (clone / "kata" / "plugin.py").write_text("def _judge(*args, **kwargs):\n    pass\n")
    assert load_submission(clone, CATALOG_STEMS).flags == [
        f"conftest.py differs from the kata's: pytest would load it {NEVER_RUN}",
        f"kata/plugin.py differs from the kata's: it would be imported as part of kata {NEVER_RUN}",
    ]


# ---------------------------------------------------------------------------- symlinks and odd files


def test_a_symlink_is_never_followed_but_skipped_and_flagged(tmp_path):
    oscar = make_dir(tmp_path / "oscar", {"exercises/01_coroutines.py": ANSWER})
    (oscar / "passwd").symlink_to("/etc/passwd")
    (oscar / "exercises" / "02_gather.py").symlink_to("/etc/passwd")
    submission = load_submission(oscar, STEMS)
    assert submission.files == {"01_coroutines": ANSWER}, "an expected name that is a symlink is not read"
    assert submission.flags == [
        "symlink exercises/02_gather.py (never followed: skipped)",
        "symlink passwd (never followed: skipped)",
    ]


def test_a_symlinked_folder_is_never_entered(tmp_path):
    elsewhere = make_dir(tmp_path / "elsewhere", {"01_coroutines.py": ANSWER, "conftest.py": ""})
    pat = make_dir(tmp_path / "pat", {"02_gather.py": b"x = 2\n"})
    (pat / "exercises").symlink_to(elsewhere, target_is_directory=True)
    submission = load_submission(pat, STEMS)
    assert submission.files == {"02_gather": b"x = 2\n"}
    assert submission.flags == ["symlink exercises (never followed: skipped)"]


def test_a_symlink_inside_a_zip_is_skipped_and_flagged(tmp_path):
    path = tmp_path / "quinn.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("exercises/01_coroutines.py", ANSWER)
        link = zipfile.ZipInfo("exercises/02_gather.py")
        link.create_system = 3  # Unix: the mode is in the high bits of external_attr
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    submission = load_submission(path, STEMS)
    assert submission.files == {"01_coroutines": ANSWER}
    assert submission.flags == ["symlink exercises/02_gather.py (never followed: skipped)"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_at_an_expected_path_is_skipped_without_waiting_for_a_writer(tmp_path):
    rosa = make_dir(tmp_path / "rosa", {"exercises/01_coroutines.py": ANSWER})
    os.mkfifo(rosa / "exercises" / "02_gather.py")
    submission = load_submission(rosa, STEMS)
    assert submission.files == {"01_coroutines": ANSWER}
    assert submission.flags == ["exercises/02_gather.py is not a regular file (skipped)"]


def test_an_exercise_file_that_is_not_utf8_is_kept_and_flagged(tmp_path):
    latin1 = "# café\nx = 1\n".encode("latin-1")
    sam = make_dir(tmp_path / "sam", {"exercises/03_create_task.py": latin1})
    submission = load_submission(sam, STEMS)
    assert submission.files == {"03_create_task": latin1}, (
        "the bytes are kept as they are: the test run decides"
    )
    assert submission.flags == ["exercises/03_create_task.py is not UTF-8"]


# ---------------------------------------------------------------------------- size caps


def test_an_exercise_file_over_the_cap_is_skipped_and_flagged(tmp_path):
    big = b"#" * (MAX_FILE_BYTES + 1)
    tess = make_dir(tmp_path / "tess", {"01_coroutines.py": ANSWER, "02_gather.py": big})
    archive = make_zip(
        tmp_path / "uma.zip", {"01_coroutines.py": ANSWER, "02_gather.py": big}, zipfile.ZIP_STORED
    )
    for submission in (load_submission(tess, STEMS), load_submission(archive, STEMS)):
        assert submission.files == {"01_coroutines": ANSWER}
        assert submission.flags == ["02_gather.py is larger than 1 MB (skipped)"]


def test_reading_stops_at_the_total_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_TOTAL_BYTES", 15)
    vera = make_dir(tmp_path / "vera", {"01_coroutines.py": b"a" * 10, "02_gather.py": b"b" * 10})
    submission = load_submission(vera, STEMS)
    assert submission.files == {"01_coroutines": b"a" * 10}
    assert len(submission.flags) == 1
    assert submission.flags[0].startswith("02_gather.py skipped: more than")


# ---------------------------------------------------------------------------- hostile zips


@pytest.mark.parametrize(
    "member", ["../evil.py", "/abs.py", "exercises/../../evil.py", "C:/evil.py", "..\\evil.py"]
)
def test_a_zip_member_with_an_unsafe_path_is_skipped_and_flagged(tmp_path, member):
    archive = make_zip(tmp_path / "will.zip", {"exercises/01_coroutines.py": ANSWER, member: "import os"})
    submission = load_submission(archive, STEMS)
    assert submission.files == {"01_coroutines": ANSWER}
    assert submission.flags == [f"unsafe path {member} in the zip (skipped)"]


def test_a_zip_with_parent_and_absolute_paths_writes_nothing_anywhere(tmp_path, monkeypatch):
    archive = make_zip(
        tmp_path / "inbox" / "xena.zip",
        {
            "exercises/01_coroutines.py": ANSWER,
            "../evil.py": "import os",
            "/abs.py": "import os",
            "../../02_gather.py": "stolen",
        },
    )
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # a relative write would land inside tmp_path, where it would show
    before = tree(tmp_path)
    submission = load_submission(archive, STEMS)
    assert tree(tmp_path) == before, "reading a submission writes nothing: the tree is as it was"
    assert not (tmp_path / "evil.py").exists()
    assert submission.files == {"01_coroutines": ANSWER}
    assert submission.flags == [
        "unsafe path ../evil.py in the zip (skipped)",
        "unsafe path /abs.py in the zip (skipped)",
        "unsafe path ../../02_gather.py in the zip (skipped)",
    ]


def test_nothing_in_a_submission_is_ever_run(tmp_path, monkeypatch):
    trap = "import pathlib\npathlib.Path('RAN').write_text('ran')\n"
    yara = make_dir(
        tmp_path / "yara",
        {"exercises/01_coroutines.py": trap, "conftest.py": trap, "sitecustomize.py": trap, "x.pth": trap},
    )
    archive = make_zip(tmp_path / "zoe.zip", {"01_coroutines.py": trap, "conftest.py": trap})
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    load_submissions([yara, archive], STEMS)
    assert tree(tmp_path) == before
    assert not (tmp_path / "RAN").exists(), "the submission's code ran"


def write_zeros_member(archive: zipfile.ZipFile, name: str, megabytes: int) -> None:
    """Streamed a megabyte at a time: the test never holds the whole member in memory."""
    chunk = bytes(1024 * 1024)
    with archive.open(name, "w") as member:
        for _ in range(megabytes):
            member.write(chunk)


@pytest.mark.load_sensitive
def test_a_zip_bomb_is_refused_quickly_without_being_read(tmp_path, monkeypatch):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("exercises/02_gather.py", ANSWER)
        write_zeros_member(archive, "exercises/01_coroutines.py", megabytes=50)
    assert path.stat().st_size < 200_000, "the test's bomb should be small on disk"
    reads = ReadCounter(monkeypatch)
    started = time.perf_counter()
    submission = load_submission(path, STEMS)
    elapsed = time.perf_counter() - started
    assert submission.files == {}, "a bomb refuses the whole zip"
    assert "refused as a possible zip bomb" in submission.problem
    assert submission.problem.startswith("exercises/01_coroutines.py in the zip would expand from")
    assert reads.bytes == 0, (
        f"the bomb was refused from its header, yet {reads.bytes:,} bytes were decompressed"
    )
    assert elapsed < 5, f"refusing a bomb took {elapsed:.1f} s"


def test_a_member_that_lies_about_its_size_is_never_read_past_the_cap(tmp_path, monkeypatch):
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        write_zeros_member(archive, "01_coroutines.py", megabytes=20)
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")  # the central directory entry, which zipfile trusts
    # It now claims 1 MB (a ratio near 50:1, not a bomb) with that megabyte's CRC: a consistent lie.
    struct.pack_into("<I", data, central + 16, zlib.crc32(bytes(MAX_FILE_BYTES)))
    struct.pack_into("<I", data, central + 24, MAX_FILE_BYTES)
    path.write_bytes(bytes(data))
    reads = ReadCounter(monkeypatch)
    submission = load_submission(path, STEMS)
    assert reads.bytes <= MAX_FILE_BYTES + 1, f"{reads.bytes:,} bytes decompressed: more than the cap"
    assert len(submission.files.get("01_coroutines", b"")) <= MAX_FILE_BYTES


def test_a_zip_with_too_many_members_is_refused(tmp_path):
    members = {f"junk/{number}.txt": "" for number in range(MAX_MEMBERS)}
    archive = make_zip(tmp_path / "many.zip", {"01_coroutines.py": ANSWER, **members})
    submission = load_submission(archive, STEMS)
    assert submission.files == {}
    assert submission.problem == "the zip has 2,001 members: more than 2,000, refused"


def test_a_zip_is_refused_from_its_end_record_before_its_list_of_members_is_read(tmp_path, monkeypatch):
    """A red team's 34 MB zip of 400,001 members cost the grader 3.4 s and 247 MB before the count
    refused it: zipfile reads the whole list first. Refused now from the end record alone, whether
    the count or the size of the list is too big (long names: few members, a huge list)."""
    many = make_zip(tmp_path / "many.zip", {f"junk/{number}.txt": "" for number in range(MAX_MEMBERS + 1)})
    # each entry of the list: 46 bytes and its name (60,004 characters)
    long_names = make_zip(tmp_path / "long.zip", {f"{number:04}" + "x" * 60_000: "" for number in range(40)})

    def never(*args, **kwargs):
        raise AssertionError("the list of members was read")

    monkeypatch.setattr(zipfile.ZipFile, "__init__", never)
    assert load_submission(many, STEMS).problem == "the zip has 2,001 members: more than 2,000, refused"
    assert load_submission(long_names, STEMS).problem == (
        f"the zip's list of members takes {40 * (46 + 60_004):,} bytes: "
        f"more than {MAX_MEMBERS * 1024:,}, refused"
    )


def test_a_file_that_is_not_a_zip_at_all_is_refused(tmp_path):
    fake = tmp_path / "amy.zip"
    fake.write_text("this is a text file named .zip")
    submission = load_submission(fake, STEMS)
    assert submission.student == "amy"
    assert submission.files == {}
    assert submission.problem == "not a readable .zip file: File is not a zip file"


def test_a_truncated_zip_is_refused(tmp_path):
    whole = make_zip(tmp_path / "whole.zip", {"01_coroutines.py": ANSWER * 100}).read_bytes()
    cut = tmp_path / "ben.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    submission = load_submission(cut, STEMS)
    assert submission.files == {}
    assert submission.problem.startswith("not a readable .zip file:")


def test_a_zip_with_a_damaged_member_is_refused_whole(tmp_path):
    path = make_zip(
        tmp_path / "cleo.zip", {"01_coroutines.py": ANSWER, "02_gather.py": b"x = 2\n"}, zipfile.ZIP_STORED
    )
    path.write_bytes(path.read_bytes().replace(ANSWER, ANSWER.replace(b"42", b"43")))
    submission = load_submission(path, STEMS)
    assert submission.files == {}, "a damaged zip is not half graded"
    assert submission.problem.startswith("the zip is damaged: 01_coroutines.py: Bad CRC-32")


def test_a_missing_path_is_a_problem(tmp_path):
    submission = load_submission(tmp_path / "dan", STEMS)
    assert submission.student == "dan"
    assert submission.files == {}
    assert submission.problem == NO_SUCH_PATH == "no such file or directory"


def test_a_file_that_is_not_a_zip_by_name_is_a_problem(tmp_path):
    (tmp_path / "eve.tar.gz").write_bytes(b"\x1f\x8b")
    submission = load_submission(tmp_path / "eve.tar.gz", STEMS)
    assert submission.files == {}
    assert submission.problem == NOT_A_SUBMISSION == "not a directory or a .zip file"


# ---------------------------------------------------------------------------- student ids


def ids_and_flags(paths: list[Path]) -> dict[Path, tuple[str, list[str]]]:
    return {s.source: (s.student, s.flags) for s in load_submissions(paths, STEMS)}


@pytest.mark.parametrize("name", ["-C2-C2-C2", "=1+1", "+C2", "@SUM(A1)", "\tC2", "-", "--help"])
def test_no_id_starts_as_a_spreadsheet_formula_or_an_option(tmp_path, name):
    """A red team's folder `-C2-C2-C2` became the student id, and so the gradebook's first cell: a
    spreadsheet runs a cell starting with = + - @ as a formula (and a shell takes `-x` for an option)."""
    path = make_dir(tmp_path / name, {"01_coroutines.py": ANSWER})
    ((student, _),) = ids_and_flags([path]).values()
    assert not student.startswith(("=", "+", "-", "@", "\t", "\r")), student
    assert re.fullmatch(r"[A-Za-z0-9._-]+", student), student


def test_ids_that_collide_once_case_is_ignored_are_all_renamed_and_flagged_whatever_the_order(tmp_path):
    """ALICE (an attacker) next to alice (honest) kept the plain id alice... for ALICE, unflagged,
    while the honest alice became alice-2 and was flagged: the shell's sort decided."""
    attacker = make_dir(tmp_path / "ALICE", {"01_coroutines.py": ANSWER})
    honest = make_dir(tmp_path / "alice", {"01_coroutines.py": ANSWER})
    one_way = ids_and_flags([attacker, honest])
    assert ids_and_flags([honest, attacker]) == one_way, "the order given decides nothing"
    ids = {path: student for path, (student, _) in one_way.items()}
    assert ids[attacker].startswith("ALICE-") and ids[honest].startswith("alice-"), ids
    assert ids[attacker].casefold() != ids[honest].casefold(), "they would share a folder on macOS"
    assert one_way[attacker][1] == [
        f"student id {ids[attacker]}: renamed, as {honest} (now {ids[honest]}) also has the id ALICE "
        "(case ignored): check by hand which is whose"
    ]
    assert one_way[honest][1] == [
        f"student id {ids[honest]}: renamed, as {attacker} (now {ids[attacker]}) also has the id alice "
        "(case ignored): check by hand which is whose"
    ]


def test_an_id_that_differs_only_in_case_from_one_graded_earlier_into_the_output_is_renamed_and_flagged(
    tmp_path,
):
    """Regrading into an --out that holds alice's row: ALICE (a stub) was graded as ALICE beside
    alice, unflagged, though ids are unique once case is ignored (a red team's find: an LMS that
    ignores case, or students/ALICE/ on macOS, would mix them). The same id is that student
    graded again, and keeps it."""
    again = make_dir(tmp_path / "run2" / "alice", {"01_coroutines.py": ANSWER})
    other = make_dir(tmp_path / "run2" / "ALICE", {"01_coroutines.py": ANSWER})
    bob = make_dir(tmp_path / "run2" / "bob", {"01_coroutines.py": ANSWER})
    (submission,) = load_submissions([again], STEMS, earlier=["alice"])
    renamed, kept = load_submissions([other, bob], STEMS, earlier=["alice", "carol"])
    assert (submission.student, submission.flags) == ("alice", []), "alice graded again keeps her id"
    assert renamed.student.startswith("ALICE-") and renamed.student.casefold() != "alice"
    assert renamed.flags == [
        f"student id {renamed.student}: renamed, as alice, graded earlier into this --out, has the id "
        "ALICE once case is ignored: check by hand which is whose"
    ]
    assert (kept.student, kept.flags) == ("bob", [])


def test_a_submission_whose_name_makes_the_id_of_another_graded_earlier_is_renamed_never_graded_over_it(
    tmp_path,
):
    """A red team's find: o'brien graded into an --out, then `o brien` (a stub) graded into the same
    --out: both names make the id o_brien, and the second replaced the first's row (2/2 became
    0/2), unflagged. A folder named after another's tagged id (alice-2bd806c9) did the same. The
    names each id was given as are kept beside the gradebook: the same name is the student graded
    again and keeps the row; another name is renamed and flagged."""
    again = make_dir(tmp_path / "run2" / "o'brien", {"01_coroutines.py": ANSWER})
    other = make_dir(tmp_path / "run2" / "o brien", {"01_coroutines.py": ANSWER})
    tagged = make_dir(tmp_path / "run2" / "alice-2bd806c9", {"01_coroutines.py": ANSWER})
    zipped = make_zip(tmp_path / "run2" / "carol.zip", {"01_coroutines.py": ANSWER})
    earlier = {"o_brien": "o'brien", "alice-2bd806c9": "ALICE", "carol": "carol", "dan": None}
    (submission,) = load_submissions([again], STEMS, earlier=earlier)
    assert (submission.student, submission.flags) == ("o_brien", []), "o'brien graded again keeps the row"
    renamed, renamed_too, kept = load_submissions([other, tagged, zipped], STEMS, earlier=earlier)
    assert renamed.student.startswith("o_brien-"), renamed.student
    assert renamed.flags == [
        f"student id {renamed.student}: renamed, as the submission o'brien, graded earlier into this --out, "
        "has the id o_brien: check by hand which is whose"
    ]
    assert renamed_too.student.startswith("alice-2bd806c9-") and len(renamed_too.flags) == 1
    assert (kept.student, kept.flags) == ("carol", []), "carol's folder then her zip: the same submission"
    (unknown,) = load_submissions([make_dir(tmp_path / "run2" / "dan", {})], STEMS, earlier=earlier)
    assert (unknown.student, unknown.flags) == ("dan", []), "no name kept (an older --out): graded again"


def test_the_same_name_in_different_folders_gets_an_id_from_each_path_and_others_keep_theirs(tmp_path):
    paths = [
        make_dir(tmp_path / "a" / "alice", {"01_coroutines.py": ANSWER}),
        make_zip(tmp_path / "b" / "alice.zip", {"01_coroutines.py": ANSWER}),
        make_dir(tmp_path / "c" / "bob", {"01_coroutines.py": ANSWER}),
        make_dir(tmp_path / "d" / "alice", {"01_coroutines.py": ANSWER}),
    ]
    loaded = load_submissions(paths, STEMS)
    assert [submission.source for submission in loaded] == paths, "the order given is kept"
    assert ids_and_flags(paths[::-1]) == ids_and_flags(paths)
    alices = [loaded[0], loaded[1], loaded[3]]
    assert len({submission.student.casefold() for submission in alices}) == 3
    assert all(submission.student.startswith("alice-") for submission in alices)
    for submission in alices:
        others = [other for other in alices if other is not submission]
        assert len(submission.flags) == 1, submission.flags
        assert all(f"{other.source} (now {other.student})" in submission.flags[0] for other in others)
    assert (loaded[2].student, loaded[2].flags) == ("bob", [])


def test_a_renamed_id_never_takes_an_id_that_another_submission_has(tmp_path):
    first = ids_and_flags(
        [make_dir(tmp_path / "x" / name, {"01_coroutines.py": ANSWER}) for name in ("alice", "Alice")]
    )
    taken = [student for student, _ in first.values()]  # what alice and Alice become
    paths = [
        make_dir(tmp_path / "a" / "alice", {"01_coroutines.py": ANSWER}),
        make_dir(tmp_path / "b" / "Alice", {"01_coroutines.py": ANSWER}),
        make_dir(tmp_path / "c" / "alice-2", {"01_coroutines.py": ANSWER}),
        make_dir(tmp_path / "d" / taken[0].upper(), {"01_coroutines.py": ANSWER}),
    ]
    ids = [submission.student for submission in load_submissions(paths, STEMS)]
    assert len({student.casefold() for student in ids}) == 4, ids
    assert ids[2] == "alice-2", "alice-2 collides with no one: it is someone's real name"


def test_the_same_path_given_twice_gets_two_ids(tmp_path):
    kim = make_dir(tmp_path / "kim", {"01_coroutines.py": ANSWER})
    ids = [submission.student for submission in load_submissions([kim, kim], STEMS)]
    assert len(set(ids)) == 2 and all(student.startswith("kim-") for student in ids), ids


def test_the_same_folder_given_twice_is_graded_once_and_the_batch_says_so_in_one_line(tmp_path, monkeypatch):
    """`batch class/bob class/bob/` graded bob twice, as bob-1d1a03c6 and bob-1d1a03c6-2, each
    flagged as renamed because of the other (case ignored), though it was one path."""
    bob = make_dir(tmp_path / "class" / "bob", {"01_coroutines.py": ANSWER})
    ann = make_dir(tmp_path / "class" / "ann", {"01_coroutines.py": ANSWER})
    monkeypatch.chdir(tmp_path)
    paths, lines = distinct_paths([bob, ann, Path(f"{bob}/"), Path("class/bob/../bob")])
    assert paths == [bob, ann], "each submission once, the first spelling in its place"
    assert lines == [f"{bob} was given 3 times (also as class/bob/../bob): graded once"]
    paths, lines = distinct_paths([bob, Path(f"{bob}/")])
    assert (paths, lines) == ([bob], [f"{bob} was given twice: graded once"])
    assert ids_and_flags(paths) == {bob: ("bob", [])}, "no renaming, no flag"
    assert distinct_paths([ann, bob]) == ([ann, bob], [])


def test_the_words_case_ignored_appear_only_when_case_made_the_ids_collide(tmp_path):
    folder = make_dir(tmp_path / "alice", {"01_coroutines.py": ANSWER})
    archive = make_zip(tmp_path / "alice.zip", {"01_coroutines.py": ANSWER})
    shouting = make_dir(tmp_path / "x" / "ALICE", {"01_coroutines.py": ANSWER})
    exact = ids_and_flags([folder, archive])
    assert all("(case ignored)" not in flag for _, flags in exact.values() for flag in flags), exact
    assert exact[folder][1] == [
        f"student id {exact[folder][0]}: renamed, as {archive} (now {exact[archive][0]}) also has the id "
        "alice: check by hand which is whose"
    ]
    by_case = ids_and_flags([folder, shouting])
    assert all(
        flag.endswith("(case ignored): check by hand which is whose")
        for _, flags in by_case.values()
        for flag in flags
    ), by_case


@pytest.mark.parametrize(
    ("name", "student"),
    [
        ("José Ünal (late)", "Jos___nal__late_"),
        ("bad\nname", "bad_name"),
        ("a:b*c?", "a_b_c_"),
        (os.fsdecode(b"caf\xe9"), "caf_"),
        ("...", "___"),
        ("ok.name-1_2", "ok.name-1_2"),
    ],
)
def test_a_directory_name_becomes_a_filesystem_safe_student_id(tmp_path, name, student):
    folder = make_dir(tmp_path / name, {"01_coroutines.py": ANSWER})
    assert load_submission(folder, STEMS).student == student


@pytest.mark.parametrize(("name", "student"), [("..zip", "_"), (".zip", "_"), ("x y.ZIP", "x_y")])
def test_a_zip_name_becomes_a_safe_student_id_without_its_suffix(tmp_path, name, student):
    archive = make_zip(tmp_path / name, {"01_coroutines.py": ANSWER})
    assert load_submission(archive, STEMS).student == student


def test_a_path_like_dot_or_dot_dot_is_named_after_the_folder_it_means(tmp_path, monkeypatch):
    fay = make_dir(tmp_path / "fay", {"01_coroutines.py": ANSWER})
    (fay / "inner").mkdir()
    monkeypatch.chdir(fay)
    assert load_submission(Path("."), STEMS).student == "fay"
    assert load_submission(Path("inner/.."), STEMS).student == "fay"


def test_a_class_of_paths_none_of_which_exists_is_refused_in_one_line(tmp_path):
    from kata.batch.command import BatchUsageError, check_submission_paths

    with pytest.raises(BatchUsageError, match=r"nope: no such file or directory \(and 1 more\)$"):
        check_submission_paths([tmp_path / "nope", tmp_path / "class" / "*"], ["01_coroutines"])
    (tmp_path / "ann").mkdir()
    check_submission_paths([tmp_path / "ann", tmp_path / "bob"], ["01_coroutines"])  # bob gets a row


def test_one_folder_of_student_folders_is_refused_with_the_pattern_to_give(tmp_path):
    from kata.batch.command import BatchUsageError, check_submission_paths

    for student in ("ann", "bob"):
        (tmp_path / "class" / student / "exercises").mkdir(parents=True)
        (tmp_path / "class" / student / "exercises" / "01_coroutines.py").write_text("x = 1\n")
    with pytest.raises(BatchUsageError, match=r"one folder \(or \.zip\) per student, e\.g\. .*class/\*$"):
        check_submission_paths([tmp_path / "class"], ["01_coroutines"])
    check_submission_paths([tmp_path / "class" / "ann"], ["01_coroutines"])  # a student alone is fine
    check_submission_paths(list((tmp_path / "class").iterdir()), ["01_coroutines"])


@pytest.mark.parametrize("out", ["bob", "bob/grades", "bob/exercises/../grades"])
def test_an_out_folder_inside_a_submission_is_refused_in_one_line_before_grading(tmp_path, out):
    """`--out class/bob/grades` while grading class/bob was accepted: the reports landed in bob's
    folder, and would be read as bob's files the next time."""
    from kata.batch.command import BatchUsageError, check_out_folder

    bob = make_dir(tmp_path / "class" / "bob", {"exercises/01_coroutines.py": ANSWER})
    ann = make_zip(tmp_path / "class" / "ann.zip", {"01_coroutines.py": ANSWER})
    with pytest.raises(BatchUsageError, match=rf"^--out .*: inside the submission {re.escape(str(bob))}: "):
        check_out_folder(tmp_path / "class" / out, [ann, bob])
    check_out_folder(tmp_path / "grades", [ann, bob])
    check_out_folder(tmp_path / "class" / "bobby", [ann, bob])
    before = tree(tmp_path)
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "grade.py"), "batch", str(bob), "--out", str(bob / "grades")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert done.stderr.count("\n") == 1 and "inside the submission" in done.stderr, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert tree(tmp_path) == before, "nothing written, nothing graded"


def test_a_run_without_a_seed_keeps_the_last_runs_so_unchanged_students_are_not_graded_again(tmp_path):
    from kata.batch.cache import CACHE_FOLDER, SEED_FILE, remember_seed, remembered_seed

    assert remembered_seed(tmp_path) is None, "a first run picks a new seed"
    remember_seed(tmp_path, 81395)
    assert remembered_seed(tmp_path) == 81395
    (tmp_path / CACHE_FOLDER / SEED_FILE).write_text("not a number\n")
    assert remembered_seed(tmp_path) is None, "an edited file means a new seed, never a crash"


def test_files_named_almost_as_an_exercise_are_named_in_the_problem_with_the_right_name(tmp_path):
    student = tmp_path / "dee"
    student.mkdir()
    (student / "01_coroutine.py").write_text("x = 1\n")
    (student / "02-gather.py").write_text("x = 1\n")
    submission = load_submission(student, ["01_coroutines", "02_gather"])
    assert submission.problem.startswith(submissions.NO_FILES), submission.problem
    assert "01_coroutine.py (01_coroutines.py?)" in submission.problem, submission.problem
    assert "02-gather.py (02_gather.py?)" in submission.problem, submission.problem


# ---------------------------------------------------------------------------- a second red team on loading


def test_many_settings_files_are_parsed_only_up_to_a_budget(tmp_path):
    """A red team's zip of 1,970 pyproject.toml of 64 KB each cost the grader 13 s of its own CPU
    before anyone was graded, on every run (cached or not): settings files past 256 KB parsed in
    all are flagged unparsed instead."""
    body = "a = [" + "1," * 30_000 + "]\n"
    members = {f"p{n}/pyproject.toml": body for n in range(60)}
    archive = make_zip(tmp_path / "toml.zip", {"01_coroutines.py": ANSWER, **members})
    started = time.process_time()
    submission = load_submission(archive, STEMS, kata_root=fake_kata(tmp_path / "kata"))
    elapsed = time.process_time() - started
    assert elapsed < 2, f"loading took {elapsed:.1f} s of CPU"
    assert any("was not parsed (more than 256 KB of settings files in all)" in f for f in submission.flags)
    assert submission.files == {"01_coroutines": ANSWER}


def test_a_folder_nested_past_any_sense_is_listed_to_a_depth_and_flagged(tmp_path):
    """1,100 nested folders made os.walk (recursive in Python 3.11) raise RecursionError: the whole
    batch stopped before anyone was graded (a red team's; a .git folder does it too)."""
    deep = make_dir(tmp_path / "mallory", {"01_coroutines.py": ANSWER})
    top = deep / ".git"
    folders = [top]
    for _ in range(1_100):  # one at a time: pathlib's and os's makedirs recurse too
        folders.append(folders[-1] / "d")
    try:
        for folder in folders:
            folder.mkdir()
        (folders[-1] / "conftest.py").write_text("x = 1\n")
        submission = load_submission(deep, STEMS)
    finally:  # bottom up, one at a time: shutil.rmtree recurses too, and pytest's clean-up with it
        (folders[-1] / "conftest.py").unlink(missing_ok=True)
        for folder in reversed(folders):
            if folder.exists():
                folder.rmdir()
    assert submission.files == {"01_coroutines": ANSWER} and submission.problem is None
    assert any("folders deep: not looked inside" in flag for flag in submission.flags), submission.flags


def test_a_member_name_too_long_for_the_disk_is_flagged_not_fatal(tmp_path):
    """A zip member in a folder named with 300 characters: the kata's own path of that name raised
    ENAMETOOLONG, and the batch stopped ('File name too long'), nobody graded (a red team's)."""
    archive = make_zip(
        tmp_path / "mallory.zip", {"01_coroutines.py": ANSWER, "b" * 300 + "/conftest.py": "x = 1\n"}
    )
    submission = load_submission(archive, STEMS)
    assert submission.files == {"01_coroutines": ANSWER}
    assert any("pytest would load it" in flag for flag in submission.flags), submission.flags


def test_a_submission_that_cannot_be_read_is_its_own_row_never_the_end_of_the_batch(tmp_path, monkeypatch):
    from kata.batch import submissions

    alice = make_dir(tmp_path / "alice", {"01_coroutines.py": ANSWER})
    mallory = make_dir(tmp_path / "mallory", {"01_coroutines.py": ANSWER})
    real = submissions.load_submission

    def fails_for_mallory(path, *args, **kwargs):
        if Path(path).name == "mallory":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(submissions, "load_submission", fails_for_mallory)
    first, second = load_submissions([alice, mallory], STEMS)
    assert (first.student, first.problem) == ("alice", None)
    assert (second.student, second.files) == ("mallory", {})
    assert second.problem == "could not be read (RecursionError): look at it by hand"
