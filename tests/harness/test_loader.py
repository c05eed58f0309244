"""Learner files are loaded by path, and a broken file is reported in one line."""

import os
import py_compile

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
