"""One stem ties four files; hints and tasks agree; the self-check's verdict rules."""

import sys
from pathlib import Path

from kata.catalog import Exercise, discover, duplicate_numbers, find, structure_problems
from kata.hints import hint_problems, parse_hints
from kata.report import TestResult
from kata.runner import Run
from kata.selfcheck import check_modes_agree, check_stubs, judge_variant, submit_rounds, variant_rounds

HINTS = """# Hints: 01_demo

## Task 1: start them together

1. A nudge
   that goes on.
2. The API: `asyncio.gather`.
3. Nearly the answer:

   `await asyncio.gather(*calls)`

## Task 2: second thing

1. Only one level.
"""


def make_exercise(root: Path, stem: str, *kinds: str) -> None:
    paths = {
        "stub": root / "exercises" / f"{stem}.py",
        "solution": root / "solutions" / f"{stem}.py",
        "tests": root / "tests" / f"test_{stem}.py",
        "hints": root / "hints" / f"{stem}.md",
    }
    for kind in kinds:
        paths[kind].parent.mkdir(parents=True, exist_ok=True)
        paths[kind].write_text(f'"""Exercise {stem[:2]}: a title"""\n' if kind != "hints" else "")


def test_an_exercise_is_found_from_any_of_its_files_and_missing_ones_are_named(tmp_path):
    make_exercise(tmp_path, "01_first", "stub", "solution", "tests", "hints")
    make_exercise(tmp_path, "02_second", "tests")
    exercises = discover(tmp_path)
    assert [e.stem for e in exercises] == ["01_first", "02_second"]
    assert structure_problems(exercises[0]) == []
    missing = structure_problems(exercises[1])
    assert len(missing) == 3 and all("is missing" in p for p in missing)


def test_exercises_are_found_by_number_stem_or_topic(tmp_path):
    make_exercise(tmp_path, "03_create_task", "stub")
    exercises = discover(tmp_path)
    for name in ("3", "03", "03_create_task", "create_task"):
        assert find(exercises, name) is exercises[0], name
    assert find(exercises, "4") is None


def test_two_stems_may_not_share_a_number(tmp_path):
    make_exercise(tmp_path, "05_a", "stub")
    make_exercise(tmp_path, "05_b", "stub")
    assert duplicate_numbers(discover(tmp_path)) == ["05_a and 05_b share the number 05"]


def test_the_stubs_title_comes_from_its_lesson(tmp_path):
    make_exercise(tmp_path, "01_first", "stub")
    assert Exercise("01_first", tmp_path).title == "a title"


def test_hint_levels_are_read_per_task_with_their_continuation_lines():
    tasks = parse_hints(HINTS)
    assert tasks[1].title == "start them together"
    assert tasks[1].levels[0] == "A nudge\nthat goes on."
    assert "await asyncio.gather(*calls)" in tasks[1].levels[2]


def test_hints_must_cover_exactly_the_tested_tasks_with_three_levels():
    problems = hint_problems("01_demo", parse_hints(HINTS), tested_tasks={1, 3})
    assert "01_demo: task 3 is tested but hints/01_demo.md has no '## Task 3:'" in problems
    assert "01_demo: hints/01_demo.md has task 2, which no test grades" in problems
    assert any("task 2 has 1 hint levels, needs 3" in p for p in problems)


def test_a_stub_that_passes_a_test_fails_the_self_check():
    run = Run(
        results=[
            TestResult("t::a", "01_demo", "a", 1, "passed"),
            TestResult("t::b", "01_demo", "b", 1, "failed"),
        ]
    )
    verdicts = {check.name: check.ok for check in check_stubs(run)}
    assert verdicts == {"stub fails t::a": False, "stub fails t::b": True}


def test_variant_rounds_hold_one_variant_per_exercise(tmp_path):
    a, b = Exercise("01_a", tmp_path), Exercise("02_b", tmp_path)
    variants = [(a, Path("wrong_1.py")), (a, Path("wrong_2.py")), (b, Path("ok_1.py")), (a, Path("ok_1.py"))]
    rounds = variant_rounds(variants)
    assert len(rounds) == 3
    for round_ in rounds:
        stems = [exercise.stem for exercise, _ in round_]
        assert len(stems) == len(set(stems))
    assert sum(len(r) for r in rounds) == len(variants)


def test_variant_rounds_start_biggest_first_the_two_modes_in_turn_and_come_back_in_order(tmp_path):
    started = []

    class Pool:
        def submit(self, _function, round_, folder, _later, extra):
            assert folder.parent == tmp_path, "each round's files go in a folder of their own"
            started.append((len(round_), extra))
            return (tuple(round_), extra)

    plain = [["a", "b", "c"], ["d"], ["e", "f"]]
    judged = [["a", "b"], ["d"]]
    rounds, judged_rounds = submit_rounds(Pool(), tmp_path, [], (plain, ("one",)), (judged, ("judge",)))
    assert started == [(3, ("one",)), (2, ("judge",)), (2, ("one",)), (1, ("one",)), (1, ("judge",))]
    assert rounds == [(tuple(r), ("one",)) for r in plain], "each kind's rounds come back in its own order"
    assert judged_rounds == [(tuple(r), ("judge",)) for r in judged]


