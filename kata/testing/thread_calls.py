"""Work the learner's code hands to the event loop from a thread of its own by a door that is not
thread-safe: `loop.call_soon`, `loop.call_later`/`call_at`, and what goes through them (a future's
`set_result`, an `asyncio.Event().set()`, `loop.create_task`), however it gets there.

Such a call queues the callback but does not wake the loop: it runs only when something else wakes
it. In one process a test waiting on nothing else then hangs; in judge mode the sandbox's loop is
woken all the time by the messages to the judge, so the same code passed every test there (a learner
trial: 10's results handed back from threads with `call_soon`). asyncio checks this only in debug
mode (`RuntimeError: Non-thread-safe operation ...`), which the tests do not run in.

So the loop the code runs on is watched where every callback is queued, its ready queue
(`loop._ready`), and where its timers are set (`loop.call_at`, which `call_later` goes through):
anything queued there from a thread other than the loop's, but by `call_soon_threadsafe`, is noted,
and the loop is woken all the same, so that nothing hangs and the test fails on the note, in both
modes. The watch goes by the thread, not by whose lines are on its stack: a red team handed results
back with `future.add_done_callback(functools.partial(loop.call_soon, ...))` from a pool, a stack of
concurrent.futures alone, and with `loop.call_later(0, ...)`, which skipped a watch of `call_soon`.
The note names the learner's line on that thread's stack, or else the learner's code the callback
runs. Only a call with neither and the kata's own code on the stack is let through unsaid.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from kata import where
from kata.testing import loop_doors

SAID = (
    "your code handed work to the event loop from a thread of its own by a way that is not "
    "thread-safe (`loop.call_soon(...)`, `loop.call_later(...)`, or a future's `set_result`, an "
    "`asyncio.Event`'s `set()` or `loop.create_task(...)`, which go through them):\n{places}\nFrom "
    "another thread that queues the work but does not wake the loop: it runs only when something "
    "else happens to wake it, late or never. Use `loop.call_soon_threadsafe(...)`, or "
    "`asyncio.run_coroutine_threadsafe(...)` for a coroutine (or let `asyncio.to_thread` or "
    "`loop.run_in_executor` carry the results back)."
)
# When no line of the learner's file was on that thread's stack and the callback is not their code.
UNPLACED = "  (a callback queued from a thread, with none of your lines on its stack: a done callback?)"

# asyncio's thread-safe doors to the ready queue: what they queue is no finding.
_SAFE_CODES = frozenset(
    getattr(asyncio.BaseEventLoop, name).__code__
    for name in ("call_soon_threadsafe", "_add_callback_signalsafe")
    if hasattr(asyncio.BaseEventLoop, name)
)
_CALLERS_LOOKED_AT = 4  # frames above the queue's append that may be a thread-safe door


class _WatchedReady(collections.deque):
    """A loop's queue of ready callbacks that tells the newest watch of every one queued from a
    thread other than the loop's. It stays for the loop's life (a thread of the learner's may
    still queue into it after a test), watching nothing once no watch is left."""

    def __init__(self, items: Any, loop: asyncio.AbstractEventLoop, loop_thread: int) -> None:
        super().__init__(items)
        self.loop, self.loop_thread = loop, loop_thread
        self.watches: list[ThreadCalls] = []

    def append(self, handle: Any) -> None:
        # Noted before it is queued: the loop may run it, and the test read the notes, at once.
        foreign = self._foreign(handle)
        super().append(handle)
        if foreign:
            _wake(self.loop)

    # The other ways in (red team W3: `loop._ready.extend([...])`, `appendleft`).
    def appendleft(self, handle: Any) -> None:
        foreign = self._foreign(handle)
        super().appendleft(handle)
        if foreign:
            _wake(self.loop)

    def extend(self, handles: Any) -> None:
        handles = list(handles)
        foreign = any([self._foreign(handle) for handle in handles])
        super().extend(handles)
        if foreign:
            _wake(self.loop)

    def extendleft(self, handles: Any) -> None:
        handles = list(handles)
        foreign = any([self._foreign(handle) for handle in handles])
        super().extendleft(handles)
        if foreign:
            _wake(self.loop)

    def insert(self, index: int, handle: Any) -> None:
        foreign = self._foreign(handle)
        super().insert(index, handle)
        if foreign:
            _wake(self.loop)

    def _foreign(self, handle: Any) -> bool:
        """Whether `handle` comes from a thread other than the loop's by a door that is not
        thread-safe (noted, then); called two frames below the learner's call."""
        if not self.watches or threading.get_ident() == self.loop_thread:
            return False
        frame = sys._getframe(2)
        if _thread_safe(frame):
            return False
        self.watches[-1].queued_from_a_thread(getattr(handle, "_callback", None), frame)
        return True


# Every handle for a watched loop made in a thread other than the loop's, however it is queued
# after (red team W3, in judge mode, where the sandbox's loop is woken all the time: the class's own
# `asyncio.BaseEventLoop.call_at(loop, ...)`, past the loop's watched `call_at`; a `TimerHandle` or
# `Handle` made by hand and pushed on `loop._scheduled` with heapq, or on a `_ready` replaced by a
# plain deque). A handle made on the loop's thread and queued from another is not seen.
# id(loop) -> (the loop, its thread, its watches, the newest last)
_HANDLES_FOR: dict[int, tuple[asyncio.AbstractEventLoop, int, list[ThreadCalls]]] = {}
_handle_init = asyncio.Handle.__init__
_WAKE_AGAIN = 0.01  # s: the handle is queued just after it is made; the loop is woken then


