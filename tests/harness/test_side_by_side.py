"""grade.py runs an exercise's tests in three children at once: the verdicts are the ones one child gives."""

from pathlib import Path

import pytest

from kata.catalog import REPO_ROOT
from kata.runner import named_tests, run_tests, run_tests_side_by_side

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
    one = run_tests([TESTS], target, wall_limit=120, extra=EXTRA)
    side_by_side = run_tests_side_by_side(TESTS, target, wall_limit=120, extra=EXTRA)
    assert outcomes(side_by_side) == outcomes(one)
    assert [r.id for r in side_by_side.results] == [r.id for r in one.results], "in the file's order"


def test_the_test_functions_are_read_without_importing_the_file(tmp_path):
    source = tmp_path / "test_x.py"
    source.write_text(
        "raise SystemExit('imported!')\ndef test_b(): pass\nasync def test_a(): pass\ndef helper(): pass\n"
    )
    assert named_tests(source) == ["test_b", "test_a"]
    assert named_tests(Path(tmp_path / "missing.py")) == []
