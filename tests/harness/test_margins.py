"""The flake benchmark's record of how near each timing judgment came to its bound."""

from __future__ import annotations

import json

import pytest

from kata.bench.measure import read_margins
from kata.testing import margins


@pytest.fixture
def margins_file(tmp_path, monkeypatch):
    path = tmp_path / "margins.jsonl"
    monkeypatch.setenv(margins.ENV, str(path))
    monkeypatch.setattr(margins, "target", "solutions")
    return path


def judged_in(monkeypatch, test_id):
    """Record as if inside the test `test_id` (pytest sets this variable at each phase of a test)."""
    monkeypatch.setenv("PYTEST_CURRENT_TEST", f"{test_id} (call)")


def records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_over_is_true_only_when_the_upper_bound_is_reached(margins_file):
    assert margins.over(0.30, 0.40, "upper") is False
    assert margins.over(0.40, 0.40, "upper") is True, "reaching an upper bound breaks it"
    assert margins.over(0.50, 0.40, "upper") is True


def test_under_is_true_only_when_below_the_lower_bound(margins_file):
    assert margins.under(0.20, 0.195, "lower") is False
    assert margins.under(0.195, 0.195, "lower") is False, "sitting on a lower bound keeps it"
    assert margins.under(0.19, 0.195, "lower") is True


def test_each_judgment_is_recorded_with_a_ratio_where_one_is_the_edge(margins_file, monkeypatch):
    judged_in(monkeypatch, "tests/test_11_timeouts.py::test_x")
    margins.over(0.30, 0.60, "upper")
    margins.under(0.20, 0.19, "lower", unit="s")
    margins.under(400, 3, "ticks", unit="ticks")
    upper, lower, ticks = records(margins_file)
    assert upper["ratio"] == 0.5 and upper["upper"] is True
    assert lower["ratio"] == pytest.approx(0.95) and lower["upper"] is False
    assert ticks["unit"] == "ticks"
    assert upper["test"] == "tests/test_11_timeouts.py::test_x"
    assert upper["target"] == "solutions"


def test_nothing_is_written_in_an_ordinary_run(tmp_path, monkeypatch):
    monkeypatch.delenv(margins.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert margins.over(1.0, 0.5, "upper") is True
    assert list(tmp_path.iterdir()) == []


def test_the_benchmark_keeps_the_nearest_approach_and_counts_every_judgment(margins_file, monkeypatch):
    judged_in(monkeypatch, "tests/test_11_timeouts.py::test_x")
    margins.over(0.30, 0.60, "upper")
    margins.over(0.45, 0.60, "upper")
    margins.over(0.40, 0.60, "upper")
    margins.under(0.21, 0.19, "lower")
    found = {}
    read_margins(margins_file, found)
    assert found["upper"].observed == 0.45 and found["upper"].judged == 3
    assert found["upper"].headroom == pytest.approx(0.15)
    assert found["lower"].upper is False and found["lower"].headroom == pytest.approx(0.02)


def test_the_benchmark_ignores_other_targets_and_the_harness_own_tests(margins_file, monkeypatch):
    judged_in(monkeypatch, "tests/test_11_timeouts.py::test_x")
    monkeypatch.setattr(margins, "target", "kata-variants-x")
    margins.over(0.9, 1.0, "wrong code comes near")
    monkeypatch.setattr(margins, "target", "solutions")
    judged_in(monkeypatch, "tests/harness/test_guard.py::test_y")
    margins.over(5.0, 1.0, "broken on purpose")
    with margins_file.open("a") as out:
        out.write("not json\n")
    found = {}
    read_margins(margins_file, found)
    assert found == {}


def test_calls_that_finished_after_the_news_are_a_failure_on_time(monkeypatch):
    from kata.testing.cancelling import finished_too_late_to_stop
    from kata.testing.fakes import Call

    monkeypatch.setattr(margins, "broken", [])
    failed = [Call(args=("bad",), start=0.0, end=0.05, outcome="raised")]
    after = [Call(args=("a",), start=0.0, end=0.5, outcome="returned")]
    assert finished_too_late_to_stop(after, failed, "late cancel") is True, "a cancel that came late"
    assert margins.broken == ["late cancel"]
    margins.broken.clear()
    before = [Call(args=("a",), start=0.0, end=0.03, outcome="returned"), *after]
    assert finished_too_late_to_stop(before, failed, "late cancel") is False, "one ended before the failure"
    assert finished_too_late_to_stop(after, [], "late cancel") is False, "no failure seen"
    assert margins.broken == []


@pytest.mark.asyncio
async def test_a_function_that_runs_past_its_time_or_past_its_cancel_is_the_test_giving_up(monkeypatch):
    import asyncio

    from kata.testing import cancelling
    from kata.testing.cancelling import Run

    monkeypatch.setattr(margins, "broken", [])
    monkeypatch.setattr(margins, "gave_up_on", [])
    monkeypatch.setattr(cancelling, "WAIT", 0.05)

    async def ends_soon():
        await asyncio.sleep(0.01)

    assert await Run(ends_soon()).finish(1.0) is True
    assert margins.broken == [], "a function that ended in time broke nothing"

    never_cancelled = Run(asyncio.Event().wait())
    assert await never_cancelled.finish(0.05) is False
    assert margins.only_gave_up() and len(margins.broken) == 1, margins.broken
    await never_cancelled.stop()
    margins.clear()

    async def slow_to_stop():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # a cleanup far longer than WAIT
            raise

    slow = Run(slow_to_stop())
    await asyncio.sleep(0)
    slow.cancel("while it slept")
    assert await slow.finish(1.0) is False
    assert margins.broken == ["cancelling: stops < WAIT once cancelled"] and margins.only_gave_up()
    await asyncio.wait({slow.task})
