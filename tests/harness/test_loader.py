"""Learner files are loaded by path, and a broken file is reported in one line."""

import os
import py_compile
import re

import pytest

from kata.loader import ExerciseLoadError, load_exercise


def test_a_numbered_file_loads_by_path(tmp_path):
    (tmp_path / "07_demo.py").write_text("ANSWER = 42\n")
    module = load_exercise(tmp_path, "07_demo")
    assert module.ANSWER == 42
    assert module.__name__ == "kata_target_07_demo"


def test_each_load_is_a_fresh_module(tmp_path):
    (tmp_path / "07_demo.py").write_text("STATE = []\n")
    first = load_exercise(tmp_path, "07_demo")
    first.STATE.append(1)
    assert load_exercise(tmp_path, "07_demo").STATE == []


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    (tmp_path / "07_demo.py").write_text("x = 1\ndef broken(:\n")
    with pytest.raises(ExerciseLoadError, match=r"07_demo.py, line 2: Python cannot read this file"):
        load_exercise(tmp_path, "07_demo")


def test_an_error_while_importing_names_the_line(tmp_path):
    (tmp_path / "07_demo.py").write_text("x = 1\n\nraise RuntimeError('boom')\n")
    with pytest.raises(ExerciseLoadError, match=r"line 3: importing the file raised RuntimeError: boom"):
        load_exercise(tmp_path, "07_demo")


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(ExerciseLoadError, match="is missing"):
        load_exercise(tmp_path, "07_demo")


def test_a_save_within_the_same_second_and_of_the_same_length_is_seen(tmp_path):
    """A bytecode file of the old text, with the new text's size and modification time, as a save
    within one second leaves it: the new text is what runs."""
    source = tmp_path / "07_demo.py"
    source.write_text("ANSWER = 1\n")
    py_compile.compile(str(source), doraise=True)  # what an editor's `import` would leave
    stat = source.stat()
    source.write_text("ANSWER = 2\n")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_exercise(tmp_path, "07_demo").ANSWER == 2


def test_loading_writes_no_bytecode_next_to_the_learners_file(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.dont_write_bytecode", False)
    (tmp_path / "07_demo.py").write_text("ANSWER = 42\n")
    load_exercise(tmp_path, "07_demo")
    assert not (tmp_path / "__pycache__").exists()


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("import sys; sys.exit(0)", "called sys.exit(0)"),
        ("raise SystemExit(3)", "called sys.exit(3)"),
        ("raise KeyboardInterrupt", "raised KeyboardInterrupt"),
        ("raise GeneratorExit", "raised GeneratorExit"),
    ],
    ids=["sys_exit", "system_exit", "keyboard_interrupt", "generator_exit"],
)
def test_an_exit_while_importing_is_a_load_error_not_the_end_of_the_run(tmp_path, line, words):
    (tmp_path / "07_demo.py").write_text(f"{line}\n\nasync def work():\n    return 1\n")
    with pytest.raises(ExerciseLoadError, match=re.escape(words)) as caught:
        load_exercise(tmp_path, "07_demo")
    assert "07_demo.py, line 1: importing the file" in str(caught.value)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", [(), ("--kata-judge",)], ids=["one_process", "judge_mode"])
@pytest.mark.parametrize(
    "line", ["import sys; sys.exit(0)", "raise KeyboardInterrupt"], ids=["exit", "interrupt"]
)
@pytest.mark.load_sensitive  # 08's solution must pass
def test_a_file_that_exits_as_it_loads_fails_its_own_exercise_and_no_other(tmp_path, mode, line):
    """Batch grading runs every exercise in one pytest run: a file that ended the run (or left pytest
    unable to set up the next test) as it loaded took every later exercise's points with it."""
    from kata.catalog import REPO_ROOT
    from kata.runner import run_tests, with_second_chance

    solutions = REPO_ROOT / "solutions"
    (tmp_path / "07_async_with.py").write_text(f"{line}\n" + (solutions / "07_async_with.py").read_text())
    (tmp_path / "08_async_for.py").write_text((solutions / "08_async_for.py").read_text())
    tests = [REPO_ROOT / "tests" / f"test_{stem}.py" for stem in ("07_async_with", "08_async_for")]
    run = run_tests(tests, tmp_path, wall_limit=100, extra=mode)
    # As grade.py does: a failure only on time (a loop frozen by the machine's load) runs again.
    run = with_second_chance(run, tmp_path, wall_limit=100, extra=mode)
    by_stem = run.by_stem()
    assert by_stem["08_async_for"] and all(r.outcome == "passed" for r in by_stem["08_async_for"]), [
        (r.test, r.outcome, r.message[:200]) for r in by_stem["08_async_for"] if r.outcome != "passed"
    ]
    failed = by_stem["07_async_with"]
    assert failed and all(r.outcome != "passed" for r in failed)
    assert all("07_async_with.py, line 1: importing the file" in r.message for r in failed), failed[0].message


def test_a_time_limit_running_out_while_the_file_loads_is_the_tests_timeout_not_a_load_error(tmp_path):
    """The test's limit (kata.timeouts.TimedOut, a SystemExit too) is pytest's outcome: it says the
    test did not finish in time and where the code was, not that the file called sys.exit()."""
    from kata.timeouts import TimedOut

    source = "from kata.timeouts import TimedOut\nraise TimedOut('out of time')\n"
    (tmp_path / "07_demo.py").write_text(source)
    with pytest.raises(TimedOut):
        load_exercise(tmp_path, "07_demo")


@pytest.mark.parametrize("line", ["import anyio", "from anyio import fail_after"])
def test_what_a_library_of_the_file_loads_on_first_use_is_loaded_with_the_file(tmp_path, monkeypatch, line):
    # anyio loads its asyncio backend on its first use: on the event loop, 30 ms idle, and under the
    # self-check's load a freeze the loop guard blamed on the learner's `anyio.fail_after(...)` line.
    import sys

    monkeypatch.delitem(sys.modules, "anyio._backends._asyncio", raising=False)
    (tmp_path / "07_demo.py").write_text(f"{line}\n")
    load_exercise(tmp_path, "07_demo")
    assert "anyio._backends._asyncio" in sys.modules


def test_a_file_that_uses_no_such_library_loads_nothing_more(tmp_path, monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "anyio._backends._asyncio", raising=False)
    (tmp_path / "07_demo.py").write_text("import asyncio\n")
    load_exercise(tmp_path, "07_demo")
    assert "anyio._backends._asyncio" not in sys.modules
