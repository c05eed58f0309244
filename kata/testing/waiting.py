"""How code waits: how often it wakes up while nothing changes, and a loop that never lets go.

Waiting on an Event or a Condition costs nothing until the change comes: the waiting task
is not run at all. Polling (check, sleep a little, check again) wakes the task again and
again while nothing changes; spinning with no `await` never gives the event loop a turn.
Both are seen here from outside the learner's objects: only the test's own event loop is
instrumented.

    with WakeWatch() as wakes, FrozenLoopBreaker(explain, code_file):
        task = asyncio.create_task(learner_code(...))
        ...
    wakes.busiest(since, until)   # the task that woke most often in that stretch, or None

- `WakeWatch`: every task created on the loop while the watch is on runs its coroutine
  through a counter. Each time the task resumes after its first step is a wake-up; each
  timer that such a task schedules (asyncio.sleep and every timeout schedule one) is noted
  when it fires. Tasks made before the watch (the test's own task) are not counted. A task made
  past the factory (`asyncio.Task(coro)`, a factory of the code's own) is counted as the loop
  runs its steps instead (kata.testing.loop_runs).
  Given the learner's file (`code_file`), it also notes each timer whose scheduling stack goes
  from that file straight into asyncio (`asyncio.wait(timeout=)`, `wait_for`, `asyncio.timeout`,
  `loop.call_later`...; `asyncio.sleep` is noted as a pause, not a limit), or from the top of a
  task that file made (`asyncio.create_task(asyncio.sleep(3))`): `limits`, kata.testing.limits;
  each thread's work that file sets going (`asyncio.to_thread`, `run_in_executor`, a
  `threading.Thread` or `Timer` it starts, a pool's `submit` it calls), noted as a pause while it
  runs; and each run of a function of that file the loop calls back, however it was scheduled
  (`loop.call_soon(check)` or through the loop's class, a done callback, an object's `__call__`,
  a timer this watch did not note as the learner's: `type(loop).call_at(loop, ...)`): `callbacks`.
  Pauses and callbacks only the tests of stopping judge.
- `FrozenLoopBreaker`: a watchdog thread (one per process, started at first use) notices that
  the event loop has had no turn for FREEZE seconds while the learner's code runs, and
  raises `LoopFrozen` inside that code (through `_thread.interrupt_main`), so a busy loop
  fails its test with a sentence instead of hanging until the test's timeout.
"""

from __future__ import annotations

import _thread
import asyncio
import collections.abc
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import functools
import heapq
import inspect
import itertools
import math
import os
import signal
import statistics
import sys
import threading
import time
import types
import weakref
from array import array
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from kata import where
from kata.testing import clock, loop_doors, loop_runs, margins, sleep_watch, stall_cause, turns
from kata.testing.client_timeouts import client_limit, in_aiohttp
from kata.testing.limits import MAX_PAUSES, Limit, Site, alive_between, site_of, timer_setter

_thread_time = time.thread_time  # bound before any learner code runs

# The kata's own code and its tests (the fakes' sleeps, the tests' waits): never the learner's.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_KATAS_OWN = tuple(os.path.join(_ROOT, part) + os.sep for part in ("kata", "tests"))
_CONTEXTLIB = contextlib.__file__
MAX_DEPTH = 20  # how far up the stack a task's maker is looked for


@dataclass(eq=False)
class Watched:
    """One task created during a WakeWatch: when it woke up, and when its own timers fired."""

    name: str  # the name of its coroutine function, as the learner wrote it
    task: asyncio.Task | None = None
    made_at: Site | None = None  # where the learner's file made it (a task the learner started)
    callback: bool = False  # not a task: a function of the learner's the loop ran (WakeWatch.callbacks)
    wakes: list[float] = field(default_factory=list)  # kata clock, every resumption but the first
    timers: list[float] = field(default_factory=list)  # kata clock, each timer it scheduled, firing
    # Those of `wakes` that one of its own timers made as a heartbeat keeps time (its sleep ended, a
    # `call_later` came; for a callback, a run the loop made as a timer: Limit.keeps_time), not a
    # wait's timeout (`asyncio.wait(..., timeout=0.05)` in a loop checks on what it waits for): where
    # the probe judges those timers by what they do (kata.testing.own_timers), such a wake-up is no
    # poll's in itself (`untimed`).
    timed: list[float] = field(default_factory=list)
    fired: bool = False  # one of its timers fired since it last woke

    def woke(self, at: float) -> None:
        """It woke up at `at` (kata clock): made by its own timer if one fired since the last time."""
        self.wakes.append(at)
        if self.fired:
            self.timed.append(at)
            self.fired = False

    def untimed(self) -> Watched:
        """A copy with only the wake-ups its own timers did not make."""
        timed = set(self.timed)
        return dataclasses.replace(self, wakes=[t for t in self.wakes if t not in timed], timed=[])

    def wakes_in(self, since: float, until: float) -> list[float]:
        return [t for t in self.wakes if since < t < until]

    def timers_in(self, since: float, until: float) -> list[float]:
        return [t for t in self.timers if since < t < until]


def _cancelled_again_in_the_kata(watched: Watched, thrown: tuple) -> bool:
    """Whether a resumption throws a cancellation asked for again into a task that waits in the
    kata's own code: no wake-up of the learner's code, which does not run in it.

    anyio's cancel scope asks a task it cancelled to stop again at every turn of the loop until
    it has ended (`CancelScope._deliver_cancellation`); while a test holds a call in its stopping
    (a fake that takes the cancellation and waits on), that made thousands of wake-ups of a
    learner trial's anyio task group, told it woke again and again (03, 05, 14, 16). The first
    cancellation still counts, and so does every one a task of the code's own takes itself: a
    timeout's (`asyncio.timeout`, `wait_for` from 3.12) is taken back as it ends (`uncancel`), so a
    poll by timeouts never has two asked at once."""
    error = thrown[0] if thrown else None
    if not (isinstance(error, asyncio.CancelledError) or error is asyncio.CancelledError):
        return False
    task = watched.task
    return task is not None and task.cancelling() > 1 and where.awaits_in_the_kata(task)


class _Counted(collections.abc.Coroutine):
    """Drives a task's coroutine and records each resumption; otherwise the coroutine itself."""

    def __init__(self, coro: Any, watch: WakeWatch, watched: Watched) -> None:
        self._coro, self._watch, self._watched = coro, watch, watched
        self._started = False
        # Leak and never-awaited reports name the learner's coroutine, not this wrapper.
        self.__name__ = getattr(coro, "__name__", type(coro).__name__)
        self.__qualname__ = getattr(coro, "__qualname__", self.__name__)

    def _resume(self, resume: Callable[..., Any], *args: Any, counted: bool = True) -> Any:
        if self._started and counted:
            self._watched.woke(clock.perf_counter())
        self._started = True
        outer, self._watch.running = self._watch.running, self._watched
        try:
            return resume(*args)
        finally:
            self._watch.running = outer

    def send(self, value: Any) -> Any:
        return self._resume(self._coro.send, value)

    def throw(self, *args: Any) -> Any:
        again = _cancelled_again_in_the_kata(self._watched, args)
        return self._resume(self._coro.throw, *args, counted=not again)

    def close(self) -> None:
        self._coro.close()

    def __await__(self):
        return self._coro.__await__()

    def __getattr__(self, name: str) -> Any:
        # cr_code, cr_frame, cr_running...: what asyncio and the loop guard read.
        if name == "_coro":
            raise AttributeError(name)
        return getattr(self._coro, name)


