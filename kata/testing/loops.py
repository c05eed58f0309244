"""The event loops the learner's code makes: noted as they are made and closed, and the ones left
open closed at the end of a test (the plugin's `event_loops_made` in the test process, and the
sandbox host in judge mode: one piece of code for both)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Note = Callable[[asyncio.AbstractEventLoop], None]


@contextlib.contextmanager
def noting_loops(made: Note, closed: Note | None = None) -> Iterator[None]:
    """While in force, `made(loop)` is called for every event loop made, and `closed(loop)` (if
    given) when one that was open is closed."""
    original_init, original_close = asyncio.BaseEventLoop.__init__, asyncio.BaseEventLoop.close

    def init(loop: asyncio.BaseEventLoop, *args: Any, **kwargs: Any) -> None:
        original_init(loop, *args, **kwargs)
        made(loop)

    def close(loop: asyncio.BaseEventLoop) -> None:
        was_closed = loop.is_closed()
        original_close(loop)
        if not was_closed and loop.is_closed():
            closed(loop)

    asyncio.BaseEventLoop.__init__ = init  # type: ignore[method-assign]
    if closed is not None:
        asyncio.BaseEventLoop.close = close  # type: ignore[method-assign]
    try:
        yield
    finally:
        asyncio.BaseEventLoop.__init__ = original_init  # type: ignore[method-assign]
        asyncio.BaseEventLoop.close = original_close  # type: ignore[method-assign]


def close_left_open(loops: Iterable[asyncio.AbstractEventLoop]) -> None:
    """Close each loop that is neither closed nor running (one that refuses is left as it is)."""
    for loop in loops:
        if not loop.is_closed() and not loop.is_running():
            with contextlib.suppress(Exception):
                loop.close()
