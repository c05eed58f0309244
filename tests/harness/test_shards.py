"""`pytest -p kata.shards --kata-shard K/N`: the self-check splits a slow harness file into parts
that share the jobs; together the parts run every test exactly once."""

import pytest

from kata.runner import run_tests
from kata.shards import OPTION, part_of
from tests.harness.test_guard import make_suite

pytestmark = pytest.mark.timeout(120)

TESTS = "\n".join(f"def test_{n}(ex):\n    assert ex.answer() == 42\n" for n in range(7))


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 9])
def test_the_parts_of_a_list_are_consecutive_and_cover_it_once(parts):
    items = list(range(7))
    slices = [part_of(items, part, parts) for part in range(1, parts + 1)]
    assert [item for piece in slices for item in piece] == items
    assert max(map(len, slices)) - min(map(len, slices)) <= 1, slices


def test_each_part_runs_and_reports_only_its_own_tests(tmp_path):
    test_file, target = make_suite(tmp_path, learner="def answer():\n    return 42\n", tests=TESTS)
    seen = []
    for part in ("1/3", "2/3", "3/3"):
        run = run_tests(
            [test_file], target, wall_limit=60, cwd=tmp_path, extra=["-p", "kata.shards", OPTION, part]
        )
        assert all(r.outcome == "passed" for r in run.results), [r.message for r in run.results]
        seen.append([r.test for r in run.results])
    assert seen == [["test_0", "test_1"], ["test_2", "test_3"], ["test_4", "test_5", "test_6"]]


@pytest.mark.parametrize("value", ["2", "0/3", "4/3", "a/b"])
def test_a_part_that_is_not_k_of_n_is_a_usage_error(tmp_path, value):
    test_file, target = make_suite(tmp_path, learner="def answer():\n    return 42\n", tests=TESTS)
    run = run_tests(
        [test_file], target, wall_limit=60, cwd=tmp_path, extra=["-p", "kata.shards", OPTION, value]
    )
    assert run.returncode == 4 and f"{OPTION} {value}:" in run.output, run.output
