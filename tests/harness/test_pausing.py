"""A test's own pause ends early only when the learner's code has raised (kata.testing.pausing)."""

import asyncio

from kata.testing import clock, pause_unless_failed
from kata.testing.clock import EARLY_WAKE


async def _raise_soon():
    await asyncio.sleep(0.01)
    raise NotImplementedError


async def test_the_pause_ends_once_a_task_raises():
    task, other = asyncio.create_task(_raise_soon()), asyncio.create_task(asyncio.sleep(60))
    started = clock.perf_counter()
    assert await pause_unless_failed(60, other, task) is True
    assert clock.perf_counter() - started < 30, "waited on after the error"
    other.cancel()
    assert isinstance(task.exception(), NotImplementedError), "the error is left for the test to raise"


async def test_a_task_that_returns_or_is_cancelled_does_not_end_the_pause():
    returns = asyncio.create_task(asyncio.sleep(0))
    cancelled = asyncio.create_task(asyncio.sleep(60))
    cancelled.cancel()
    started = clock.perf_counter()
    assert await pause_unless_failed(0.2, returns, cancelled) is False
    assert clock.perf_counter() - started >= 0.2 - EARLY_WAKE, "the code must not set the pace"


async def test_a_task_that_failed_before_the_pause_ends_it_at_once():
    task = asyncio.create_task(_raise_soon())
    await asyncio.wait([task])
    started = clock.perf_counter()
    assert await pause_unless_failed(60, task) is True
    assert clock.perf_counter() - started < 30
