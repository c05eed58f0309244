"""Calls into the event loop that the learner's code makes from a thread of its own, by the door
that is not thread-safe: `loop.call_soon`, and what goes through it (a future's `set_result`, an
`asyncio.Event().set()`, `loop.create_task`).

`loop.call_soon` from another thread queues the callback but does not wake the loop: it runs only
when something else wakes it. In one process a test waiting on nothing else then hangs; in judge
mode the sandbox's loop is woken all the time by the messages to the judge, so the same code passed
every test there (a learner trial: 10's results handed back from threads with `call_soon`). asyncio
checks this only in debug mode (`RuntimeError: Non-thread-safe operation ...`), which the tests do
not run in. So the loop the code runs on is watched here: such a call from a thread whose stack holds
a frame of the learner's file is noted (where, in their file) and handed on with
`call_soon_threadsafe`, so that nothing hangs and the test fails on the note, in both modes.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kata import where

SAID = (
    "your code handed work to the event loop from a thread of its own by a way that is not "
    "thread-safe (`loop.call_soon(...)`, or a future's `set_result`, an `asyncio.Event`'s `set()` or "
    "`loop.create_task(...)`, which go through it):\n{places}\nFrom another thread that queues the "
    "work but does not wake the loop: it runs only when something else happens to wake it, late or "
    "never. Use `loop.call_soon_threadsafe(...)`, or `asyncio.run_coroutine_threadsafe(...)` for a "
    "coroutine (or let `asyncio.to_thread` or `loop.run_in_executor` carry the results back)."
)


class ThreadCalls:
    """Watches `loop.call_soon` on one running loop for calls from other threads whose stack holds
    a frame of a file in `learner_folder` (`start`, then `finish` for the finding, or None)."""

    def __init__(self, learner_folder: Path) -> None:
        self.learner_folder = learner_folder
        self.places: list[where.Place] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._earlier: Callable[..., asyncio.Handle] | None = None
        self._lock = threading.Lock()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # A watch already there (a harness test's, inside the guard's) goes on behind this one.
        self._earlier = vars(loop).get("call_soon")
        original: Callable[..., asyncio.Handle] = loop.call_soon
        loop_thread = threading.get_ident()

        def call_soon(callback: Callable[..., Any], *args: Any, context: Any = None) -> asyncio.Handle:
            if threading.get_ident() != loop_thread:
                place = self._learners_place()
                if place is not None:
                    self._note(place)
                    return loop.call_soon_threadsafe(callback, *args, context=context)
            return original(callback, *args, context=context)

        loop.call_soon = call_soon  # type: ignore[method-assign]

    def _learners_place(self) -> where.Place | None:
        return where.running_in(sys._getframe(2), self.learner_folder)

    def _note(self, place: where.Place) -> None:
        with self._lock:
            if place not in self.places:
                self.places.append(place)

    def finish(self) -> str | None:
        """Stop watching; the finding, if the code made such a call."""
        if self._loop is not None:
            if self._earlier is not None:
                self._loop.call_soon = self._earlier  # type: ignore[method-assign]
            else:
                vars(self._loop).pop("call_soon", None)
            self._loop = None
        with self._lock:
            if not self.places:
                return None
            listed = where.listing(self.places, self.learner_folder)
        return SAID.format(places=listed)
