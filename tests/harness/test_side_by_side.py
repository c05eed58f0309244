"""grade.py runs an exercise's tests in three to six children at once: the verdicts one child gives."""

from pathlib import Path

import pytest

from kata import side_by_side
from kata import typical_seconds as typical_seconds_module
from kata.catalog import REPO_ROOT, discover
from kata.checking import Checker
from kata.originals import load_originals
from kata.report import TestResult
from kata.runner import Run, run_tests, with_second_chance
from kata.side_by_side import (
    CHILD_START,
    children_for,
    deal_out,
    named_tests,
    run_tests_side_by_side,
    seconds_by_test,
)
from kata.state import ProgressFile
from kata.typical_seconds import typical_seconds

pytestmark = pytest.mark.timeout(300)

EXERCISE = "05_errors"
TESTS = REPO_ROOT / "tests" / f"test_{EXERCISE}.py"
EXTRA = ["--timeout", "10"]


def outcomes(run) -> dict[str, str]:
    return {result.id: result.outcome for result in run.results}


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(REPO_ROOT / "solutions", id="solution"),
        pytest.param(REPO_ROOT / "exercises", id="stub"),
        pytest.param(None, id="wrong-variant"),
    ],
)
def test_side_by_side_gives_every_test_the_verdict_one_child_gives(target, tmp_path):
    if target is None:
        wrong = sorted((REPO_ROOT / "tests" / "variants" / EXERCISE).glob("wrong_*.py"))[0]
        target = tmp_path
        (target / f"{EXERCISE}.py").write_bytes(wrong.read_bytes())
    # Judged as grade.py judges: a failure only on time (a busy machine) gets its second run.
    one = with_second_chance(run_tests([TESTS], target, wall_limit=120, extra=EXTRA), target, wall_limit=120)
    split = with_second_chance(
        run_tests_side_by_side(TESTS, target, wall_limit=120, extra=EXTRA), target, wall_limit=120
    )
    assert outcomes(split) == outcomes(one)
    assert [r.id for r in split.results] == [r.id for r in one.results], "in the file's order"


def test_the_test_functions_are_read_without_importing_the_file(tmp_path):
    source = tmp_path / "test_x.py"
    source.write_text(
        "raise SystemExit('imported!')\ndef test_b(): pass\nasync def test_a(): pass\ndef helper(): pass\n"
    )
    assert named_tests(source) == ["test_b", "test_a"]
    assert named_tests(Path(tmp_path / "missing.py")) == []


def test_without_recorded_times_the_tests_are_dealt_out_in_turn():
    names = [f"test_{n}" for n in range(7)]
    assert deal_out(names, 3) == [["test_0", "test_3", "test_6"], ["test_1", "test_4"], ["test_2", "test_5"]]


def test_with_recorded_times_each_child_gets_about_the_same_time_in_the_files_order():
    seconds = {"test_a": 0.8, "test_b": 0.1, "test_c": 0.5, "test_d": 0.4, "test_e": 0.3, "test_f": 0.7}
    groups = deal_out(list(seconds), 3, seconds)
    totals = sorted(round(sum(seconds[n] for n in group), 2) for group in groups)
    assert totals == [0.9, 0.9, 1.0], f"dealt out as {groups}: the slowest child sets the time"
    assert sorted(n for group in groups for n in group) == sorted(seconds), "every test once"
    assert all(group == sorted(group) for group in groups), "each child runs its tests in the file's order"


def test_a_test_not_seen_last_time_counts_as_a_typical_one():
    seconds = {"test_a": 1.0, "test_b": 0.2, "test_c": 0.2}
    groups = deal_out(["test_a", "test_b", "test_c", "test_new"], 2, seconds)
    assert ["test_a"] in groups, f"the long test has a child to itself: {groups}"


def test_the_seconds_of_a_tests_parameters_add_up_under_its_function():
    results = [
        TestResult("t.py::test_a[x]", "t", "test_a[x]", 1, seconds=0.25),
        TestResult("t.py::test_a[y]", "t", "test_a[y]", 1, seconds=0.5),
        TestResult("t.py::test_b", "t", "test_b", 1, seconds=0.125),
    ]
    assert seconds_by_test(results) == {"test_a": 0.75, "test_b": 0.125}


@pytest.mark.parametrize(("tests", "children"), [(1, 1), (3, 1), (4, 2), (5, 2), (6, 3), (9, 3)])
def test_each_child_gets_two_tests_at_least(tests, children, tmp_path, monkeypatch):
    source = tmp_path / "test_x.py"
    source.write_text("".join(f"def test_{n}(): pass\n" for n in range(tests)))
    started = []

    def run_tests(files, target, **kwargs):
        started.append(files)
        return Run(label="x")

    monkeypatch.setattr(side_by_side, "run_tests", run_tests)
    run_tests_side_by_side(source, tmp_path, wall_limit=10)
    assert len(started) == children, f"{tests} tests went to {len(started)} children: {started}"
    if children == 1:
        assert started == [[source]], "one child runs the whole file"
    else:
        assert all(len(files) >= 2 for files in started), f"a child with one test: {started}"


