"""The learner-facing checks: exact comparison, and concurrency verdicts with timelines."""

import asyncio

import pytest

from kata.testing import (
    FakeService,
    assert_peak_in_flight,
    assert_ran_together,
    assert_same,
    margins,
    same,
    stopwatch,
)

DELAY = 0.05


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def test_an_object_that_equals_everything_is_not_the_expected_value():
    assert not same(AlwaysEqual(), [1, 2, 3])
    assert not same([AlwaysEqual()], [1])
    assert not same({"a": AlwaysEqual()}, {"a": 1})


def test_types_must_match_exactly():
    assert not same(True, 1), "True is not 1"
    assert not same((1, 2), [1, 2]), "a tuple is not a list"
    assert not same(1.0, 1), "a float is not an int"
    assert same({"a": [1, (2, "x")], "b": None}, {"b": None, "a": [1, (2, "x")]})


def test_exceptions_compare_by_type_and_arguments():
    assert same(ValueError("x"), ValueError("x"))
    assert not same(ValueError("x"), KeyError("x"))


def test_a_wrong_result_is_explained_with_types():
    with pytest.raises(AssertionError, match=r"should be \[1, 2\] \(a list\), found \(1, 2\) \(a tuple\)"):
        assert_same((1, 2), [1, 2], "the result")


async def test_sequential_calls_are_reported_with_a_timeline():
    service = FakeService("fetch", delay=DELAY)
    with stopwatch() as run:
        for n in range(4):
            await service(n)
    with pytest.raises(AssertionError) as failure:
        assert_ran_together(service, run.elapsed, expected_calls=4)
    message = str(failure.value)
    assert "your 4 calls to fetch ran one after another" in message
    assert "expected (all at once):" in message and "observed:" in message
    assert message.count("fetch(") == 8, "each call is drawn once expected, once observed"


async def test_concurrent_calls_pass():
    service = FakeService("fetch", delay=DELAY)
    with stopwatch() as run:
        await asyncio.gather(*(service(n) for n in range(4)))
    assert_ran_together(service, run.elapsed, expected_calls=4)
    assert service.peak == 4


async def test_partly_concurrent_calls_report_how_many_overlapped():
    service = FakeService("fetch", delay=DELAY)
    limit = asyncio.Semaphore(2)

    async def limited(n):
        async with limit:
            return await service(n)

    with stopwatch() as run:
        await asyncio.gather(*(limited(n) for n in range(4)))
    overlapped = "only 2 of your 4 calls to fetch were running at the same time"
    with pytest.raises(AssertionError, match=overlapped) as failure:
        assert_ran_together(service, run.elapsed, expected_calls=4)
    # Two at a time took about 0.2 s; the 0.4 s of one after another is not what happened.
    message = str(failure.value)
    assert f"{run.elapsed:.2f} s in all" in message and f"{4 * DELAY:.2f} s" not in message, message


async def test_too_few_calls_at_once_is_a_failure_a_busy_machine_can_cause():
    # A call that starts late on a busy machine can start after an earlier one ended: the
    # shortfall is marked as a failure on time, so it gets a second run before the learner is told.
    service = FakeService("fetch", delay=DELAY)

    async def late(n):
        await asyncio.sleep(DELAY * 1.5 * (n == 3))
        return await service(n)

    with stopwatch() as run:
        await asyncio.gather(*(late(n) for n in range(4)))
    with pytest.raises(AssertionError, match="only 3 of your 4 calls to fetch"):
        assert_ran_together(service, run.elapsed, expected_calls=4)
    assert margins.broken == ["ran together: every call in flight at once"]


async def test_overlapping_calls_followed_by_a_long_wait_are_too_slow():
    service = FakeService("fetch", delay=DELAY)
    with stopwatch() as run:
        await asyncio.gather(*(service(n) for n in range(4)))
        await asyncio.sleep(DELAY * 2)
    with pytest.raises(AssertionError, match="overlapped, but the whole run took"):
        assert_ran_together(service, run.elapsed, expected_calls=4)


async def test_a_wrong_number_of_calls_is_reported_first():
    service = FakeService("fetch", delay=0)
    await service(1)
    with pytest.raises(AssertionError, match="expected 3 calls to fetch, found 1 call"):
        assert_ran_together(service, 0.0, expected_calls=3)


async def test_the_fake_records_replies_failures_and_cancellations():
    service = FakeService(
        "fetch", delay=0, reply=lambda n: n * 10, fail=lambda n: ValueError(n) if n == 2 else None
    )
    assert await service(1) == 10
    with pytest.raises(ValueError):
        await service(2)
    slow = FakeService("slow", delay=10)
    task = asyncio.create_task(slow(3))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [c.outcome for c in service.calls] == ["returned", "raised"]
    assert slow.calls[0].outcome == "cancelled" and slow.in_flight == 0


def test_patching_the_clock_is_found_and_undone(monkeypatch):
    import time

    from kata.testing import clock

    real = time.perf_counter
    time.perf_counter = lambda: 0.0
    clock.monotonic = lambda: 0.0
    assert clock.find_tampering() == ["time.perf_counter", "kata.testing.clock.monotonic"]
    assert time.perf_counter is real and clock.find_tampering() == []


async def test_a_call_still_running_is_named_before_any_overlap_verdict():
    service = FakeService("fetch", delay=10)
    task = asyncio.create_task(service(1))
    await asyncio.sleep(0)
    try:
        with pytest.raises(AssertionError, match=r"returned while fetch\(1\) was still running"):
            assert_ran_together(service, 0.0, expected_calls=1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def limited_run(limit_each_call: bool, bound: int, calls: int) -> FakeService:
    service = FakeService("fetch", delay=DELAY)
    shared = asyncio.Semaphore(bound)

    async def one(n):
        async with asyncio.Semaphore(bound) if limit_each_call else shared:
            return await service(n)

    await asyncio.gather(*(one(n) for n in range(calls)))
    return service


async def test_the_peak_must_equal_the_limit():
    assert_peak_in_flight(await limited_run(False, 3, 7), limit=3, expected_calls=7)


async def test_a_limit_made_per_call_is_caught():
    service = await limited_run(True, 3, 7)
    with pytest.raises(AssertionError, match="7 calls to fetch ran at the same time; at most 3 may"):
        assert_peak_in_flight(service, limit=3, expected_calls=7)


async def test_staying_below_the_limit_is_caught_too():
    service = await limited_run(False, 2, 7)
    with pytest.raises(
        AssertionError, match="at most 2 of your calls to fetch ran at the same time, though 3 may"
    ):
        assert_peak_in_flight(service, limit=3, expected_calls=7)
    assert margins.broken == ["peak in flight: the limit reached"], "load can keep a slot empty"


async def test_going_over_the_limit_is_never_put_down_to_a_busy_machine():
    service = await limited_run(True, 3, 7)
    with pytest.raises(AssertionError, match="at most 3 may"):
        assert_peak_in_flight(service, limit=3, expected_calls=7)
    assert margins.broken == [], "a busy machine never runs more calls at once"
