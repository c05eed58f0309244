"""A test's own limit on how long the code under test may run: a failure in plain words instead
of a hang, counted as on time (kata.testing.margins.gave_up)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

from kata import where
from kata.testing import clock, elsewhere, margins

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
    loop, waiting = asyncio.get_running_loop(), []

    def look_where() -> None:  # just before the limit, while the code still waits (the timeout unwinds it)
        waiting.append(waiting_lines(asyncio.all_tasks(loop)) or _waiting_in_the_sandbox())

    look = loop.call_later(max(limit - 0.001, 0.0), look_where)
    guard = asyncio.timeout(limit)
    try:
        async with guard:
            yield
    except TimeoutError:
        if not guard.expired():
            raise
        margins.gave_up(clock.perf_counter() - started, limit, check)
        text = message() if callable(message) else message
        raise AssertionError(text + "".join(waiting)) from None
    finally:
        look.cancel()


def waiting_lines(tasks: Iterable[asyncio.Task]) -> str:
    """Where the learner's code in `tasks` waits, as a paragraph to add to a message that the
    test gave up waiting ("" when none of it is waiting in this process)."""
    folder = learner_folder
    return _paragraph(where.waiting_in(tasks, folder) if folder is not None else [])


def _waiting_in_the_sandbox() -> str:
    """Judge mode: where the learner's tasks wait in the sandbox ("" in one process, or none)."""
    folder = learner_folder
    if elsewhere.process is None or folder is None:
        return ""
    return _paragraph(where.sent_places(elsewhere.process.where(waiting=True), folder))


def _paragraph(places: list[where.Place]) -> str:
    return "\n" + WAITING.format(places=where.listing(places, learner_folder)) if places else ""
