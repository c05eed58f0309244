"""The kata as a package (pip, pipx, uv) and the CI workflow, as far as they can be checked offline.

pyproject.toml is read with tomllib; the workflow is read as text (no YAML parser is a dependency).
Building and installing for real is done by hand and in CI (see the README).
"""

import os
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatchcase

from kata import cli
from kata.catalog import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
SCRIPT = "import sys; from kata.cli import entry; sys.exit(entry())"  # what the console script runs


def kata_packages() -> list[str]:
    """Every folder under kata/ with an __init__.py, as a dotted name."""
    inits = (REPO_ROOT / "kata").rglob("__init__.py")
    return sorted(".".join(init.parent.relative_to(REPO_ROOT).parts) for init in inits)


def test_package_discovery_finds_every_kata_subpackage():
    found = SETUPTOOLS.get("packages")
    assert isinstance(found, dict), "a hand-made list of packages misses new subpackages: use packages.find"
    found = found["find"]
    include, exclude = found.get("include", ["*"]), found.get("exclude", [])
    packages = kata_packages()
    assert {"kata", "kata.sandbox", "kata.batch"} <= set(packages)
    missed = [
        name
        for name in packages
        if not any(fnmatchcase(name, p) for p in include) or any(fnmatchcase(name, p) for p in exclude)
    ]
    assert missed == [], f"not in the package: {missed}"
    assert not any(fnmatchcase(name, p) for p in include for name in ("tests", "tests.harness", "bench"))


def test_every_data_file_in_kata_is_package_data():
    declared = SETUPTOOLS["package-data"]
    data = [
        path
        for path in (REPO_ROOT / "kata").rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    assert REPO_ROOT / "kata" / "originals.json" in data
    for path in data:
        package = ".".join(path.parent.relative_to(REPO_ROOT).parts)
        patterns = declared.get(package, [])
        assert any(fnmatchcase(path.name, p) for p in patterns), f"{path} would not ship in a wheel"


def test_the_async_kata_command_and_the_dev_group_are_declared():
    assert PYPROJECT["project"]["scripts"] == {"async-kata": "kata.cli:entry"}
    module, _, name = PYPROJECT["project"]["scripts"]["async-kata"].partition(":")
    assert module == cli.__name__ and callable(getattr(cli, name))
    assert PYPROJECT["dependency-groups"]["dev"] == PYPROJECT["project"]["optional-dependencies"]["dev"], (
        "`uv sync --group dev` and `pip install -e .[dev]` install the same tools"
    )


def test_async_kata_lists_the_exercises_from_another_folder(tmp_path):
    """What the console script runs (kata.cli:entry), started outside the kata's folder."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, "list", "--plain"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "KATA_STATE_DIR": str(tmp_path / "state")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^01 +coroutines", result.stdout, re.MULTILINE), result.stdout
    assert result.stderr == ""


def test_async_kata_suggests_itself_not_grade_py(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KATA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["hint", "01", "--plain"], program="async-kata") == 0
    out = capsys.readouterr().out
    assert "`async-kata hint 01 --task 1`" in out and "grade.py" not in out, out
    assert cli.main(["nosuch"], program="async-kata") == 2
    assert capsys.readouterr().err == (
        "async-kata: no exercise called 'nosuch' (try a number like 03, or `async-kata list`)\n"
    )
    usage = cli.build_parser(None, "async-kata").format_help()
    assert "usage: async-kata " in usage and "python grade.py" not in usage
    assert re.search(r"^    async-kata 03 +that exercise only", usage, re.MULTILINE), usage


def test_without_the_course_async_kata_says_what_to_do_in_one_line(tmp_path, monkeypatch, capsys):
    """Installed from a wheel, the code is in site-packages and exercises/, tests/ are nowhere near."""
    (tmp_path / "kata").mkdir()
    monkeypatch.setattr(cli, "REPO_ROOT", tmp_path)
    assert cli.entry() == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("async-kata: the kata's course files (exercises/, tests/) are not beside")
    assert "`pip install -e .`" in captured.err and "`uv tool install --editable .`" in captured.err


def _matrix_list(key: str) -> list[str]:
    match = re.search(rf"^ +{key}: \[(.*)\]$", WORKFLOW.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"the workflow's matrix has no one-line `{key}: [...]`"
    return [item.strip().strip("\"'") for item in match[1].split(",")]


def test_the_workflow_runs_the_learner_path_on_three_oses_and_four_pythons():
    assert _matrix_list("os") == ["ubuntu-latest", "windows-latest", "macos-latest"]
    assert _matrix_list("python") == ["3.11", "3.12", "3.13", "3.14"]
    text = WORKFLOW.read_text(encoding="utf-8")
    for step in (
        "grade.py list",
        "grade.py 01 --target solutions",
        "-m pytest tests/test_01_coroutines.py --target solutions",
        "bash .ci/run",
        "--resolution lowest-direct",
        "-m kata.selfcheck",
    ):
        assert step in text, f"the workflow does not run `{step}`"
    supported = PYPROJECT["project"]["requires-python"]
    assert supported == ">=3.11" and _matrix_list("python")[0] == "3.11", "the matrix starts at the floor"
