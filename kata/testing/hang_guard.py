"""A test's own limit on how long the code under test may run: a failure in plain words instead
of a hang, counted as on time (kata.testing.margins.gave_up)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from kata import where
from kata.testing import clock, margins

# The folder of the learner's files, set by the plugin: the message then shows where their code
# was waiting when the test gave up (in one process; in judge mode their code runs elsewhere).
learner_folder: Path | None = None
WAITING = "When the test gave up, your code was waiting here:\n{places}"


@contextlib.asynccontextmanager
async def hang_guard(limit: float, check: str, message: str | Callable[[], str]) -> AsyncIterator[None]:
    """Fail with `message` if the block has not ended `limit` s after it began, instead of hanging.

    `message` may be a function, called at that moment, for words that say how far the code got.
    Correct code ends far sooner; it runs past the limit only when the machine is busy (its process
    waits for a core, or in judge mode for the other process), so this counts as a failure on time.
    Code that hangs does it every time. A TimeoutError of the code's own passes through.
    """
    started = clock.perf_counter()
    loop, folder, waiting = asyncio.get_running_loop(), learner_folder, []
    # Just before the limit, while the code still waits (the timeout then unwinds it).
    look = loop.call_later(max(limit - 0.001, 0.0), lambda: waiting.extend(_waiting_at(loop, folder)))
    guard = asyncio.timeout(limit)
    try:
        async with guard:
            yield
    except TimeoutError:
        if not guard.expired():
            raise
        margins.gave_up(clock.perf_counter() - started, limit, check)
        text = message() if callable(message) else message
        if waiting and folder is not None:
            text += "\n" + WAITING.format(places=where.listing(waiting, folder))
        raise AssertionError(text) from None
    finally:
        look.cancel()


def _waiting_at(loop: asyncio.AbstractEventLoop, folder: Path | None) -> list[where.Place]:
    return where.waiting_at(loop, folder) if folder is not None else []
