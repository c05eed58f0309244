"""Event loops here that mirror the other side's, one for one.

When this side waits synchronously for a call (a plain `def` test calling the learner's plain
function), the learner's code may run event loops of its own there (`asyncio.run`, an
`asyncio.Runner`, `new_event_loop()`), and call back from them. In one process those calls would
run on the learner's loops; here each runs on the mirror of the loop it came from: a loop of
this side's own, made the first time that loop calls, running in a thread of its own, and closed
when the other side says that loop was closed. So `asyncio.get_running_loop()` in a callback
tells the learner's loops apart as it would in one process, and whether a loop was closed can
be asked of its mirror.

The other side numbers its loops (kata.remote.peer); a number is never reused. What it can make
this side hold is bounded (MAX_LOOPS mirrors at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

# Above the most calls a test makes at once (kata.testing.caps: 160): code that runs each call on a
# loop of its own in a thread of its own (wrong, but it must fail as in one process) had 129-160
# loops calling at once, and at 32 the judge took the link for broken.
MAX_LOOPS = 256
STOP_SECONDS = 1.0


class TooManyLoops(ValueError):
    pass


class _Mirror:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.loop.run_forever()

    def close(self) -> None:
        """Stop the loop (what still runs there is abandoned: its loop on the other side is gone)
        and close it, in its own thread's absence."""
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(STOP_SECONDS)
        if not self.thread.is_alive() and not self.loop.is_closed():
            for task in asyncio.all_tasks(self.loop):
                task.cancel()  # never to run again: cancelled so they are not reported as pending
            with contextlib.suppress(RuntimeError):
                self.loop.close()


class MirrorLoops:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mirrors: dict[int, _Mirror] = {}

    def loop_for(self, number: int) -> asyncio.AbstractEventLoop:
        """The mirror of the other side's loop `number`, made now if it is new."""
        with self._lock:
            mirror = self._mirrors.get(number)
            if mirror is None:
                if len(self._mirrors) >= MAX_LOOPS:
                    raise TooManyLoops(f"calls from more than {MAX_LOOPS} event loops at once")
                mirror = self._mirrors[number] = _Mirror(f"kata-remote-mirror-loop-{number}")
            return mirror.loop

    def closed(self, number: int) -> None:
        """The other side closed its loop `number`: close its mirror (if it had one)."""
        with self._lock:
            mirror = self._mirrors.pop(number, None)
        if mirror is not None:
            mirror.close()

    def close_all(self) -> None:
        """Close every mirror (the test is over: loops the learner left open stay open there)."""
        with self._lock:
            mirrors, self._mirrors = list(self._mirrors.values()), {}
        for mirror in mirrors:
            mirror.close()