def test_one_more_child_only_when_its_group_ends_the_tests_sooner_than_a_child_starts():
    names = [f"test_{n}" for n in range(12)]
    even = dict.fromkeys(names, 0.5)  # 2 s a child in three, 1.5 s in four, 1 s in six
    assert children_for(names, None, cores=2) == 3, "no last check: three children"
    assert children_for(names, even, cores=2) == 6, "six groups of 1 s end sooner than six children start"
    assert children_for(names, dict.fromkeys(names, 0.3), cores=2) == 4, (
        "two more children cost more than the 0.3 s they save"
    )
    assert children_for(names[:8], even, cores=2) == 4, "two tests a child at least: four for eight"
    assert children_for(names[:7], even, cores=2) == 3, "two tests a child at least: three for seven"
    one_long = {**dict.fromkeys(names, 0.1), "test_0": 2.0}  # 2.0 s in one child, however many
    assert children_for(names, one_long, cores=2) == 3, "the longest test decides: no sooner with more"
    # Four groups end 2 * 0.03 = 0.06 s sooner; a fourth child on two cores costs CHILD_START / 2.
    short = dict.fromkeys(names, 0.03)
    assert CHILD_START / 2 > 0.06
    assert children_for(names, short, cores=2) == 3, "one more child would start slower than it saves"
    assert children_for(names, short, cores=8) == 6, "with a core for each child, it costs no more"


def test_a_first_check_deals_the_tests_out_by_their_reference_seconds(tmp_path):
    """Before the first check, the seconds the tests take on the reference solution; not for the
    untouched stub (its tests fail at once); from then on, the last check's (most checks are of
    code still failing, about as fast as last time)."""
    exercise = next(e for e in discover() if e.stem == "14_as_completed")
    mine = tmp_path / "work" / f"{exercise.stem}.py"
    mine.parent.mkdir()
    checker = Checker(mine.parent, ProgressFile(tmp_path / "progress.json"), load_originals())
    typical = typical_seconds(exercise.stem)
    assert typical, "the course records 14's tests' seconds on its reference"
    mine.write_bytes(exercise.solution.read_bytes())
    assert checker.dealing_seconds(exercise, mine) == typical, "a first check: the reference's seconds"
    mine.write_bytes(exercise.stub.read_bytes())
    assert checker.dealing_seconds(exercise, mine) == {}, "the untouched stub: dealt in turn"
    checker.record(exercise).test_seconds = {"test_every_call_runs_at_the_same_time": 0.01}
    mine.write_bytes(exercise.solution.read_bytes())
    assert checker.dealing_seconds(exercise, mine) == {"test_every_call_runs_at_the_same_time": 0.01}


def test_recording_seconds_keeps_the_other_exercises_records(tmp_path, monkeypatch):
    record = tmp_path / "typical.json"
    record.write_text('{"01_coroutines": {"test_a": 0.5}}', encoding="utf-8")
    monkeypatch.setattr(typical_seconds_module, "TYPICAL", record)
    passed = TestResult("t.py::test_b", "14_as_completed", "test_b", 2, "passed", seconds=0.25)
    monkeypatch.setattr(typical_seconds_module, "run_tests", lambda *args, **options: Run(results=[passed]))
    exercise = next(e for e in discover() if e.stem == "14_as_completed")
    assert typical_seconds_module.record_typical_seconds([exercise]) == []
    assert typical_seconds("01_coroutines") == {"test_a": 0.5}, "another exercise's record is kept"
    assert typical_seconds("14_as_completed") == {"test_b": 0.25}


def test_a_missing_or_unreadable_record_of_seconds_is_no_record(tmp_path, monkeypatch):
    monkeypatch.setattr(typical_seconds_module, "TYPICAL", tmp_path / "absent.json")
    assert typical_seconds("14_as_completed") == {}
    broken = tmp_path / "broken.json"
    broken.write_text('{"14_as_completed": {"test_a": "slow", "test_b": 0.5}, "15": [1]', encoding="utf-8")
    monkeypatch.setattr(typical_seconds_module, "TYPICAL", broken)
    assert typical_seconds("14_as_completed") == {}
    broken.write_text(
        '{"14_as_completed": {"test_a": "slow", "test_b": 0.5}, "15_semaphore": [1]}', encoding="utf-8"
    )
    assert typical_seconds("14_as_completed") == {"test_b": 0.5}, "nonsense values are left out"
    assert typical_seconds("15_semaphore") == {}
