"""The time limits the learner's code gives a session the test lent it (judge mode).

A ClientTimeout crosses as data (kata.remote.values), and the request runs in the judge, on the
lent session: aiohttp sets the timer there, in a call the judge serves for the learner's process
(kata.remote.peer.Peer._run_async). The judge notes such timers itself, as a WakeWatch notes them
in one process (kata.testing.client_timeouts: a field shorter than aiohttp's default), so that the
probe of the learner's timers (kata.testing.own_timers) runs them out too: `session.get(url,
timeout=aiohttp.ClientTimeout(total=2))` then gives up as it would on a server slower than 2 s,
and the test says so. This is the judge's own observation, not the learner's process's word.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import sys
import weakref
from types import FrameType
from typing import Any

from kata import where
from kata.remote.peer import Peer
from kata.testing import clock
from kata.testing.client_timeouts import client_limit, in_aiohttp
from kata.testing.limits import Limit, timer_setter

# The judge's frames that serve a call of the learner's process.
_SERVING = {Peer._run_async.__code__, Peer._run_sync.__code__}
MAX_NOTED = 1000


class LentTimers:
    """`install(loop)` .. `uninstall()`: notes on `loop` the timers of ClientTimeouts the learner's
    process gave the calls the judge serves; `run_out(spare_up_to)` makes those pending run out now
    (but the docstring's own limit: kata.testing.limits.Limit.given)."""

    def __init__(self, file: str) -> None:
        self.file = file  # the learner's file's name, for the messages
        self._pending: dict[int, Limit] = {}  # by the handle's id (its hash is its due time)
        self._noted: list[Limit] = []  # every one, pending or not
        self._loop: asyncio.AbstractEventLoop | None = None
        self._readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # `_lent_limit`

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        if "call_at" in vars(loop):  # watched by something else already: leave it
            return
        self._loop, call_at = loop, loop.call_at
        watch = self

        def noting_call_at(
            when: float, callback: Any, *args: Any, context: Any = None
        ) -> asyncio.TimerHandle:
            limit = watch._lent_limit(sys._getframe(1))
            if limit is None:
                return call_at(when, callback, *args, context=context)
            handle = call_at(when, _noting_its_run(limit, callback), *args, context=context)
            limit.handle = handle
            watch._pending[id(handle)] = limit
            watch._noted.append(limit)
            return handle

        loop.call_at = noting_call_at  # type: ignore[method-assign]

    def ran_out(self) -> list[Limit]:
        """Those whose time ran out (their callback ran: `fired`), as a WakeWatch notes them in one
        process: 11, 20 and 22 read the lengths of the timers a learner's code gave up with
        (kata.testing.limits.assert_no_time_added)."""
        return [limit for limit in self._noted if limit.fired]

    def uninstall(self) -> None:
        if self._loop is not None:
            vars(self._loop).pop("call_at", None)
            self._loop = None
        self._pending.clear()

    def _lent_limit(self, caller: FrameType) -> Limit | None:
        """The timer aiohttp sets at `caller`'s (through asyncio) for a short ClientTimeout field,
        in a call the judge serves for the learner's process; else None."""
        setter = timer_setter(caller)
        if setter is None or not in_aiohttp(setter) or len(self._noted) >= MAX_NOTED:
            return None
        timeout = client_limit(setter)
        if timeout is None:
            return None
        # A reply's read limit is set again as each piece comes (by the loop): the learner's when
        # its first was.
        reader = timeout.reader
        if not _served(setter) and (reader is None or reader not in self._readers):
            return None
        if reader is not None:
            with contextlib.suppress(TypeError):
                self._readers[reader] = True
        return Limit(timeout.seconds, timeout.how, self.file, 0, "", clock.perf_counter())

    def run_out(self, spare_up_to: float | None = None, spare_pauses: bool = False) -> list[Limit]:
        """Every such timer still pending runs out now (its callback runs in the loop's next turn);
        to be called on that loop."""
        if self._loop is None:
            return []
        now, moved = self._loop.time(), []
        for key, limit in list(self._pending.items()):
            handle = limit.handle
            if handle is None or handle.cancelled() or handle.when() <= now:
                del self._pending[key]  # it ended, or is due anyway
                continue
            if limit.given(spare_up_to, spare_pauses):
                continue
            handle._when = now
            limit.fired, limit.ended = True, clock.perf_counter()
            del self._pending[key]
            moved.append(limit)
        scheduled = getattr(self._loop, "_scheduled", None)
        if moved and isinstance(scheduled, list):
            heapq.heapify(scheduled)
        return moved


def _noting_its_run(limit: Limit, callback: Any) -> Any:
    """`callback`, noting in `limit` that its timer ran out (aiohttp cancels a timer that ran, as it
    closes the request: `cancelled()` does not tell)."""

    def ran_out(*args: Any) -> Any:
        if not limit.fired:  # (`run_out` notes the time the probe moved it)
            limit.fired, limit.ended = True, clock.perf_counter()
        return callback(*args)

    return ran_out


def _served(frame: FrameType | None) -> bool:
    """Whether `frame` runs, through aiohttp and asyncio alone, in a call the judge serves for the
    learner's process."""
    while frame is not None:
        if frame.f_code in _SERVING:
            return True
        name = frame.f_code.co_filename
        if not (name.startswith(where.ASYNCIO_FOLDER) or in_aiohttp(frame)):
            return False
        frame = frame.f_back
    return False