def code_of(callback: Any, args: tuple = ()) -> Any:
    """The code object a callback runs, called with `args`: a function, a bound method, a
    functools.partial, an object with a `__call__` of its own, a function's own `__call__` (a
    method-wrapper), a context's `run` given the function; None."""
    for _ in range(6):
        wrapped = getattr(callback, "__wrapped__", None)  # a timer WakeWatch noted runs wrapped
        if wrapped is not None and getattr(callback, "__code__", None) in _WRAPPERS:
            callback = wrapped
        code = getattr(callback, "__code__", None)
        if code is not None:
            return code
        inner = getattr(callback, "__func__", None) or getattr(callback, "func", None)
        if inner is None:
            owner = getattr(callback, "__self__", None)
            if isinstance(owner, contextvars.Context) and args:  # `ctx.run(f, *args)`
                inner, args = args[0], args[1:]
            elif callable(owner) and not isinstance(owner, type | types.ModuleType):
                inner = owner  # `f.__call__`
        if inner is None:
            call = getattr(type(callback), "__call__", None)  # noqa: B004 (its code, not whether callable)
            return getattr(getattr(call, "__func__", call), "__code__", None)
        callback = inner
    return None


def _started(coro: Any) -> bool:
    """Whether a task's coroutine has taken its first step (an eager task's is taken as it is
    made); a coroutine object not of Python's own is taken as not started."""
    try:
        return inspect.getcoroutinestate(coro) != inspect.CORO_CREATED
    except (AttributeError, TypeError):
        return False


# A watched task's step starts here: above its coroutine's frames, nothing of the task's own.
_TASK_TOP = {_Counted._resume.__code__, _Counted.send.__code__, _Counted.throw.__code__}


# The watches on now that note the learner's timers (innermost last): a fake that holds a test's
# calls probes them there (kata.testing.own_timers, kata.testing.cancelling.HeldStop).
_TIMER_WATCHES: list[Any] = []


def watching_timers() -> Any | None:
    """The innermost wake watch on now that notes the learner's timers (in judge mode, the
    sandbox's): what probes them while the calls are held; None when none is on."""
    return _TIMER_WATCHES[-1] if _TIMER_WATCHES else None


def timers_watched(watch: Any, on: bool) -> None:
    """`watch` notes the learner's timers from now on (`on`), or no longer."""
    if on:
        _TIMER_WATCHES.append(watch)
    elif watch in _TIMER_WATCHES:
        _TIMER_WATCHES.remove(watch)


_CONTEXT_RUN = type(contextvars.Context().run)  # a bound method of a Context


def _run_in_thread(func: Any, args: tuple) -> tuple[Any, tuple]:
    """What a thread runs and with what: asyncio.to_thread hands the executor
    `functools.partial(context.run, func, *args)`."""
    partial = isinstance(func, functools.partial) and isinstance(func.func, _CONTEXT_RUN)
    if partial and func.args and not func.keywords:
        return func.args[0], (*func.args[1:], *args)
    return func, args


def _seconds(value: Any) -> bool:
    return type(value) in (int, float) and value > 0


def _noting_its_run(work: Limit, function: Callable[..., Any]) -> Callable[..., Any]:
    """A Timer's `function`, noting in `work` that the Timer ran out as it runs."""

    def ran_out(*args: Any, **kwargs: Any) -> Any:
        work.fired = True
        return function(*args, **kwargs)

    ran_out.__wrapped__ = function  # type: ignore[attr-defined]  # whose it is (sleep_watch._made_for)
    return ran_out


def _current_task_on(loop: asyncio.AbstractEventLoop) -> int:
    """Which task runs now on `loop`, called from it (an id; 0: none, or another thread)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return 0
    task = asyncio.current_task(running) if running is loop else None
    return id(task) if task is not None else 0


def _slept_out(work: Limit, done: asyncio.Future) -> None:
    """A thread's `time.sleep` that ended as asked: a timer of the code's own that ran out."""
    if not done.cancelled() and done.exception() is None:
        work.fired = True


def _thread_timer(wait: sleep_watch.TimedWait) -> Limit:
    """A timed wait of a thread of the code's own whose time ran out, as a timer that fired: a
    pause (it keeps time, as `asyncio.sleep` does), a thread's (`Limit.thread`)."""
    limit = Limit(wait.seconds, wait.how, wait.file, wait.line, wait.function, wait.started, fired=True)
    limit.pause, limit.thread, limit.ended = True, True, wait.ended
    return limit