def test_a_wrong_variant_that_declares_its_failures_must_fail_exactly_those(tmp_path):
    variant = tmp_path / "wrong_shuts_it.py"
    variant.write_text('"""Shuts the pool."""\n# fails only: test_pool_left_open\n')

    def verdict(*failing):
        results = [
            TestResult(f"t::{name}", "10_demo", name, 2, "failed" if name in failing else "passed")
            for name in ("test_counts", "test_pool_left_open")
        ]
        return judge_variant("variant", variant, results)

    assert verdict("test_pool_left_open").ok
    extra = verdict("test_counts", "test_pool_left_open")
    assert not extra.ok
    assert "declared to fail only test_pool_left_open; failed test_counts" in extra.detail
    assert not verdict("test_counts").ok
    assert not verdict().ok


def test_a_test_a_variant_fails_at_times_may_pass_or_fail_but_never_catches_it_alone(tmp_path):
    """`# fails at times: test_c`: a test the mistake trips only on some turns of the loop (a poll
    that adds time only when its look comes after the call ended) may go either way, in either
    mode; the declared tests still must fail, and a name that is no test is an error."""
    variant = tmp_path / "wrong_polls.py"
    variant.write_text('"""Polls."""\n# fails only: test_poll\n# fails at times: test_waits\n')
    names = ("test_counts", "test_poll", "test_waits")

    def results(*failing):
        return [
            TestResult(f"t::{name}", "19_demo", name, 2, "failed" if name in failing else "passed")
            for name in names
        ]

    assert judge_variant("variant", variant, results("test_poll")).ok
    assert judge_variant("variant", variant, results("test_poll", "test_waits")).ok
    assert not judge_variant("variant", variant, results("test_waits")).ok, "the declared test must catch it"
    assert not judge_variant("variant", variant, results("test_poll", "test_counts")).ok
    assert check_modes_agree(
        "variant", results("test_poll"), results("test_poll", "test_waits"), {"test_waits"}
    ).ok
    assert not check_modes_agree(
        "variant", results("test_poll"), results("test_poll", "test_counts"), {"test_waits"}
    ).ok

    undeclared = tmp_path / "wrong_polls_undeclared.py"
    undeclared.write_text('"""Polls."""\n# fails at times: test_waits\n')
    check = judge_variant("variant", undeclared, results("test_waits"))
    assert not check.ok and "caught only by tests that catch it at times" in check.detail
    assert judge_variant("variant", undeclared, results("test_poll", "test_waits")).ok
    misspelt = tmp_path / "wrong_polls_misspelt.py"
    misspelt.write_text('"""Polls."""\n# fails only: test_poll\n# fails at times: test_wait\n')
    check = judge_variant("variant", misspelt, results("test_poll"))
    assert not check.ok and "a test that did not run: test_wait" in check.detail


def test_a_variant_whose_mistake_a_later_python_mends_passes_every_test_there(tmp_path):
    """`# fails only from 3.13: none`: on that Python the variant is a correct answer, and any
    failure is the self-check's to report; before it, its declared tests must fail."""
    variant = tmp_path / "wrong_task_group_drops_a_cancel.py"
    variant.write_text(
        '"""Drops a cancel."""\n# fails only: test_cancel\n'
        f"# fails only from 3.{sys.version_info.minor}: none\n"
    )

    def results(*failing):
        return [
            TestResult(f"t::{name}", "14_demo", name, 2, "failed" if name in failing else "passed")
            for name in ("test_cancel", "test_result")
        ]

    assert judge_variant("variant", variant, results()).ok
    check = judge_variant("variant", variant, results("test_cancel"))
    assert not check.ok and "declared to fail none on this Python" in check.detail


def test_another_test_failing_only_on_time_does_not_break_a_declaration(tmp_path):
    """Under load a test can fail on time twice for any code; the mistake is still the declared one."""
    variant = tmp_path / "wrong_shuts_it.py"
    variant.write_text('"""Shuts the pool."""\n# fails only: test_pool_left_open\n')
    results = [
        TestResult("t::test_counts", "10_demo", "test_counts", 2, "failed", time_only=True),
        TestResult("t::test_pool_left_open", "10_demo", "test_pool_left_open", 2, "failed"),
    ]
    assert judge_variant("variant", variant, results).ok
    results[1] = TestResult("t::test_pool_left_open", "10_demo", "test_pool_left_open", 2, "passed")
    assert not judge_variant("variant", variant, results).ok, "the declared test must still catch it"


def test_a_caught_variant_is_reported_by_its_mistake_not_by_a_failure_on_time(tmp_path):
    variant = tmp_path / "wrong_slow.py"
    variant.write_text('"""Sequential."""\n')
    results = [
        TestResult("t::a", "10_demo", "a", 1, "failed", message="too slow", time_only=True),
        TestResult("t::b", "10_demo", "b", 1, "failed", message="ran one after another"),
    ]
    check = judge_variant("variant", variant, results)
    assert check.ok and check.detail == "caught by b: ran one after another", check.detail


def test_a_wrong_variant_without_a_declaration_only_has_to_fail_one_test(tmp_path):
    variant = tmp_path / "wrong_slow.py"
    variant.write_text('"""Sequential."""\n')
    results = [
        TestResult("t::a", "10_demo", "a", 1, "failed"),
        TestResult("t::b", "10_demo", "b", 1, "failed"),
    ]
    assert judge_variant("variant", variant, results).ok