def _watched_handle_init(self: Any, callback: Any, args: Any, loop: Any, *more: Any, **named: Any) -> None:
    _handle_init(self, callback, args, loop, *more, **named)
    watched = _HANDLES_FOR.get(id(loop))
    if watched is None or watched[0] is not loop or threading.get_ident() == watched[1] or not watched[2]:
        return
    frame = sys._getframe(1)
    if _thread_safe(frame):
        return
    watched[2][-1].queued_from_a_thread(callback, frame)
    if not isinstance(self, asyncio.TimerHandle) and isinstance(getattr(loop, "_ready", None), _WatchedReady):
        return  # it goes on the watched ready queue, which wakes the loop as it is queued
    # Not now: it is not queued yet, and a loop woken now may run on beside this thread (an Event's
    # `set()` from a thread, its waiters' list changed by the loop as the thread goes through it).
    waker = threading.Timer(_WAKE_AGAIN, _wake, args=(loop,))
    waker.daemon = True
    waker.start()


def _thread_safe(frame: FrameType | None) -> bool:
    for _ in range(_CALLERS_LOOKED_AT):
        if frame is None:
            return False
        if frame.f_code in _SAFE_CODES:
            return True
        frame = frame.f_back
    return False


def _wake(loop: asyncio.AbstractEventLoop) -> None:
    """Wake `loop` from another thread, as call_soon_threadsafe does."""
    write_to_self = getattr(loop, "_write_to_self", None)
    if write_to_self is not None and not loop.is_closed():
        write_to_self()


class ThreadCalls:
    """Watches one running loop for work queued from other threads by doors that are not
    thread-safe (`start`, then `finish` for the finding, or None); the learner's file is in
    `learner_folder`."""

    def __init__(self, learner_folder: Path) -> None:
        self.learner_folder = learner_folder
        self.places: list[where.Place] = []
        self.unplaced = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: _WatchedReady | None = None
        self._earlier_call_at: Callable[..., asyncio.TimerHandle] | None = None
        self._lock = threading.Lock()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        loop_thread = threading.get_ident()
        ready = getattr(loop, "_ready", None)
        if isinstance(ready, collections.deque):
            if not isinstance(ready, _WatchedReady):
                ready = loop._ready = _WatchedReady(ready, loop, loop_thread)  # type: ignore[attr-defined]
            ready.loop_thread = loop_thread
            ready.watches.append(self)
            self._ready = ready
        # Timers: `call_later` goes through `call_at`. A watch already there (a harness test's,
        # inside the guard's) goes on behind this one.
        loop_doors.install()  # `asyncio.BaseEventLoop.call_at(loop, ...)` comes here too
        self._earlier_call_at = vars(loop).get("call_at")
        original: Callable[..., asyncio.TimerHandle] = loop.call_at

        def call_at(when: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
            if threading.get_ident() == loop_thread:
                return original(when, callback, *args, context=context)
            self.queued_from_a_thread(callback, sys._getframe(1))
            handle = original(when, callback, *args, context=context)
            _wake(loop)
            return handle

        loop.call_at = call_at  # type: ignore[method-assign]
        watched = _HANDLES_FOR.get(id(loop))
        if watched is None or watched[0] is not loop:
            watched = _HANDLES_FOR[id(loop)] = (loop, loop_thread, [])
        watched[2].append(self)
        asyncio.Handle.__init__ = _watched_handle_init  # type: ignore[method-assign]

    def queued_from_a_thread(self, callback: Any, frame: FrameType | None) -> None:
        """A callback queued from another thread by a door that is not thread-safe: noted where
        the learner's code did it, or else where the callback's code is theirs."""
        folder = self.learner_folder
        place = where.running_in(frame, folder) or _callbacks_place(callback, folder)
        if place is None and _in_the_kata(frame):
            return  # the kata's own doing, not the learner's
        with self._lock:
            if place is None:
                self.unplaced = True
            elif place not in self.places:
                self.places.append(place)

    def finish(self) -> str | None:
        """Stop watching; the finding, if the code queued such work."""
        if self._ready is not None:
            if self in self._ready.watches:
                self._ready.watches.remove(self)
            self._ready = None
        if self._loop is not None:
            watched = _HANDLES_FOR.get(id(self._loop))
            if watched is not None and self in watched[2]:
                watched[2].remove(self)
                if not watched[2]:
                    del _HANDLES_FOR[id(self._loop)]
            if not _HANDLES_FOR:
                asyncio.Handle.__init__ = _handle_init  # type: ignore[method-assign]
            if self._earlier_call_at is not None:
                self._loop.call_at = self._earlier_call_at  # type: ignore[method-assign]
            else:
                vars(self._loop).pop("call_at", None)
            self._loop = None
        with self._lock:
            if not self.places and not self.unplaced:
                return None
            listed = where.listing(self.places, self.learner_folder) if self.places else UNPLACED
        return SAID.format(places=listed)


def _callbacks_place(callback: Any, folder: Path) -> where.Place | None:
    """Where the learner's code is that `callback` runs: their function (or a partial's, a bound
    method's), or the line a task of theirs waits at (a future's set_result wakes its task)."""
    for _ in range(8):
        if isinstance(callback, functools.partial):
            inner = [callback.func, *callback.args, *callback.keywords.values()]
            found = [_callbacks_place(part, folder) for part in inner if callable(part)]
            return next((place for place in found if place is not None), None)
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, asyncio.Task):
            places = where.waiting_in([owner], folder)
            return places[0] if places else None
        function = getattr(callback, "__func__", callback)
        code = getattr(function, "__code__", None)
        if code is not None:
            return where.defined_by(code, folder)
        wrapped = getattr(callback, "__wrapped__", None)
        if wrapped is None:
            return None
        callback = wrapped
    return None


def _in_the_kata(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith(where.KATA_FOLDER):
            return True
        frame = frame.f_back
    return False