class WakeWatch:
    """Records the wake-ups of every task created on the running loop while it is on (see module doc)."""

    def __init__(
        self,
        code_file: str | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        threads: bool = True,
    ) -> None:
        """`loop`: the loop to watch (the running one if None: a loop not running yet can be
        watched from before its first task, as kata.testing.own_loops does). `threads=False`: the
        threads the learner's file starts are not noted (their patch is the process's, and
        watches that end in another order than they began would give back the wrong one)."""
        self._loop_given = loop
        self._threads = threads
        self.watched: list[Watched] = []
        self.running: Watched | None = None  # the watched task whose step runs right now
        self.code_file = code_file  # the learner's module: note the time limits it sets
        self.limits: list[Limit] = []  # and its pauses (`Limit.pause`), the latest MAX_PAUSES ended
        # By the handle's id: a TimerHandle's hash is its due time, which the probe moves.
        self._pending: dict[int, Limit] = {}
        self._readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # `_aiohttp_limit`
        # Each timer held back and when it was due (kata.testing.own_timers), by its id.
        self._held_back: dict[int, tuple[asyncio.TimerHandle, float]] = {}
        self._thread_timers: sleep_watch.ThreadTimers | None = None  # its threads' timed waits
        # The learner's functions the loop ran as callbacks (`loop.call_soon(check)`, a done
        # callback), one record each: when each run began. Not tasks: the checks of stopping look
        # at them (a poll by callbacks wakes no task), the others at tasks alone.
        self.callbacks: list[Watched] = []
        self._callbacks: dict[Any, Watched] = {}
        self._pauses = 0
        # The stretches the loop was starved through while the watch was on (kata.testing.turns),
        # read as it ends; None where the loop's turns are not timed (no selector: Windows).
        self.starved: list[tuple[float, float]] | None = None

    def __enter__(self) -> WakeWatch:
        self._loop = self._loop_given or asyncio.get_running_loop()
        self._turns = turns.SelectWatch.of(self._loop)
        self._entered = clock.perf_counter()
        self._factory = self._loop.get_task_factory()
        self._loop.set_task_factory(self._make_task)
        # Tasks made without the factory, and the learner's callbacks however scheduled, are seen
        # as the loop runs them; tasks running before the watch are not counted.
        self._before = set(asyncio.all_tasks(self._loop))
        self._unmade: dict[asyncio.Task, Watched] = {}
        self._fresh: set[asyncio.Task] = set()  # their next step is a first one (begins_anew)
        loop_runs.observe(self._loop, self._saw_run)
        loop_doors.install()  # `asyncio.BaseEventLoop.call_at(loop, ...)` comes here too
        self._call_at = self._loop.call_at
        self._loop.call_at = self._timed_call_at  # asyncio.sleep and timeouts go through it
        if self.code_file:  # when the learner's timers stop: TimerHandle.cancel() tells the loop
            timers_watched(self, True)
            # The timed waits of the code's own threads, held back with its timers (sleep_watch).
            self._thread_timers = sleep_watch.ThreadTimers(self.code_file)
            sleep_watch.watch_thread_timers(self._thread_timers, True)
            self._cancelled = self._loop._timer_handle_cancelled
            self._loop._timer_handle_cancelled = self._timer_cancelled
            self._run_in_executor = self._loop.run_in_executor
            self._loop.run_in_executor = self._noted_run_in_executor
            if self._threads:
                self._thread_start, self._submit = threading.Thread.start, ThreadPoolExecutor.submit
                threading.Thread.start = self._noting_start()
                ThreadPoolExecutor.submit = self._noting_submit()
        return self

    def turns_timed_by(self, select_watch: turns.SelectWatch) -> None:
        """The loop's turns are timed from now on (a loop watched before its selector was set)."""
        self._turns = select_watch

    def __exit__(self, *exc_info: object) -> None:
        self._let_timers_go()
        timers_watched(self, False)
        if self._thread_timers is not None:
            sleep_watch.watch_thread_timers(self._thread_timers, False)
            ran_out = self._thread_timers.ran_out
            self.limits += [_thread_timer(wait) for wait in ran_out if wait.started >= self._entered]
            self._thread_timers = None
        if self._turns is not None:
            self.starved = self._turns.starved_in(self._entered, clock.perf_counter())
        self._loop.set_task_factory(self._factory)
        loop_runs.unobserve(self._loop, self._saw_run)
        self._before = set()
        del self._loop.call_at
        if self.code_file:
            del self._loop._timer_handle_cancelled
            del self._loop.run_in_executor
            if self._threads:
                threading.Thread.start, ThreadPoolExecutor.submit = self._thread_start, self._submit

    # `async with`: the form a watch kept in another process needs (kata.judge.session.SandboxWakeWatch).
    async def __aenter__(self) -> WakeWatch:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__(*exc_info)

    def _make_task(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task:
        # asyncio's own clean-up as a loop closes (`asyncio.run`, `Runner.close()`: from 3.12 it
        # waits for the default executor under a 300 s timeout) is not a task the learner made.
        made_at = None if getattr(coro, "cr_code", None) in _CLOSING else self._learners_site()
        watched = Watched(name=getattr(coro, "__name__", type(coro).__name__), made_at=made_at)
        counted = _Counted(coro, self, watched)
        if self._factory is not None:
            task = self._factory(loop, counted, **kwargs)
        else:
            task = asyncio.Task(counted, loop=loop, **kwargs)
        watched.task = task
        self.watched.append(watched)
        return task

    def _timed_call_at(self, when: float, callback: Callable[..., Any], *args: Any, context=None):
        owner = self.running
        limit = self._limit(when) if self.code_file else None
        if limit is not None:  # the task that set it (the test's own, when it calls the code itself)
            task = asyncio.current_task(self._loop)
            limit.task = id(task) if task is not None else 0
        if owner is not None or limit is not None:
            inner = callback

            def callback(*args: Any) -> Any:
                if limit is not None and self._still_held_back(limit.handle):
                    return None
                if owner is not None:
                    owner.timers.append(clock.perf_counter())
                    # Only a timer of the learner's file, keeping time as a heartbeat does, that
                    # settles what its task awaits: one set through aiohttp's helpers (not the
                    # code's, for the probe), or a no-op beside a wait on a thread, is no excuse.
                    owner.fired = (
                        limit is not None and limit.keeps_time and _settles_its_wait(owner.task, inner, args)
                    )
                if limit is not None:
                    limit.fired, limit.ended = True, clock.perf_counter()
                    self._pending.pop(id(limit.handle), None)
                return inner(*args)

            callback.__wrapped__ = inner  # what it runs, for kata.testing.timers

        handle = self._call_at(when, callback, *args, context=context)
        if limit is not None:
            limit.handle = handle
            self._pending[id(handle)] = limit
            self._keep(limit)
        return handle

    async def probe_own_timers(self, let_go_after: float | None = None) -> tuple[list[Limit], list[Limit]]:
        """kata.testing.own_timers: `run_out_own_timers`, then `hold_back_own_timers` (a few loop
        turns later if any ran out). Gives the timers that ran out, and those held back."""
        ran_out = await self.run_out_own_timers()
        return ran_out, await self.hold_back_own_timers(bool(ran_out), let_go_after)

    async def run_out_own_timers(
        self,
        spare_up_to: float | None = None,
        spare_pauses: bool = False,
        answered: Callable[[], None] | None = None,
    ) -> list[Limit]:
        """Every timer the learner's file has pending runs out now (its callback runs in the loop's
        next turn, as if it had been due), but one an earlier probe held back: a poll stuck on it
        stays stuck. Done on the watched loop, whichever loop asks (in judge mode the sandbox may
        serve the question on another); nothing while that loop does not run. With `spare_up_to`,
        the time limit the docstring gives: a timer of no longer (not a sleep, unless `spare_pauses`)
        is left alone. The code has PROBE_TURNS loop turns first: what it does as the calls an
        earlier round held end (a timer it sets then) is there to run out. `answered` runs as they
        are moved, in that loop turn: whatever the code does after it is its answer to them."""

        async def run_out() -> list[Limit]:
            try:
                for _ in range(PROBE_TURNS):
                    await asyncio.sleep(0)
            except asyncio.CancelledError:  # its loop is closing: the code gave up and ended
                return []
            spared = (spare_up_to, spare_pauses)
            ran_out = self._move_pending(lambda due, now: now, skip=self._held_back, spared=spared)
            cut = self._run_out_thread_timers(spared)
            if answered is not None:
                answered()
            if cut:
                await _gone_on(cut)
            return ran_out + [_thread_limit(w) for w in cut]

        return await self._on_its_loop(run_out, [])

    async def hold_back_own_timers(
        self,
        turns: bool,
        let_go_after: float | None = None,
        spare_up_to: float | None = None,
        spare_pauses: bool = False,
    ) -> list[Limit]:
        """After PROBE_TURNS loop turns (with `turns`: the code acts on the timers that ran out),
        every timer the learner's file has pending then is held back (HELD_BACK s past when it was
        due) until `let_timers_go()`, or, with `let_go_after`, that many seconds later, by itself
        (plain code, which the test cannot wait for while it holds them)."""

        async def hold_back() -> list[Limit]:
            try:
                for _ in range(PROBE_TURNS if turns else 0):
                    await asyncio.sleep(0)
            except asyncio.CancelledError:  # its loop is closing: the code gave up and ended
                return []
            spared = (spare_up_to, spare_pauses)

            def hold() -> list[Limit]:
                return self._move_pending(lambda due, now: due + HELD_BACK, keep=True, spared=spared)

            held_back = hold()
            # None pending: a timer of the code's may have just run, its task's step (a poll's
            # next look, then its next sleep) still to come. Give it those turns and look again,
            # or a poll caught between its timer and its step goes on through the hold (14's
            # polling variant passed so, once, in judge mode under load).
            for _ in range(REARM_TURNS if not held_back else 0):
                await asyncio.sleep(0)
                held_back = hold()
                if held_back:
                    break
            held_back += self._hold_thread_timers(spared)
            if held_back and let_go_after is not None:
                self._call_at(self._loop.time() + let_go_after, self._let_timers_go)
            return held_back

        return await self._on_its_loop(hold_back, [])

    async def _on_its_loop(self, work: Callable[[], Any], otherwise: Any) -> Any:
        """`await work()` on the watched loop; `otherwise` if it does not run (plain code's loop,
        between its calls) or stops first."""
        if asyncio.get_running_loop() is self._loop:
            return await work()
        if self._loop.is_closed() or not self._loop.is_running():
            return otherwise
        # The hop's coroutine is made there, as that loop starts it: one made here and never
        # started (that loop closed first, or this await was cancelled meanwhile: a test's end)
        # was reported as a coroutine the learner's code never awaited ("you called run_out()").
        there: concurrent.futures.Future = concurrent.futures.Future()
        started: list[asyncio.Task] = []  # read and written on that loop alone

        def start() -> None:
            if there.cancelled():
                return  # given up on before it began: nothing made
            task = self._loop.create_task(work())
            started.append(task)
            task.add_done_callback(lambda done: _settle(there, done))

        try:
            self._loop.call_soon_threadsafe(start)
            return await asyncio.wait_for(asyncio.wrap_future(there), HOP_WAIT)
        except (RuntimeError, TimeoutError):
            return otherwise  # that loop closed (or stopped) before it ran the hop
        finally:
            if there.cancel():  # given up on here: not begun, it never will; begun, it is cancelled
                with contextlib.suppress(RuntimeError):  # that loop is closed: nothing runs there
                    self._loop.call_soon_threadsafe(_cancel_all, started)

    async def let_timers_go(self) -> None:
        """The timers `probe_own_timers` held back are due again when they were (on the watched loop)."""
        if asyncio.get_running_loop() is not self._loop:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nothing waits there
                self._loop.call_soon_threadsafe(self._let_timers_go)
            return
        self._let_timers_go()

    def _still_held_back(self, handle: asyncio.TimerHandle | None) -> bool:
        """Whether `handle`, about to run, was held back after the loop had taken it as due (a timer
        of no delay, `loop.call_later(0, check)`, or one due as the hold began): moving its time no
        longer keeps it from running, so it goes back among the loop's timers, the same handle (a
        cancel of the code's still reaches it), until it is let go."""
        if handle is None or id(handle) not in self._held_back or handle._when <= self._loop.time():
            return False
        scheduled = getattr(self._loop, "_scheduled", None)
        if not isinstance(scheduled, list):
            return False
        handle._scheduled = True
        heapq.heappush(scheduled, handle)
        return True

    def _hold_thread_timers(self, spared: tuple[float | None, bool]) -> list[Limit]:
        """The timed waits of the code's own threads are held back too (sleep_watch.ThreadTimers:
        a thread that polls never notices the calls have ended); those under way now, as Limits."""
        if self._thread_timers is None:
            return []
        return [_thread_limit(w) for w in self._thread_timers.hold(lambda w: _thread_limit(w).given(*spared))]

    def _run_out_thread_timers(self, spared: tuple[float | None, bool]) -> list[sleep_watch.TimedWait]:
        """The timed waits of the code's own threads run out now too, as its loop timers do (a
        time limit kept in a thread gives up); those it ran out."""
        if self._thread_timers is None:
            return []
        return self._thread_timers.run_out(lambda w: _thread_limit(w).given(*spared))

    def _let_timers_go(self) -> None:
        if self._thread_timers is not None:
            self._thread_timers.let_go()
        held, self._held_back = self._held_back, {}
        for handle, due in held.values():
            handle._when = due
        if held:
            self._reorder_timers()

    def _move_pending(
        self,
        when: Callable[[float, float], float],
        keep: bool = False,
        skip: Any = (),
        spared: tuple[float | None, bool] = (None, False),
    ) -> list[Limit]:
        now = self._loop.time()
        moved = []
        for key, limit in list(self._pending.items()):
            handle = limit.handle
            if handle is None or handle.cancelled() or key in skip or limit.given(*spared):
                continue
            if keep:
                self._held_back.setdefault(key, (handle, handle._when))
            else:
                _runs_as_if_due(handle, self._loop)
            handle._when = when(handle._when, now)
            moved.append(limit)
        if moved:
            self._reorder_timers()
        return moved

    def _reorder_timers(self) -> None:
        scheduled = getattr(self._loop, "_scheduled", None)
        if isinstance(scheduled, list):
            heapq.heapify(scheduled)

    def _saw_run(self, handle: asyncio.Handle) -> Callable[[], None] | None:
        """Before the loop runs `handle`: a step of a task the factory did not make (made as
        `asyncio.Task(coro)`, or by a factory of the code's own) is counted as the factory's are,
        and a run of a function of the learner's file called back (`loop.call_soon(check)` by any
        path, a done callback, a timer set past the patched `call_at`: the timers it notes run
        wrapped, as its own code) is counted in `callbacks`."""
        task = loop_runs.task_of(handle)
        if task is not None:
            return self._unmade_step(task)
        if self.code_file:
            limit = self._pending.get(id(handle)) if isinstance(handle, asyncio.TimerHandle) else None
            self._callback_ran(handle._callback, handle._args, limit is not None and limit.keeps_time)
        return None

    def begins_anew(self, task: asyncio.Task, ending: bool = False) -> None:
        """`task` is about to run another call (the sandbox keeps one task for a test's task's
        calls: kata.remote.callers): from its next step on it is watched as a new task, whose
        first step is no wake-up, as the task made for each call would be. What woke it to take
        the call is the kata's, never the learner's. `ending`: it is woken to end, which is no
        wake-up either, and runs nothing of the learner's."""
        if getattr(self, "_loop", None) is not task.get_loop():
            return
        coro = task.get_coro()
        if ending:
            if isinstance(coro, _Counted):
                coro._started = False
            elif task in self._unmade:
                self._fresh.add(task)
            return
        if len(self.watched) >= MAX_WATCHED:
            return
        watched = Watched(name=getattr(coro, "__name__", type(coro).__name__), task=task)
        self.watched.append(watched)
        if isinstance(coro, _Counted):
            coro._watched, coro._started = watched, False
        else:
            self._unmade[task] = watched
            self._fresh.add(task)

    def _unmade_step(self, task: asyncio.Task) -> Callable[[], None] | None:
        watched = self._unmade.get(task)
        if task in self._fresh:
            self._fresh.discard(task)
            return self._running(watched)
        if watched is None:
            coro = task.get_coro()
            if isinstance(coro, _Counted) or task in self._before or len(self.watched) >= MAX_WATCHED:
                return None
            watched = Watched(name=getattr(coro, "__name__", type(coro).__name__), task=task)
            self._unmade[task] = watched
            self.watched.append(watched)
            if not _started(coro):  # its first step: not a wake-up
                return self._running(watched)
        watched.woke(clock.perf_counter())
        return self._running(watched)

    def _running(self, watched: Watched) -> Callable[[], None]:
        """`watched`'s step runs now (timers it schedules are its own), until what this returns is called."""
        outer, self.running = self.running, watched

        def ended() -> None:
            self.running = outer

        return ended

    def _callback_ran(self, callback: Any, args: tuple, timed: bool = False) -> None:
        code = code_of(callback, args)
        if code is None or code.co_filename != self.code_file:
            return
        record = self._callbacks.get(code)
        if record is None:
            if len(self._callbacks) >= MAX_WATCHED:
                return
            record = self._callbacks[code] = Watched(name=code.co_name, callback=True)
            self.callbacks.append(record)
        if len(record.wakes) < MAX_WAKES:
            record.fired = timed  # run as a timer: that timer made this run
            record.woke(clock.perf_counter())

    def _timer_cancelled(self, handle: asyncio.TimerHandle) -> None:
        limit = self._pending.pop(id(handle), None)
        if limit is not None:
            limit.cancelled, limit.ended = True, clock.perf_counter()
        self._cancelled(handle)

    def _keep(self, limit: Limit) -> None:
        """Note a timer of the learner's; of its pauses (a poll makes one a period), those still
        pending and the latest MAX_PAUSES that have ended."""
        self.limits.append(limit)
        if not limit.pause:
            return
        self._pauses += 1
        if self._pauses > 2 * MAX_PAUSES:
            ended = [t for t in self.limits if t.pause and t.ended is not None][:-MAX_PAUSES]
            gone = set(map(id, ended))
            self.limits = [t for t in self.limits if id(t) not in gone]
            self._pauses -= len(ended)

    def _learners_site(self) -> Site | None:
        """Where in the learner's file the code running now was called from (None: not from it)."""
        if not self.code_file:
            return None
        frame = sys._getframe(2)
        for _ in range(MAX_DEPTH):
            if frame is None:
                return None
            if frame.f_code.co_filename == self.code_file:
                return site_of(frame)
            frame = frame.f_back
        return None

    def _noted_run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> asyncio.Future:
        """A thread's work the learner's file set going through asyncio (`asyncio.to_thread`,
        `loop.run_in_executor`), noted as a pause while it runs: a poll or a deadline kept there."""
        called = self._learners_call(sys._getframe(1))  # the caller of loop.run_in_executor
        target, given = _run_in_thread(func, args)
        below = called[1] if called is not None else None
        threaded = below is not None and below.f_code.co_name == "to_thread"
        how = "asyncio.to_thread(...)" if threaded else "loop.run_in_executor(...)"
        handed = called is not None and sleep_watch.is_a_timed_wait(target, given)
        # A timed wait it hands a thread itself is its own, held with its threads' own waits.
        run = sleep_watch.handed_by(called[0], func, how) if handed else func
        future = self._run_in_executor(executor, run, *args)
        if called is not None:
            site = called[0]
            work = self._note_work(how, site, future)
            if target in (time.sleep, sleep_watch.sleep) and len(given) == 1 and _seconds(given[0]):
                # A thread that only sleeps (`asyncio.to_thread(time.sleep, 0.2)`, raced against the
                # work) is a timer: its length, and whether it ran out, as a thread's timed wait's.
                work.delay, work.how = float(given[0]), how.replace("...", f"time.sleep, {given[0]:g}")
                future.add_done_callback(lambda done: _slept_out(work, done))
                # Awaited by the task that set it going, as that task's own sleep would be: a wait
                # in its turn (kata.testing.limits.waits_in_turn).
                work.task = _current_task_on(self._loop)
        return future

    def _noting_start(self) -> Callable[..., None]:
        """`threading.Thread.start` that notes, as a pause while it runs, a thread the learner's
        file starts itself (`threading.Timer(0.3, ...)`, a thread that polls): a deadline or a
        poll kept outside asyncio. Any other thread starts as before."""
        watch, start = self, self._thread_start

        def noting_start(thread: threading.Thread) -> None:
            caller = sys._getframe(1)
            if caller.f_code.co_filename == watch.code_file:
                watch._note_thread(thread, site_of(caller))
            start(thread)

        return noting_start

    def _note_thread(self, thread: threading.Thread, site: Site) -> None:
        """Note `thread`'s work, from its start until its `run` returns. (A thread class whose
        `run` cannot be replaced on the instance, a read-only property say, is not noted.)"""
        run = thread.run

        def noted_run() -> None:
            try:
                run()
            finally:
                work.ended = clock.perf_counter()

        try:
            thread.run = noted_run  # type: ignore[method-assign]
        except AttributeError:
            return
        how = "threading.Timer(...)" if isinstance(thread, threading.Timer) else "threading.Thread(...)"
        work = self._note_work(how, site)
        if isinstance(thread, threading.Timer) and _seconds(thread.interval):
            # A Timer the file starts is a timer of its own, whatever it calls back (asyncio's
            # `loop.call_soon_threadsafe`, so that no function of the file's runs in the thread):
            # its length, and whether it ran out (its function ran).
            work.delay, work.how = float(thread.interval), f"threading.Timer({thread.interval:g}, ...)"
            thread.function = _noting_its_run(work, thread.function)
            # Its wait is the file's too, held with its threads' own (sleep_watch._made_for): a
            # slot kept after its call until a Timer settles a future passed 15 and 22 (trial).
            thread._kata_started_at = site  # type: ignore[attr-defined]

    def _noting_submit(self) -> Callable[..., Any]:
        """`ThreadPoolExecutor.submit` that notes, as a pause while it runs, work the learner's
        file hands a pool itself (`asyncio.wrap_future(pool.submit(...))`); asyncio's own calls
        (`run_in_executor`) are noted there."""
        watch, submit = self, self._submit

        def noting_submit(executor: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any):
            future = submit(executor, fn, *args, **kwargs)
            caller = sys._getframe(1)
            if caller.f_code.co_filename == watch.code_file:
                watch._note_work("executor.submit(...)", site_of(caller), future)
            return future

        return noting_submit

    def _note_work(self, how: str, site: Site, future: Any = None) -> Limit:
        """Note work a thread does for the learner's file, from now until it ends (when `future`,
        if given, is done): a pause."""
        file, line, function = site
        work = Limit(
            0.0, how, os.path.basename(file), line, function, clock.perf_counter(), pause=True, thread=True
        )
        self._keep(work)
        if future is not None:
            future.add_done_callback(lambda _: setattr(work, "ended", clock.perf_counter()))
        return work

    def _learners_call(self, frame: Any, through_aiohttp: bool = False) -> tuple[Site, Any] | None:
        """Where the learner's file called into asyncio (or a library: anyio's `fail_after`, an
        `AsyncExitStack` entering `asyncio.timeout`), and the outermost frame of that call under
        its line, contextlib's aside (None: the loop's method itself), from `frame`, the caller of
        a loop method; None when the kata's or the tests' code made the call (the fakes sleep
        there), or aiohttp's, but with `through_aiohttp` (a ClientTimeout's timer: client_timeouts;
        aiohttp's other timers are its own). From the top of a task's stack: the learner's if its
        file made the task (`create_task(asyncio.sleep(3))`)."""
        below = None
        while frame is not None and frame.f_code.co_filename != self.code_file:
            if frame.f_code in _TASK_TOP:  # the task's own coroutine is asyncio's
                frame = None
                break
            name = frame.f_code.co_filename
            if name.startswith(_KATAS_OWN) or (not through_aiohttp and in_aiohttp(frame)):
                return None
            if not name.startswith(_CONTEXTLIB):
                below = frame
            frame = frame.f_back
        if frame is not None:
            return site_of(frame), below
        made_at = self.running.made_at if self.running is not None else None
        return None if made_at is None else (made_at, below)

    def _limit(self, when: float) -> Limit | None:
        """A timer set by the learner's file through asyncio or a library (`_learners_call`), or
        the timer of a ClientTimeout it gave aiohttp (`_aiohttp_limit`); else None:
        kata.testing.limits."""
        caller = loop_doors.past_the_door(sys._getframe(2))  # the caller of loop.call_at
        setter = timer_setter(caller)
        if setter is not None and in_aiohttp(setter):
            return self._aiohttp_limit(setter)
        called = self._learners_call(caller)
        return None if called is None else Limit.set_by(*called, _asked_for(caller, when, self._loop))

    def _aiohttp_limit(self, setter: FrameType) -> Limit | None:
        """The timer aiohttp's code at `setter` sets for a ClientTimeout field shorter than its
        default, in a request the learner's file made (kata.testing.client_timeouts); else None.
        A reply's read limit, set again as each piece comes (by the loop, not the code), is the
        learner's when its first was."""
        timeout = client_limit(setter)
        if timeout is None:
            return None
        called = self._learners_call(setter, through_aiohttp=True)
        if called is None and timeout.reader is not None:
            called = self._readers.get(timeout.reader)
        if called is None:
            return None
        if timeout.reader is not None:
            with contextlib.suppress(TypeError):
                self._readers[timeout.reader] = (called[0], None)  # no frame kept
        (file, line, function), _ = called
        seconds, how = timeout.seconds, timeout.how
        return Limit(seconds, how, os.path.basename(file), line, function, clock.perf_counter())

    def with_callbacks(self, untimed: bool = False) -> Seen:
        """The tasks' wake-ups and the learner's callbacks' runs, judged together; with `untimed`,
        only those the code's own timers did not make (Watched.untimed)."""
        watched = [*self.watched, *self.callbacks]
        return Seen([w.untimed() for w in watched] if untimed else watched, self.starved)

    def busiest(self, since: float, until: float) -> tuple[Watched, list[float]] | None:
        """The task that woke up most often strictly between `since` and `until`, with those moments."""
        counts = [(len(w.wakes_in(since, until)), n) for n, w in enumerate(self.watched)]
        if not counts or max(counts)[0] == 0:
            return None
        watched = self.watched[max(counts)[1]]
        return watched, watched.wakes_in(since, until)


# The wrapper a timer WakeWatch noted runs in (`_timed_call_at`): `code_of` looks through it to the
# function it calls back, the learner's own (a poll by a chain of `loop.call_later(0, check)`).
_WRAPPERS = {
    const
    for const in WakeWatch._timed_call_at.__code__.co_consts
    if isinstance(const, types.CodeType) and const.co_name == "callback"
}
_CALL_LATER = asyncio.BaseEventLoop.call_later.__code__
_WAIT_FOR = asyncio.tasks.wait_for.__code__
_CLOSING = {
    asyncio.BaseEventLoop.shutdown_asyncgens.__code__,
    asyncio.BaseEventLoop.shutdown_default_executor.__code__,
}


def _settles_its_wait(task: asyncio.Task | None, callback: Any, args: tuple) -> bool:
    """Whether a timer's `callback(*args)` settles the future `task` awaits now (its
    asyncio.sleep's, a future the code set with `loop.call_later(d, fut.set_result, None)`): the
    wake-up that follows is that timer's doing, not a thread's or another callback's."""
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is None:
        return False
    return any(arg is waiter for arg in args) or getattr(callback, "__self__", None) is waiter


async def _gone_on(cut: list[sleep_watch.TimedWait]) -> None:
    """Until the threads whose waits the probe ran out have gone on from them (THREAD_GO_ON s at
    most), and a moment more for what they do next (a threading.Timer calls its function): their
    threads need the interpreter, which this loop's turns alone never let go of (a limit kept in
    a thread ran out, and the calls ended before its thread had cancelled them)."""
    given_up = clock.perf_counter() + THREAD_GO_ON
    while any(wait.ended is None for wait in cut) and clock.perf_counter() < given_up:
        await asyncio.sleep(THREAD_STEP)
    await asyncio.sleep(THREAD_STEP)


def _thread_limit(wait: sleep_watch.TimedWait) -> Limit:
    """A timed wait of a thread of the code's own, as a timer of its loop is told (a sleep, or a
    threading.Timer's wait, is a pause; a wait with a time limit, a limit)."""
    pause = wait.how.startswith(("time.sleep(", "threading.Timer("))
    # A float: the sandbox's report drops a number of another type (`threading.Timer(5, ...)`).
    seconds = float(wait.seconds)
    return Limit(seconds, wait.how, wait.file, wait.line, wait.function, wait.started, pause=pause)


def _runs_as_if_due(handle: asyncio.TimerHandle, loop: asyncio.AbstractEventLoop) -> None:
    """A timer run out early (WakeWatch.run_out_own_timers) runs its callback with the loop's
    clock reading the moment it was due: a library's limit that checks the clock when its timer
    fires (anyio's CancelScope: `deadline <= loop.time()`, else it sets its timer again) then gives
    up as it would have, where it would otherwise only set itself again (a red team's
    `anyio.fail_after(5)` passed every probe that way). asyncio's own callbacks read no clock.
    Called before the timer is moved (`_move_pending`)."""
    due, callback = handle._when, handle._callback
    # anyio's scope checks its deadline again as it exits (fail_after raises TimeoutError only if
    # the clock has reached it): its deadline comes forward to now, as the timer does. The timer's
    # callback is WakeWatch's wrapper (`_timed_call_at`) around the scope's method: it was missed,
    # and a limit whose cancel the code then swallowed passed (18's wait_until, 21's acquire).
    scope = getattr(getattr(callback, "__wrapped__", callback), "__self__", None)
    if type(getattr(scope, "_deadline", None)) is float:
        with contextlib.suppress(Exception):
            scope._deadline = min(scope._deadline, type(loop).time(loop))

    def as_if_due(*args: Any) -> Any:
        before = vars(loop).get("time")  # a clock someone set on this loop already: put back after
        loop.time = lambda: max(due, (before or type(loop).time.__get__(loop))())  # type: ignore[method-assign]
        try:
            return callback(*args)
        finally:
            if before is None:
                del loop.time
            else:
                loop.time = before

    handle._callback = as_if_due


def _asked_for(caller: FrameType, when: float, loop: asyncio.AbstractEventLoop) -> float:
    """The delay of a timer due at `when`: what `loop.call_later` was asked for where it set it
    (asyncio.sleep's delay, exactly), or `asyncio.wait_for` (its `timeout`, on every Python),
    else the time left until `when` as read now. Read now alone,
    a thread that ran late between call_later's clock read and this one (a busy machine) made the
    delay short: a correct `asyncio.sleep(0.1)` was noted as 0.095 s, and 22's exact backoff test
    failed it under the self-check's load (CI, 2026-12-04)."""
    if caller.f_code is _CALL_LATER:
        delay = caller.f_locals.get("delay")
        if isinstance(delay, int | float) and not isinstance(delay, bool):
            return float(delay)
    # From 3.12 wait_for sets its timer through asyncio.timeout (loop.call_at, two frames down):
    # its `timeout` is what the code asked for.
    frame: FrameType | None = caller
    for _ in range(3):
        if frame is None:
            break
        if frame.f_code is _WAIT_FOR:
            timeout = frame.f_locals.get("timeout")
            if isinstance(timeout, int | float) and not isinstance(timeout, bool):
                return float(timeout)
            break
        frame = frame.f_back
    return when - loop.time()


class Seen:
    """Wake-ups to judge together, as a WakeWatch's (`busiest`): its tasks' and callbacks'."""

    busiest = WakeWatch.busiest

    def __init__(self, watched: list[Watched], starved: list[tuple[float, float]] | None = None) -> None:
        self.watched = watched
        self.starved = starved


# -- Judging a wait: wake-ups while nothing changes -------------------------------------------

# What a watch kept in another process reports (judge mode): so many tasks, so many wake-ups each.
MAX_WATCHED, MAX_WAKES = 1000, 100_000


def packed_wakes(wakes: list[float]) -> bytes:
    """Wake-up times as one string of 8-byte floats, for the sandbox's report: sent as a list, a
    busy poll's 50,000 wake-ups took the sandbox's loop 0.1 s to encode, and its own guard then
    told the learner their code had frozen the loop."""
    return array("d", wakes[:MAX_WAKES]).tobytes()


def unpacked_wakes(packed: Any) -> list[float]:
    """`packed_wakes` read back (bounded, nonsense dropped: it comes from the learner's process)."""
    if type(packed) is not bytes or len(packed) % 8:
        return []
    values = array("d")
    values.frombytes(packed[: MAX_WAKES * 8])
    return [value for value in values if math.isfinite(value)]


def packed_stretches(stretches: list[tuple[float, float]] | None) -> bytes | None:
    """Stretches (start, end) packed as `packed_wakes` packs moments; None stays None."""
    return None if stretches is None else packed_wakes([t for stretch in stretches for t in stretch])


def unpacked_stretches(packed: Any) -> list[tuple[float, float]] | None:
    """`packed_stretches` read back; None when none were reported (or nonsense: the learner's
    process may have sent anything, and a stretch only ever fails a test)."""
    if type(packed) is not bytes:
        return None
    moments = unpacked_wakes(packed)
    return [(start, end) for start, end in zip(moments[::2], moments[1::2], strict=False) if end >= start]


# While nothing changes, code that waits on an Event, a Condition, a Semaphore or a future is
# not woken at all; code that polls wakes up once per period. From this many wake-ups on, it polls.
WOKEN = 2

POLLS = (
    "{while_}, {who} woke up {count} ({every}): it checks {what} {again} (a sleep or a "
    "timeout in a loop) instead of sleeping until {until}. Each check costs CPU for nothing, and "
    "between checks it reacts late. {fix}"
)


def every(gaps: list[float]) -> str:
    """How often something recurred, from the gaps between its occurrences."""
    gap = statistics.median(gaps)
    return "less than 1 ms apart" if gap < 0.0005 else f"about every {gap * 1000:.0f} ms"


def started_by_the_code(woken: Watched, named: dict) -> bool:
    """Whether `woken` is a task the learner's code started: not the learner's function's own task
    (named by the test, or in judge mode a task known by no name) nor a callback."""
    return woken.task not in named and not woken.callback and bool(woken.name)


def who_woke(woken: Watched, polling: list[Watched], named: dict, served: str) -> str:
    """`woken` in the learner's words: a task the test made and named, or one the learner's code
    started. `served` names the learner's function the test called: in judge mode a task in the
    sandbox that ran one of the test's calls is known only as that."""
    if woken.task in named:
        return named[woken.task]
    if woken.callback:
        return f"{woken.name}(), which your code had the event loop call back,"
    if not started_by_the_code(woken, named):
        return served
    alike = [w for w in polling if w.name == woken.name and w.task not in named]
    if len(alike) > 1:
        return f"each of the {len(alike)} tasks running {woken.name}() that your code started"
    return f"the task running {woken.name}() that your code started"


def assert_slept(wakes, since, until, named, while_, words, check, served, woken=WOKEN) -> None:
    """Fail if a task of the learner's woke up `woken` times or more between `since` and `until`.

    `words` fills POLLS: `what` is checked, `until` what it should sleep until, `fix` what to do.
    """
    busiest = wakes.busiest(since, until)
    moments = busiest[1] if busiest else []
    if margins.over(len(moments), woken, check, unit="wake-ups"):
        polling = [w for w in wakes.watched if len(w.wakes_in(since, until)) >= woken]
        gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
        raise AssertionError(
            POLLS.format(
                while_=while_,
                who=who_woke(busiest[0], polling, named, served),
                count="once" if len(moments) == 1 else f"{len(moments)} times",
                again="with nothing to wake it" if len(moments) == 1 else "again and again",
                every=every(gaps) if gaps else f"{moments[0] - since:.2f} s into that time",
                **words,
            )
        )


# How long before a change the task that makes it may wake: asyncio may run a timer early (two
# 15.6 ms clock ticks on Windows before Python 3.13, kata.testing.clock), and a limiter that then
# finds its moment not yet come sleeps again for the rest.
BEFORE_A_CHANGE = max(0.02, clock.EARLY_WAKE + 0.01)


def longest_quiet(changes: list[float], margin: float, early: float = BEFORE_A_CHANGE) -> tuple[float, float]:
    """The longest stretch between two of `changes` (moments something happened that may wake a
    waiter: a call starting or ending, a place freeing), less `margin` after the change that
    begins it (a woken task may run late, and in judge mode its news crosses to the other
    process) and `early` before the one that ends it (the task whose sleep makes that change
    wakes just before it is noted, and asyncio may wake a sleeper a little early).
    Returns (since, until); since >= until when there is none."""
    moments = sorted(changes)
    if len(moments) < 2:
        return 0.0, 0.0
    since, until = max(itertools.pairwise(moments), key=lambda pair: pair[1] - pair[0])
    return since + margin, until - early


class LoopFrozen(AssertionError):
    """Raised inside code that kept the event loop frozen (see FrozenLoopBreaker)."""


# The watchdog wakes rarely: each time it does, it needs the GIL, and on a busy machine
# handing the GIL over can keep the event loop waiting.
BEAT = 0.05  # the loop's sign of life
CHECK = 0.1  # how often the watchdog looks at it
FREEZE = 0.3  # no turn for this long, with the learner's code running: frozen (the loop guard's limit is 0.1)
AGAIN = 0.1  # once one freeze was broken, the next is the same mistake: break it sooner
LOST = 0.25  # the watchdog itself late by this much: the OS did not run this process


class Watchdog:
    """One thread for the whole process, calling `look(watched, now)` every `every` seconds on
    the one object on duty (a FrozenLoopBreaker here; kata.testing.frozen_at's sampler too).

    Starting or joining a thread waits on the OS scheduler, with the event loop standing
    still: this one is started once, when the first object goes on duty, and never joined. It
    sleeps without waking while none is on duty. It looks while holding `lock`, so once `stop`
    returns it can no longer act for that object. The CPU its looks take is counted as the kata's
    own (kata.testing.stall_cause.count_own_cpu): not a thread of the learner's computing.
    """

    def __init__(self, name: str, every: float, look: Callable[[Any, float], None]) -> None:
        self.name, self.every, self.look = name, every, look
        self.lock = threading.Lock()
        self.duty = threading.Condition(self.lock)
        self.watched: Any = None
        self.started = False

    def watch(self, watched: Any) -> None:
        with self.lock:
            self.watched = watched
            if not self.started:
                threading.Thread(target=self._run, name=self.name, daemon=True).start()
                self.started = True
            self.duty.notify()

    def stop(self, watched: Any) -> None:
        with self.lock:
            if self.watched is watched:
                self.watched = None

    def _run(self) -> None:
        with self.lock:
            while True:
                if self.watched is None:
                    self.duty.wait()
                else:
                    started = _thread_time()
                    self.look(self.watched, clock.monotonic())
                    stall_cause.count_own_cpu(_thread_time() - started)
                    self.duty.wait(self.every)


class FrozenLoopBreaker:
    """Breaks a loop that never awaits: raises `LoopFrozen(explain(function, seconds))` inside it.

    `code_file` is the learner's module: the error is raised only when a function of that
    file is running (`function` is its name), never inside the harness or asyncio. A frozen
    loop is one that had no turn for FREEZE s while the watchdog thread itself kept running
    (so a process that the OS did not schedule for a while is not mistaken for one). The
    signal is only simulated (`_thread.interrupt_main`), on POSIX as SIGUSR1.
    Inactive outside the main thread.
    """

    def __init__(self, explain: Callable[[str, float], str], code_file: str | None) -> None:
        self.explain, self.code_file = explain, code_file
        self.broken = 0  # how many freezes were broken
        self._active = False

    def __enter__(self) -> FrozenLoopBreaker:
        if threading.current_thread() is not threading.main_thread() or not self.code_file:
            return self
        self._signum = getattr(signal, "SIGUSR1", signal.SIGINT)
        self._previous = signal.signal(self._signum, self._interrupted)
        self._active = True
        self._loop = asyncio.get_running_loop()
        self._frozen_for = 0.0
        self._beat()
        self._limit, self._seen = FREEZE, self._last_beat
        self._regular_since = self._last_check = clock.monotonic()
        _WATCHDOG.watch(self)
        return self

    # `async with`: the form a breaker kept in another process needs (kata.judge.session).
    async def __aenter__(self) -> FrozenLoopBreaker:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__(*exc_info)

    def __exit__(self, *exc_info: object) -> None:
        if not self._active:
            return
        _WATCHDOG.stop(self)
        self._active = False
        self._handle.cancel()
        # Runs an interrupt still pending (now a no-op) before giving the signal back.
        signal.signal(self._signum, self._previous)

    def _beat(self) -> None:
        self._last_beat = clock.monotonic()
        self._handle = self._loop.call_later(BEAT, self._beat)

    def _check(self, now: float) -> None:
        """One look by the watchdog thread (which holds its lock)."""
        if now - self._last_check > LOST:
            self._regular_since = now  # the watchdog was not run either: the process was not scheduled
        self._last_check = now
        beat = self._last_beat
        if beat != self._seen:
            self._seen, self._limit = beat, AGAIN if self.broken else FREEZE
        elif now - max(beat, self._regular_since) >= self._limit:
            self._frozen_for = now - beat
            _thread.interrupt_main(self._signum)
            self._regular_since, self._limit = now, AGAIN

    def _interrupted(self, signum: int, frame: Any) -> None:
        if not self._active:
            return
        names = []  # the learner's functions on the stack, innermost first
        while frame is not None:
            if frame.f_code.co_filename == self.code_file:
                names.append(frame.f_code.co_name)
            frame = frame.f_back
        if not names:
            return  # not the learner's code: the loop guard reports the stall afterwards
        self.broken += 1
        # A lambda or a comprehension is named after the function around it.
        function = next((name for name in names if not name.startswith("<")), "your code")
        raise LoopFrozen(self.explain(function, self._frozen_for))


_WATCHDOG = Watchdog("kata-frozen-loop-watchdog", CHECK, lambda breaker, now: breaker._check(now))


# While every call a function waits for runs (from QUIET_FROM s after the last one started to
# QUIET_BEFORE s before the first ends), nothing changes that could wake code waiting on them.
# kata.testing.own_timers: loop turns given to the code once its timers ran out (a timer's callback,
# the task it wakes, a wait it cancels, the call that cancel stops), and how long past when it was
# due a timer is held back as the calls end.
# Seconds the probe waits at most for the threads whose timed waits it ran out to go on, and the
# step it waits in (each lets those threads run).
THREAD_GO_ON = 0.2
THREAD_STEP = 0.002
PROBE_TURNS = 8
# Loop turns a hold that found no timer pending gives the code's tasks woken by one that just ran
# (its wake-up, then the step that sets the next timer), before it looks again.
REARM_TURNS = 3
HELD_BACK = 3600.0
HOP_WAIT = 5.0  # seconds a probe waits for another loop of the learner's to do its part


def _settle(there: concurrent.futures.Future, done: asyncio.Task) -> None:
    """Hand a hop's ending (`done`, on the learner's loop) to the future waited on elsewhere
    (unless it was given up on there meanwhile)."""
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if done.cancelled():
            there.cancel()
        elif done.exception() is not None:
            there.set_exception(done.exception())
        else:
            there.set_result(done.result())


def _cancel_all(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()


QUIET_FROM = 0.05
QUIET_BEFORE = 0.01
MIN_QUIET = 0.05  # a shorter stretch than this is too short to judge


def not_watched(since: float, until: float, function: str, while_: str) -> AssertionError:
    """The failure on time for a stretch shorter than MIN_QUIET. A check that skipped it would
    pass any code, a poll too: a busy machine that started the calls far apart (or ended one
    late) squeezes the stretch, so the test runs again. Calls that never ran at once at all may
    also be the code's doing (one after another, in batches): it says so too."""
    margins.under(until - since, MIN_QUIET, f"{function}: a quiet stretch long enough to watch")
    if until - since + QUIET_FROM + QUIET_BEFORE > 0:
        why = "ran at once for too short a time to see whether it checks on them again and again"
    else:
        why = (
            "never all ran at once (the last began after the first had ended): if your code "
            "awaits each before starting the next, or a few at a time, start them all together"
        )
    return AssertionError(
        f"this test could not watch {function} {while_}: the calls it waits for {why}. A busy "
        "machine can do this too (it starts or ends them late): `python grade.py` runs the test "
        "again, and if it fails the same way on a quiet machine, the code is the cause."
    )


# The least time in a watched stretch that the event loop must have been free to run (not starved:
# kata.testing.turns) for no wake-up there to mean anything: a poll with no timer wakes at every
# turn of the loop, and a loop free to run turns within STARVED.
MIN_FREE = 0.01


def free_time(starved: list[tuple[float, float]], since: float, until: float) -> float:
    """How much of `since`..`until` lies outside every one of the `starved` stretches."""
    covered, edge = 0.0, since
    for start, end in sorted(starved):
        start, end = max(start, edge), min(end, until)
        if end > start:
            covered += end - start
            edge = end
    return max(0.0, until - since - covered)


def assert_loop_ran(wakes, since: float, until: float, function: str, while_: str) -> None:
    """A failure on time if the event loop was starved through `since`..`until` (free to run for
    less than MIN_FREE of it): no task could wake there, so a poll with no timer (`await
    asyncio.sleep(0)` in a loop) is not seen, and no wake-up in it proves nothing. Checked after
    what the stretch showed (wake-ups, timers): those fail in their own words first. Nothing to
    check where the loop's turns are not timed (`wakes.starved` is None)."""
    starved = getattr(wakes, "starved", None)
    if starved is None or until <= since:
        return
    free = free_time(starved, since, until)
    if margins.under(free, MIN_FREE, f"{function}: the event loop free to run in the stretch watched"):
        raise AssertionError(
            f"this test could not watch {function} {while_}: the event loop could run nothing for "
            f"{until - since - free:.2f} s of those {until - since:.2f} s, so the test cannot tell whether "
            "your code would have woken there. A busy machine does this (the loop's thread waited for "
            "a core); so does code that blocks the loop. `python grade.py` runs the test again, and "
            "if it fails the same way on a quiet machine, the code is the cause."
        )


def assert_slept_while_the_calls_ran(wakes, calls, named, function, fix, own_timers=True, probe=None) -> None:
    """Fail if the learner's code woke up, or kept a timer of its own pending, while every one of
    `calls` (a fake's, all started at once) was still running: code that awaits them sleeps
    through that stretch; a poll (a sleep in a loop, however long its period, or a wait with a
    timeout) wakes in it or keeps its timer pending there. `named` maps the test's task of the
    learner's call to `function`, its name; `fix` says what to do instead. With `own_timers`
    False, the code's timers are not judged (the docstring gives a limit, whose timer is pending).
    With `probe` (kata.testing.own_timers.OwnTimersProbe, which judged the code's timers by what
    they do), the stretch ends where the probe began, pending timers are no mistake, and neither is
    a wake-up one of them made (a heartbeat every 0.05 s: a poll by a timer never sees its calls end
    while the probe holds its timer back); a wake-up with no timer of its own behind it still is."""
    if not calls or any(call.end is None for call in calls):
        return
    since = max(call.start for call in calls) + QUIET_FROM
    until = min(call.end for call in calls) - QUIET_BEFORE
    if probe is not None:  # its timers are judged: assert_slept_between
        until = probe.watched_until(until)
    while_ = f"while your {len(calls)} calls ran (the {until - since:.2f} s this test watched)"
    what = ("whether the calls are done", "they are")
    assert_slept_between(wakes, since, until, named, function, while_, what, fix, own_timers, probe=probe)


def assert_no_thread_at_work(
    wakes, since: float, until: float, while_: str, needs_none: str, fix: str
) -> None:
    """Fail for a thread of the learner's code's own at work between `since` and `until` (kata
    clock), a stretch in which nothing it waits for can change: however it waits there (a
    `time.sleep`, a lock's or a queue's timed wait, a spin), a thread that checks does it again and
    again, and late. `wakes`: a WakeWatch given the learner's module (`wake_watch(ex)`), which notes
    the threads its file starts (`asyncio.to_thread`, `run_in_executor`, `threading.Thread`, a
    pool's `submit`); `needs_none`: why the wait needs no thread; `fix`: what to do instead."""
    threads = alive_between(wakes, since, until, only_threads=True)
    if threads:
        raise AssertionError(
            f"{while_}, a thread of your code's own was working: {threads[0].where()}. {needs_none}, "
            f"and a thread that checks for it does it again and again, and late. {fix}"
        )


def assert_slept_between(
    wakes, since, until, named, function, while_, what, fix, own_timers=True, probe=None
) -> None:
    """Fail if the learner's code woke up, or kept a timer of its own pending, between `since` and
    `until` (kata clock), a stretch in which nothing it waits for can change; `what` is what it
    would be checking and until when it should sleep instead (("whether the calls are done",
    "they are")), `fix` what to do. With `probe` (kata.testing.own_timers.OwnTimersProbe, which
    judged the code's timers by what they did; `until` is then `probe.watched_until(...)`), its
    pending timers are not judged here, and a wake-up one of its timers made is no mistake (a
    heartbeat: Watched.untimed); one with no timer behind it still is.

    A stretch shorter than MIN_QUIET is a failure on time (`not_watched`): a check that a busy
    machine made skip would pass any code."""
    untimed = probe is not None
    if untimed:
        own_timers = False
    if until - since < MIN_QUIET:
        raise not_watched(since, until, function, while_)
    assert_slept(
        wakes.with_callbacks(untimed),
        since,
        until,
        named,
        while_,
        {"what": what[0], "until": what[1], "fix": fix},
        f"{function}: wake-ups while nothing it waits for changes < 1",
        function,
        woken=1,
    )
    timers = alive_between(wakes, since, until, threads=False) if own_timers else []
    if timers:
        raise AssertionError(
            f"{while_}, a timer of your code's own was pending: {timers[0].where()}. Waiting needs "
            "none: a sleep in a loop checks again and again (however long its period), and a time "
            f"limit gives up on what is slower than it (the docstring gives none). {fix}"
        )
    assert_loop_ran(wakes, since, until, function, while_)
