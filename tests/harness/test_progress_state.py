"""The progress file and the record of shipped stubs: what grade.py remembers, and how safely."""

import json
from pathlib import Path

from kata.catalog import Exercise, discover
from kata.originals import digest, load_originals, originals_problems, record_originals
from kata.state import ProgressFile

TARGET = Path("/course/exercises")


def test_progress_survives_a_save_and_a_reload(tmp_path):
    progress = ProgressFile(tmp_path / "progress.json")
    record = progress.record(TARGET, "02_gather")
    record.passed, record.fingerprint, record.hints["1"] = True, "abc", 2
    progress.save()

    again = ProgressFile(tmp_path / "progress.json").record(TARGET, "02_gather")
    assert (again.passed, again.fingerprint, again.hints) == (True, "abc", {"1": 2})


def test_an_unreadable_progress_file_is_set_aside_not_deleted(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text("{half a file")

    progress = ProgressFile(path)

    assert progress.warning and "unreadable" in progress.warning and "\n" not in progress.warning
    kept = list(tmp_path.glob("progress.json.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{half a file", "the old file must be kept as it was"
    progress.record(TARGET, "01_coroutines").passed = True
    progress.save()
    assert json.loads(path.read_text())["version"] == 1, "a fresh, valid file is written"


def test_a_progress_file_from_another_version_is_set_aside_too(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text(json.dumps({"version": 99, "targets": {}}))
    assert "unknown version" in ProgressFile(path).warning


def test_two_grade_py_processes_do_not_undo_each_other(tmp_path):
    """watch in one terminal, hint in another: each save keeps what the other saved."""
    path = tmp_path / "progress.json"
    watch, hint = ProgressFile(path), ProgressFile(path)
    watch.record(TARGET, "01_coroutines").passed = True
    watch.save()
    hint.record(TARGET, "01_coroutines")  # only read: not a change
    hint.record(TARGET, "02_gather").hints["1"] = 1
    hint.save()

    records = ProgressFile(path).records(TARGET)
    assert records["01_coroutines"].passed, "the pass saved by the other process was lost"
    assert records["02_gather"].hints == {"1": 1}


def test_saving_leaves_no_temporary_files_behind(tmp_path):
    progress = ProgressFile(tmp_path / "progress.json")
    for n in range(3):
        progress.record(TARGET, "01_coroutines").seconds = n
        progress.save()
    assert [p.name for p in tmp_path.iterdir()] == ["progress.json"]


def _course(root: Path, stub: str) -> list[Exercise]:
    (root / "exercises").mkdir(parents=True, exist_ok=True)
    (root / "exercises" / "01_demo.py").write_text(stub)
    return [Exercise("01_demo", root)]


def test_the_record_of_stubs_restores_them_byte_for_byte(tmp_path):
    stub = '"""Exercise 01: a demo"""\r\n\nasync def f():\n    raise NotImplementedError\n'
    exercises = _course(tmp_path, stub)
    record_originals(exercises, tmp_path / "originals.json")

    original = load_originals(tmp_path / "originals.json")["01_demo"]
    assert original.text == stub and original.sha256 == digest(stub.encode())
    assert original.title == "a demo"
    assert original.matches(tmp_path / "exercises" / "01_demo.py")


def test_the_self_check_notices_a_stub_changed_after_it_was_recorded(tmp_path):
    exercises = _course(tmp_path, '"""Exercise 01: a demo."""\n')
    record_originals(exercises, tmp_path / "originals.json")
    assert originals_problems(exercises, whole_course=True, path=tmp_path / "originals.json") == []

    (tmp_path / "exercises" / "01_demo.py").write_text('"""Exercise 01: a demo, changed."""\n')
    problems = originals_problems(exercises, whole_course=True, path=tmp_path / "originals.json")
    assert problems == ["01_demo: exercises/01_demo.py differs from kata/originals.json"]


def test_the_shipped_record_covers_every_exercise():
    originals = load_originals()
    assert sorted(originals) == [e.stem for e in discover()], (
        "run: python -m kata.selfcheck --record-originals"
    )
