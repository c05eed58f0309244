"""The tasks that run one caller's calls, on the side that runs them (the sandbox).

In one process the test's calls of the learner's code from one task run in that very task:
`async with lease` runs `__aenter__`, and later `__aexit__`, in the test's task. So what the first
leaves in its task is there for the second: a context variable, or `asyncio.current_task()` kept
as a key. Here each caller (a task of the other side's, by the number that side gives it) gets a
task of its own, kept between its calls: each of its calls runs in it, one after another, and it
ends with the test (`retire`).

A call that comes while its caller's task is still busy (a cancel crossed the end of the call
before) runs in a task of its own, with a copy of its caller's context; so does a call from no
task, and a call from a caller past MAX_CALLERS at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable, Coroutine
from typing import Any

MAX_CALLERS = 4096


class _Caller:
    """One caller's task, and the future it waits on between calls (`idle`)."""

    def __init__(self, context: contextvars.Context) -> None:
        self.context = context  # the task's own: what each call leaves stays
        self.task: asyncio.Task | None = None
        self.idle: asyncio.Future | None = None  # handed the next call (None: end)
        self.retiring = False


class CallersTasks:
    """`start(caller, message)` runs a call in its caller's task (on the running loop); `tasks()`
    are those tasks; `retire()` ends them once their calls are done."""

    def __init__(self, run: Callable[[dict], Coroutine[Any, Any, None]]) -> None:
        self._run = run  # runs one call, and never raises (Peer._run_async)
        # Per caller, its task in each loop its calls ran on (a caller's end finds its own at once).
        self._callers: dict[int, dict[asyncio.AbstractEventLoop, _Caller]] = {}
        self._count = 0
        self._lock = threading.Lock()
        # Told, just before a caller's task is handed its next call, which task (and whether it
        # is woken to end instead): a watch of the learner's tasks counts what runs from there
        # on as a new task's, as one made for that call, and the wake-up as none.
        self.handing_over: Callable[[asyncio.Task, bool], None] | None = None
        # The context the learner's module was imported in (the sandbox's host sets it on each
        # load). In one process the test's task sees what the import set (a module-level
        # `GREETING.set("Hello")`): a caller whose maker is unknown here starts from a copy of it.
        self.import_context: contextvars.Context | None = None
        # Callers' tasks told to end (`end`, `retire`), until they have: no longer kept for a next
        # call, yet still serving the other side, never a task of the learner's. A call that ended
        # beside them (a test that gathers calls into the code: 16's every number of workers) saw
        # one as left running by the learner's code.
        self._ending: set[asyncio.Task] = set()

    def start(self, caller: int | None, message: dict, made_by: int | None = None) -> asyncio.Task:
        """Run the call `message` from `caller` (None: from no task) on the running loop; the
        task it runs in. Its first step runs in the loop's next turn, as a new task's would.

        A caller's first call names the caller that made it (`made_by`), if any: in one process
        a task starts with a copy of the context of the task that made it, so its task here
        starts with a copy of that caller's context (what the code set in the parent's calls)."""
        loop = asyncio.get_running_loop()
        key = (caller, loop)
        with self._lock:
            held = self._held(key) if caller is not None else None
            new = held is None and caller is not None and self._count < MAX_CALLERS
            if new:
                parent = self._held((made_by, loop)) if made_by is not None else None
                context = parent.context.copy() if parent is not None else self._first_context()
                held = self._callers.setdefault(caller, {})[loop] = _Caller(context)
                self._count += 1
        if new:
            held.task = loop.create_task(self._serve_caller(held, key, message), context=held.context)
            return held.task
        if self._hand(held, message):
            return held.task
        context = held.context.copy() if held is not None else self._first_context()
        return loop.create_task(self._run(message), context=context)

    def _first_context(self) -> contextvars.Context:
        """The context a task with no caller's to copy starts with: a copy of the import's."""
        imported = self.import_context
        return imported.copy() if imported is not None else contextvars.copy_context()

    def _hand(self, held: _Caller | None, message: dict | None) -> bool:
        """Hand an idle caller's task its next call (None: its end), in its loop; whether it was idle.
        Whatever the task runs from then on is watched as a new task's (`handing_over`): waking
        it is the kata's doing, never a wake-up of the learner's code."""
        if held is None or held.idle is None or held.idle.done():
            return False
        if self.handing_over is not None:
            with contextlib.suppress(Exception):
                self.handing_over(held.task, message is None)
        idle, held.idle = held.idle, None
        idle.set_result(message)
        return True

    async def _serve_caller(self, held: _Caller, key: tuple, message: dict | None) -> None:
        task = asyncio.current_task()
        try:
            while message is not None:
                await self._run(message)
                # A cancel of this call is spent: the caller's next call starts uncancelled, as
                # the task of a new call would (one process: the test's task ends with it).
                while task.cancelling():
                    task.uncancel()
                if held.retiring:
                    break
                held.idle = asyncio.get_running_loop().create_future()
                message = await held.idle
        except asyncio.CancelledError:
            pass  # cancelled between calls: its loop's clean-up; nothing of the learner's runs
        finally:
            held.idle = None
            with self._lock:
                if self._held(key) is held:
                    self._drop(key)

    def _held(self, key: tuple[int, asyncio.AbstractEventLoop]) -> _Caller | None:
        """The caller's task kept in that loop (under the lock)."""
        return self._callers.get(key[0], {}).get(key[1])

    def _drop(self, key: tuple[int, asyncio.AbstractEventLoop]) -> _Caller | None:
        """Forget the caller's task kept in that loop (under the lock); it, if there was one."""
        loops = self._callers.get(key[0])
        held = loops.pop(key[1], None) if loops is not None else None
        if held is not None:
            self._count -= 1
            if not loops:
                del self._callers[key[0]]
        return held

    def tasks(self) -> set[asyncio.Task]:
        """The callers' tasks now, busy, waiting for their next call, or told to end and not yet ended."""
        with self._lock:
            self._ending = {task for task in self._ending if not task.done()}
            kept = {held.task for loops in self._callers.values() for held in loops.values()} - {None}
            return kept | self._ending

    def _ends(self, held: _Caller) -> None:
        """`held`'s task is told to end (under the lock): counted among the callers' tasks until it has."""
        if held.task is not None:
            self._ending.add(held.task)

    def of(self, caller: int) -> list[tuple[int, asyncio.AbstractEventLoop]]:
        """The keys of `caller`'s tasks (one per loop its calls ran on)."""
        with self._lock:
            return [(caller, loop) for loop in self._callers.get(caller, ())]

    def end(self, key: tuple[int, asyncio.AbstractEventLoop]) -> None:
        """In that loop: the caller's task ends once its call is done (the caller ended there, so
        it makes no more calls). In one process it is the caller's own task, ended with it: code
        that awaits the tasks it finds (`asyncio.all_tasks()`) must not wait for this one."""
        with self._lock:
            held = self._drop(key)
            if held is not None:
                self._ends(held)
        if held is not None:
            held.retiring = True
            self._hand(held, None)

    def retire(self) -> None:
        """End the callers' tasks, each once its call is done (the test ended): later calls get
        new ones. Each ends in its loop's next turns."""
        with self._lock:
            callers = [(loop, held) for loops in self._callers.values() for loop, held in loops.items()]
            self._callers, self._count = {}, 0
            for _, held in callers:
                self._ends(held)
        for loop, held in callers:
            held.retiring = True
            with contextlib.suppress(RuntimeError):  # its loop is closed: the task is gone with it
                loop.call_soon_threadsafe(self._hand, held, None)
