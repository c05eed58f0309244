"""Where the learner's code was while the event loop stood frozen.

The loop guard measures how late its heartbeat was, after the fact: by then the code that froze
the loop has moved on, and the finding could only say "something blocked it". A learner trial's
`with ThreadPoolExecutor()` block, whose exit waits for every thread, was told just that. While a
test runs, one thread for the whole process looks at the loop's thread every LOOK seconds; when
the heartbeat is overdue by OVERDUE or more, it keeps the innermost line of the learner's file on
that thread's stack, so that the finding can say where the loop was held. A look costs a clock
read while the loop is not overdue; the thread sleeps while no test is watched.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from kata import where
from kata.testing.waiting import Watchdog

LOOK = 0.02  # seconds between looks
OVERDUE = 0.05  # how long past its due time the heartbeat must be before the loop's stack is read
MOST = 20  # places kept per test
FROZEN_HERE = "\nWhile it was frozen, your code was running here:\n{places}"


class FrozenAt:
    """The learner's lines seen on the loop's thread while the loop was frozen, in the order seen."""

    def __init__(self, folder: Path, thread_id: int, overdue_since: Callable[[], float]) -> None:
        self.folder, self.thread_id = folder, thread_id
        self._overdue_since = overdue_since  # when the heartbeat fell due (monotonic seconds)
        self.places: list[where.Place] = []

    def look(self, now: float) -> None:
        if now - self._overdue_since() < OVERDUE or len(self.places) >= MOST:
            return
        place = where.running_in(sys._current_frames().get(self.thread_id), self.folder)
        if place is not None and place not in self.places:
            self.places.append(place)

    def said(self) -> str:
        """The places, as the guard's finding continues ('' if none was seen)."""
        if not self.places:
            return ""
        return FROZEN_HERE.format(places=where.listing(self.places, self.folder))


_LOOKER = Watchdog("kata-frozen-at", LOOK, lambda frozen, now: frozen.look(now))


def watch(frozen: FrozenAt) -> None:
    _LOOKER.watch(frozen)


def stop(frozen: FrozenAt) -> None:
    _LOOKER.stop(frozen)
