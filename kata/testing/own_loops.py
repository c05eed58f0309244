"""How the learner's code waits on event loops of its own: plain code that runs async work
(`asyncio.run(...)`, an `asyncio.Runner`, a loop in a thread) makes its loops itself, and a test's
wake watch (kata.testing.waiting.WakeWatch) is on the test's loop, not on theirs.

    with OwnLoopsWatch(code_file) as wakes:
        ex.fetch_all_sync(fetch, ids)        # plain code: its asyncio.run makes a loop
    wakes.limits, wakes.busiest(since, until) # as a WakeWatch's, over every loop it made

Each loop made while the watch is on is watched from its making, before its first task (its
turns timed, kata.testing.turns, so that a starved loop is known as on the test's own), until the
watch ends. The threads the code starts are not noted here (see WakeWatch's `threads`). The
sandbox keeps one in judge mode (kata.sandbox.host: `watch_own_loops`), whose report can only
fail a test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kata.testing import turns
from kata.testing.limits import Limit
from kata.testing.loops import noting_loops
from kata.testing.waiting import WakeWatch, Watched

MAX_LOOPS = 100  # a loop per call in a loop of calls is a mistake of its own; more are not watched


class OwnLoopsWatch:
    """WakeWatches on every event loop made while it is on; read them, merged, when it ends."""

    busiest = WakeWatch.busiest
    with_callbacks = WakeWatch.with_callbacks

    def __init__(self, code_file: str | None) -> None:
        self.code_file = code_file
        self.watched: list[Watched] = []
        self.callbacks: list[Watched] = []
        self.limits: list[Limit] = []
        self.starved: list[tuple[float, float]] | None = None
        self._watches: list[tuple[WakeWatch, list[turns.SelectWatch]]] = []
        self._lock = threading.Lock()
        self._noting: Any = None

    def __enter__(self) -> OwnLoopsWatch:
        self._noting = noting_loops(self._made)
        self._noting.__enter__()
        return self

    def _made(self, loop: Any) -> None:
        with self._lock:
            if len(self._watches) >= MAX_LOOPS:
                return
            watch = WakeWatch(self.code_file, loop=loop, threads=False)
            watch.__enter__()
            selectors: list[turns.SelectWatch] = []
            self._watches.append((watch, selectors))
        # The loop's selector is set after the loop's base class is made (where loops are noted):
        # its turns are timed from its first one.
        loop.call_soon(self._time_turns, loop, watch, selectors)

    def _time_turns(self, loop: Any, watch: WakeWatch, selectors: list[turns.SelectWatch]) -> None:
        selector = turns.SelectWatch.attach(loop, _nothing, _nothing)
        if selector is not None:
            selectors.append(selector)
            watch.turns_timed_by(selector)

    async def run_out_own_timers(
        self,
        spare_up_to: float | None = None,
        spare_pauses: bool = False,
        answered: Callable[[], None] | None = None,
    ) -> list[Limit]:
        """WakeWatch.run_out_own_timers on each loop of the code's own (kata.testing.own_timers)."""
        ran_out: list[Limit] = []
        for watch in self._running():
            ran_out += await watch.run_out_own_timers(spare_up_to, spare_pauses, answered)
        return ran_out

    async def hold_back_own_timers(
        self,
        turns: bool,
        let_go_after: float | None = None,
        spare_up_to: float | None = None,
        spare_pauses: bool = False,
    ) -> list[Limit]:
        held_back: list[Limit] = []
        for watch in self._running():
            held_back += await watch.hold_back_own_timers(turns, let_go_after, spare_up_to, spare_pauses)
        return held_back

    def _running(self) -> list[WakeWatch]:
        with self._lock:
            return [watch for watch, _ in self._watches if watch._loop.is_running()]

    async def let_timers_go(self) -> None:
        with self._lock:
            watches = [watch for watch, _ in self._watches]
        for watch in watches:
            if not watch._loop.is_closed():
                await watch.let_timers_go()

    def __exit__(self, *exc_info: object) -> None:
        self._noting.__exit__(None, None, None)
        with self._lock:
            watches, self._watches = self._watches, []
        starved: list[tuple[float, float]] = []
        timed = bool(watches)
        for watch, selectors in reversed(watches):
            watch.__exit__(None, None, None)
            for selector in selectors:
                selector.detach()
            self.watched += watch.watched
            self.callbacks += watch.callbacks
            self.limits += watch.limits
            if watch.starved is None:
                timed = False
            else:
                starved += watch.starved
        self.starved = sorted(starved) if timed else None


def _nothing() -> None:
    pass
