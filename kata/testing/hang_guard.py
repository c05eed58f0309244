"""A test's own limit on how long the code under test may run: a failure in plain words instead
of a hang, counted as on time (kata.testing.margins.gave_up)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from kata.testing import clock, margins


@contextlib.asynccontextmanager
async def hang_guard(limit: float, check: str, message: str | Callable[[], str]) -> AsyncIterator[None]:
    """Fail with `message` if the block has not ended `limit` s after it began, instead of hanging.

    `message` may be a function, called at that moment, for words that say how far the code got.
    Correct code ends far sooner; it runs past the limit only when the machine is busy (its process
    waits for a core, or in judge mode for the other process), so this counts as a failure on time.
    Code that hangs does it every time. A TimeoutError of the code's own passes through.
    """
    started = clock.perf_counter()
    guard = asyncio.timeout(limit)
    try:
        async with guard:
            yield
    except TimeoutError:
        if not guard.expired():
            raise
        margins.gave_up(clock.perf_counter() - started, limit, check)
        raise AssertionError(message() if callable(message) else message) from None
