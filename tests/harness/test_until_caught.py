"""`--kata-until-caught`: the self-check stops an exercise's tests once one has caught a wrong
variant, and runs every test of every other exercise in the same run."""

import textwrap

import pytest

from kata.runner import run_tests
from kata.until_caught import OPTION
from tests.harness.test_guard import make_suite

pytestmark = pytest.mark.timeout(120)

TESTS = """
from kata.testing import margins

def test_first(ex):
    if margins.over(ex.seconds_taken(), 0.3, "99 demo: fast enough"):
        raise AssertionError("too slow")

def test_second(ex):
    assert ex.answer() == 42, "wrong answer"

def test_third(ex):
    assert ex.answer() == 42, "wrong answer again"
"""

WRONG = """
def seconds_taken():
    return 0.5  # as a busy machine could make it

def answer():
    return 41
"""


def _outcomes(tmp_path, option: str) -> dict[str, str]:
    test_file, target = make_suite(tmp_path, learner=WRONG, tests=TESTS)
    # A second exercise in the same run, the same tests and the same wrong code, not named.
    other = test_file.with_name("test_98_other.py")
    other.write_text(textwrap.dedent(TESTS))
    (target / "98_other.py").write_text(textwrap.dedent(WRONG))
    run = run_tests([test_file, other], target, wall_limit=60, cwd=tmp_path, extra=[OPTION, option])
    return {f"{r.stem}::{r.test}": f"{r.outcome}: {(r.message.splitlines() or [''])[0]}" for r in run.results}


def test_once_caught_the_rest_of_that_exercise_is_skipped_and_other_exercises_run_in_full(tmp_path):
    outcomes = _outcomes(tmp_path, "99_demo")
    assert outcomes == {
        # A failure on time does not count as caught: a second run may clear it.
        "99_demo::test_first": "failed: too slow",
        "99_demo::test_second": "failed: wrong answer",
        "99_demo::test_third": "skipped: ",
        "98_other::test_first": "failed: too slow",
        "98_other::test_second": "failed: wrong answer",
        "98_other::test_third": "failed: wrong answer again",
    }
