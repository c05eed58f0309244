"""Watch the event loop while a test runs and name the classic async mistakes.

- a frozen loop (blocking code): each stretch the loop runs between two waits for events is timed
  at its selector (kata.testing.turns); a loop without one (Windows' proactor) gets a heartbeat
  timer that measures its own lateness;
- tasks still running when the learner's code returned (fire-and-forget): made through the loop's
  task factory, or seen at their first step (made as `asyncio.Task(coro)`: kata.testing.loop_runs);
- errors the loop reported but nobody saw ("Task exception was never retrieved",
  "Unclosed client session"), collected by a loop exception handler;
- coroutines that were created but never awaited, and resources left open,
  collected from the warnings Python raises when it frees them.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import re
import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kata import where
from kata.testing import (
    clock,
    frozen_at,
    loop_runs,
    margins,
    sleep_watch,
    stall_cause,
    thread_calls,
    thread_leftovers,
    turns,
)

# Correct code on a 2-core machine with 16 CPU burners stalled the loop at most
# ~30 ms; blocking code stalls it for the length of the block (FIELD-NOTES).
STALL_LIMIT = 0.1
BEAT = 0.005  # the heartbeat's period, where the loop has no selector to time its stretches at

UNAWAITED = re.compile(r"coroutine '(?P<name>[^']+)' was never awaited")

BLOCKED = (
    "the event loop was frozen for {stall:.2f} s: something blocked it (time.sleep, a blocking "
    "library call, or heavy CPU work in async code). While the loop is frozen no other task can "
    "run. Wait with `await asyncio.sleep(...)`; move a blocking call off the loop with "
    "`await asyncio.to_thread(...)`, and CPU-heavy work to a process pool."
)
# The learner's code called time.sleep in async code (kata.testing.sleep_watch): surely blocking,
# however short, and worded as BLOCKED_ASLEEP begins, so that it gets no second run either.
SLEPT = (
    "the event loop was frozen for {total:.2f} s, asleep in a blocking call: your code called "
    "time.sleep in async code{times}:\n{places}\ntime.sleep stops the whole thread, however short "
    "the sleep: no other task can run meanwhile. Wait with `await asyncio.sleep(...)`."
)
# The learner's code called a blocking wait of the standard library in async code (besides
# time.sleep: kata.testing.sleep_watch), worded as SLEPT begins; WAIT_INSTEAD says, for each kind of
# call it made, what to use instead.
WAITED = (
    "the event loop was frozen for {total:.2f} s, asleep in a blocking call: your code called "
    "{calls} in async code{times}:\n{places}\n{those} the whole thread until {they}, however "
    "short the wait: no other task can run meanwhile. {instead}"
)
WAIT_INSTEAD = {
    "time.sleep": "Wait with `await asyncio.sleep(...)`.",
    "threading": (
        "Between tasks use asyncio's own, whose waits you await: asyncio.Lock (`async with lock:`), "
        "asyncio.Event (`await event.wait()`), asyncio.Condition, asyncio.Semaphore, asyncio.Barrier; "
        "to pause, `await asyncio.sleep(...)`."
    ),
    "queue": (
        "Between tasks use an asyncio.Queue (`await queue.get()`, `await queue.put(item)`); a "
        "queue.Queue that threads use is read off the loop: `await asyncio.to_thread(q.get)`."
    ),
    "thread": (
        "Await the work instead: run it with `await asyncio.to_thread(...)` (or `await "
        "loop.run_in_executor(...)`), await a pool's future with `await asyncio.wrap_future(future)`, "
        "and wait for a thread of your own off the loop: `await asyncio.to_thread(thread.join)`."
    ),
    "subprocess": (
        "Run the program with asyncio's own: `process = await asyncio.create_subprocess_exec(...)`, "
        "then `await process.communicate()` (or `await process.wait()`); or move the call off the "
        "loop: `await asyncio.to_thread(subprocess.run, ...)`."
    ),
    "select.select": (
        "Let the loop wait for the sockets (asyncio streams, `await loop.sock_recv(...)`), or move "
        "the call off the loop: `await asyncio.to_thread(select.select, ...)`."
    ),
}
# The loop's thread, alone in its process, slept through the stall on a machine that is not busy
# (kata.testing.stall_cause): a blocking call, surely the code's, so no second run for it.
BLOCKED_ASLEEP = (
    "the event loop was frozen for {stall:.2f} s, asleep in a blocking call: something in async code "
    "waited without `await` (time.sleep, or a library call that blocks, such as requests.get). While "
    "the loop is frozen no other task can run. Wait with `await asyncio.sleep(...)`; move a blocking "
    "call off the loop with `await asyncio.to_thread(...)`."
)
FROZEN_PREFIX = BLOCKED.split("{", 1)[0]  # how every frozen-loop finding begins
# Added to BLOCKED when the machine was busy (a learner trial, at a load of 4.5 on 2 cores, was told
# its loop froze 0.75 s in session.get, which blocks nothing): the freeze may be the machine's.
BUSY_MACHINE = (
    "\nThis machine was busy meanwhile (more programs wanted a core than it has), so the freeze may "
    "be its doing, not your code's: `python grade.py` runs a test that failed for nothing else again."
)
_ASLEEP = re.compile(re.escape(FROZEN_PREFIX) + r"[0-9.]+ s, asleep in a blocking call")
LEAKED = (
    "{count} still running after your code had finished: {names}. Every task you start must be "
    "awaited (or cancelled and awaited) before your function returns or raises, or its work and "
    "its errors are lost."
)
NEVER_AWAITED = (
    "you called {name}(){times} but never awaited it: calling an async function only creates a "
    "coroutine object, and nothing runs until you `await` it (or hand it to asyncio.gather "
    "or asyncio.create_task)."
)
# asyncio.as_completed gives awaitables made by an inner coroutine of its own (_wait_for_one: a
# local function to 3.12, a method of _AsCompletedIterator from 3.13): a loop over it that never
# awaits what it gives.
AS_COMPLETED_NOT_AWAITED = (
    "you looped over asyncio.as_completed(...) but never awaited what it gave{times}: each item "
    "is an awaitable that waits for the next call to finish, and nothing is waited for until "
    "you await it: `for next_done in asyncio.as_completed(tasks): result = await next_done`."
)
LOST_ERROR = (
    "a task failed with {error} and nobody awaited it or read its error, so the error was silently "
    "lost: await every task you create, or read the error of one whose result you skip "
    "(`task.exception()`); gather and a TaskGroup await the tasks they were given, not ones created after."
)
LOST_ERROR_START = LOST_ERROR.split("{", 1)[0]
LOST_ERROR_END = LOST_ERROR.split("}", 1)[1]
# Several tasks' errors lost, said once (a learner trial's first_success left 18 failures of one
# done set unread, and was told so in 18 lines alike, with no headline).
LOST_ERRORS = (
    "{count} tasks failed and nobody awaited them or read their errors, so the errors were silently "
    "lost: {errors}. Await every task you create, or read the error of one whose result you skip "
    "(`task.exception()`); gather and a TaskGroup await the tasks they were given, not ones created after."
)
SHOWN_LOST = 3  # errors named in LOST_ERRORS; the rest counted
UNCLOSED_SESSION = (
    "an aiohttp ClientSession was never closed: open it with "
    "`async with aiohttp.ClientSession() as session:` so it is closed even when a request fails."
)
# An unclosed session reports its connector too: said only where no session was left open (a
# connector of the code's own, kept past its session: a trial's module-level TCPConnector with
# `connector_owner=False` under `async with ClientSession(...)` was told to use `async with`).
UNCLOSED_CONNECTOR = (
    "an aiohttp connector was never closed: a session closes the connector it is given unless "
    "told `connector_owner=False`; a connector you keep yourself (in the module, say) must be "
    "closed by you, `await connector.close()`, once no session needs it."
)
UNCLOSED_LOOP = (
    "an event loop was never closed: asyncio.run closes its loop for you; close an "
    "asyncio.Runner (`with asyncio.Runner() as runner:` or runner.close()), or a loop you made "
    "yourself (loop.close())."
)
LEFT_OPEN = "something was left open when your code finished: {what}. Close what you open (use `async with`)."
# A plain future (loop.create_future(), loop.run_in_executor(...)) that ended in an error nobody
# read: not a task, so LOST_ERROR's words would mislead.
LOST_FUTURE_ERROR = (
    "a future ended with {error} and nobody awaited it or read its error, so asyncio reported the "
    "error as lost: await every future your code makes or is given (loop.create_future(), "
    "loop.run_in_executor(...), asyncio.gather(...)); a future you set_exception on must have "
    "someone waiting on it, or read its error yourself (`future.exception()`)."
)
# asyncio's "Exception in callback ...": an error raised in a callback the loop ran (call_soon,
# call_soon_threadsafe, call_later, a future's done callback), which asyncio only logs. A learner
# trial's lambda settling a future from a thread raised NameError there (the `except ... as exc:`
# name was gone), and the test hung on the future with no word of it.
CALLBACK_ERROR = (
    "an error was raised in a callback the event loop ran: {error}. Nothing could catch it (asyncio "
    "only logs such an error), so whatever that callback was to do never happened: a future it was "
    "to settle stays pending, and what awaits it waits for ever."
)
CALLBACK_ERROR_START = CALLBACK_ERROR.split("{", 1)[0]
PENDING_DESTROYED = (
    "a task was destroyed while still pending: a task you started was neither awaited nor cancelled."
)


def is_library_task(task: asyncio.Task) -> bool:
    """Tasks that belong to aiohttp's own machinery (a test server's handlers, say)."""
    code = getattr(task.get_coro(), "cr_code", None)
    filename = code.co_filename if code else ""
    return any(part in filename for part in ("/aiohttp/", "/aioresponses/"))


# As code objects name their files: the path the kata was imported from, not resolved.
KATA_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _learners_coroutine(coro: Any) -> Any:
    """In judge mode the sandbox runs each call from the judge in a task of the kata's own
    (kata.remote.peer): the coroutine it awaits is the learner's, and its name the one they know.
    A fake's call (kata.testing.fakes names each after its service, `fetch_page`) is what the
    learner's task runs, and keeps that name: not the `asyncio.sleep` it waits in."""
    inner = coro
    while _kata_machinery(inner):
        awaited = getattr(inner, "cr_await", None)
        if not hasattr(awaited, "cr_code"):
            return coro
        inner = awaited
    return inner


def _kata_machinery(coro: Any) -> bool:
    """A coroutine of the kata's own code under its own name (a fake's call is renamed)."""
    code = getattr(coro, "cr_code", None)
    if code is None or not code.co_filename.startswith(KATA_FOLDER):
        return False
    return getattr(coro, "__qualname__", None) == code.co_qualname


def _task_name(task: asyncio.Task) -> str:
    """The name the learner knows: `worker (inside process_all)` for process_all.<locals>.worker;
    a function the test defined is named alone, never with the test's name around it."""
    coro = _learners_coroutine(task.get_coro())
    qualname = getattr(coro, "__qualname__", None) or repr(coro)
    parts = qualname.split(".<locals>.")
    name, outer = parts[-1], parts[-2].rsplit(".", 1)[-1] if len(parts) > 1 else ""
    if not outer or outer.startswith("test_"):
        return name
    return f"{name} (inside {outer})"


def lost_errors_together(problems: list[str]) -> list[str]:
    """`problems` with two or more tasks' lost errors (LOST_ERROR) said once, where the first was."""
    errors = [
        p[len(LOST_ERROR_START) : -len(LOST_ERROR_END)]
        for p in problems
        if p.startswith(LOST_ERROR_START) and p.endswith(LOST_ERROR_END)
    ]
    if len(errors) < 2:
        return problems
    named = ", ".join(errors[:SHOWN_LOST]) + (
        f" and {len(errors) - SHOWN_LOST} more" if len(errors) > SHOWN_LOST else ""
    )
    together = LOST_ERRORS.format(count=len(errors), errors=named)
    first = next(n for n, p in enumerate(problems) if p.startswith(LOST_ERROR_START))
    rest = [p for p in problems if not (p.startswith(LOST_ERROR_START) and p.endswith(LOST_ERROR_END))]
    return [*rest[:first], together, *rest[first:]]


def explain_loop_report(context: dict) -> str:
    """Turn what asyncio hands its exception handler into one plain sentence."""
    message = str(context.get("message", ""))
    if "Unclosed client session" in message:
        return UNCLOSED_SESSION
    if "Unclosed connector" in message:
        return UNCLOSED_CONNECTOR
    if "exception was never retrieved" in message:
        error = context.get("exception")
        # A gather is a future too ("_GatheringFuture exception was never retrieved").
        lost = LOST_ERROR if isinstance(context.get("future"), loop_runs.TASK_TYPES) else LOST_FUTURE_ERROR
        return lost.format(error=repr(error) if error else "an error")
    if "Task was destroyed but it is pending" in message:
        return PENDING_DESTROYED
    error = context.get("exception")
    if message.startswith("Exception in callback") and error is not None:
        return CALLBACK_ERROR.format(error=repr(error))
    return f"asyncio reported: {message}" + (f" ({error!r})" if error else "")


def without_echoes(problems: list[str]) -> list[str]:
    """The findings, each once, less those another one explains (a session's connector)."""
    problems = list(dict.fromkeys(problems))
    if UNCLOSED_SESSION in problems:
        problems = [p for p in problems if p != UNCLOSED_CONNECTOR]
    return problems


def blocked_asleep(text: str) -> bool:
    """Whether a finding (or a failure that leads with one) is a frozen loop that the code surely
    caused (BLOCKED_ASLEEP): a busy machine cannot have, so it needs no second run."""
    return _ASLEEP.match(text) is not None


class LoopGuard:
    """Runs beside one async test in its own event loop."""

    def __init__(
        self,
        stall_limit: float = STALL_LIMIT,
        excused: Callable[[], float] | None = None,
        *,
        heartbeat: bool = True,
        tell_asleep: bool = True,
        learner_folder: Path | None = None,
    ) -> None:
        """`heartbeat=False`: no watch on a frozen loop (a judge's loop runs no learner code: the
        sandbox's guard watches the loop that does). `tell_asleep=False`: every frozen loop may be
        the machine's (BLOCKED, a second run), never BLOCKED_ASLEEP: where the loop's thread can
        also sleep on the kata's own machinery (judge mode: a worker thread's call to the judge
        that a pool's shutdown waits for), sleeping is not surely the code's."""
        self.stall_limit = stall_limit
        # The learner's files: where their time.sleep calls are noted from (on the loop the
        # heartbeat watches, the one their code runs on), and the tasks a failed test names.
        self._learner_folder = learner_folder
        self._sleeps = None  # kata.testing.sleep_watch.watching, while the test runs
        # The threads the code starts on the loop the heartbeat watches (the work it leaves there).
        self._threads: thread_leftovers.ThreadLeftovers | None = None
        # The code's threads handing work to that loop by its door that is not thread-safe.
        self._thread_calls: thread_calls.ThreadCalls | None = None
        self._frozen_at: frozen_at.FrozenAt | None = None  # where the code held a frozen loop
        self._beats = heartbeat
        self._tell_asleep = tell_asleep
        self.worst_stall = 0.0
        # When the stretch being timed began: the heartbeat's last sleep (due BEAT later), or with
        # a select watch the loop's last return from select() (due at once; None while it waits).
        self._stretch_started: float | None = 0.0
        self._lead = BEAT
        self._turns: turns.SelectWatch | None = None
        # Judge mode: seconds so far that the loop waited for the other process's synchronous
        # answers to cross (its own waiting, not the code under test's).
        self._excused = excused or (lambda: 0.0)
        self._excused_at_start = 0.0
        self._mark_at_start = stall_cause.Mark(None)
        self._alone_at_start = True
        # The stalls over the limit, by the beat they delayed: what their time went to.
        self._stalls: dict[float, stall_cause.Stall] = {}
        self.loop_reports: list[str] = []
        self._heartbeat: asyncio.TimerHandle | None = None
        # Strong references to every task made during the test: asyncio keeps only weak
        # ones, so a forgotten task could be garbage-collected before it is reported.
        self._created: list[asyncio.Task] = []
        self._creators: dict[asyncio.Task, str | None] = {}  # the file of the code that made each
        # Tasks that had ended with an error nobody had read when last looked at (weakly: one
        # freed meanwhile has had its lost error reported by asyncio), with their makers' files.
        self._ended_unread: weakref.WeakKeyDictionary[asyncio.Task, str | None] = weakref.WeakKeyDictionary()
        # Every task this guard has seen made, or running before it started: a task first seen at
        # a step of its own (made without the task factory) is noted there.
        self._known: weakref.WeakSet[asyncio.Task] = weakref.WeakSet()
        self._observed: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._previous_factory = loop.get_task_factory()
        loop.set_task_factory(self._make_task)
        self._known = weakref.WeakSet(asyncio.all_tasks(loop))
        self._observed = loop
        loop_runs.observe(loop, self._saw_run)
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._loop_reported)
        if self._beats and self._learner_folder is not None:
            self._sleeps = sleep_watch.watching(self._learner_folder)
            self._slept = self._sleeps.__enter__()
            self._frozen_at = frozen_at.FrozenAt(
                self._learner_folder,
                threading.get_ident(),
                self._due,
                threading.get_native_id(),
            )
            frozen_at.watch(self._frozen_at)
            self._threads = thread_leftovers.ThreadLeftovers(self._learner_folder)
            self._threads.start()
            self._thread_calls = thread_calls.ThreadCalls(self._learner_folder)
            self._thread_calls.start(loop)
        if self._beats:
            self._turns = turns.SelectWatch.attach(loop, self._stretch_began, self._stretch_ended)
            if self._turns is not None:
                self._lead = 0.0
                self._stretch_began()  # the test's own stretch, before its body can block
            else:
                # A timer, not a task: no task of the kata's own among the learner's, and a beat
                # costs one timer callback instead of a task's wake-up.
                self._loop = loop
                self._beat()  # the first beat starts before the test body can block

    def _loop_reported(self, _loop: asyncio.AbstractEventLoop, context: dict) -> None:
        """What asyncio tells the loop's exception handler, in plain words; a cancellation kept as
        a future's error and never read is none: a gather whose task was cancelled keeps one
        (cancelled by wait_for's own cancel, say) where the code cannot read it."""
        error = context.get("exception")
        if isinstance(error, asyncio.CancelledError):
            return
        said = explain_loop_report(context)
        if said.startswith(CALLBACK_ERROR_START) and self._learner_folder is not None:
            places = where.raised_at(error, self._learner_folder)
            if places:
                said += "\nIt was raised here, in your code:\n" + where.listing(
                    places, self._learner_folder, innermost=True
                )
        self.loop_reports.append(said)

    def callback_errors(self) -> list[str]:
        """What CALLBACK_ERROR said so far in this test (for a test stopped at its time limit,
        whose guard never finished: such an error is often why an await never completed)."""
        return [said for said in dict.fromkeys(self.loop_reports) if said.startswith(CALLBACK_ERROR_START)]

    def _make_task(self, loop: asyncio.AbstractEventLoop, coro, **kwargs) -> asyncio.Task:
        if self._previous_factory is not None:
            task = self._previous_factory(loop, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)
        self._created.append(task)
        self._creators[task] = _creator_file()
        self._known.add(task)
        return task

    def _saw_run(self, handle: asyncio.Handle) -> None:
        """A task the loop runs that this guard never saw made: made without the task factory
        (`asyncio.Task(coro)`, a factory of the code's own), so seen at its first step instead, and
        watched from then on as if the factory had made it (its maker, unknown: its coroutine's)."""
        task = loop_runs.task_of(handle)
        if task is None or task in self._known:
            return
        self._known.add(task)
        self._created.append(task)
        self._creators[task] = _coroutine_file(task)

    def running(self) -> list[asyncio.Task]:
        """The tasks made during the test that are still running (the kata's own and a library's
        machinery left out).

        Tasks that have ended are let go here: a strong reference is only for a task that could
        still be reported as left running. Kept, they made every later look slower (in judge mode
        the sandbox looks after each of the judge's calls: 0.5 ms a call after 3,000 calls, and
        asyncio.all_tasks() walked them all too). An ended task with an error nobody read is then
        freed during the test, and its lost error reported in it, as at the end."""
        for task in self._created:
            if _error_unread(task):
                self._ended_unread[task] = self._creators.get(task)
        self._created = [t for t in self._created if not t.done()]
        self._creators = {t: self._creators.get(t) for t in self._created}
        return [t for t in self._created if not is_library_task(t)]

    def _lost_errors(self) -> list[str]:
        """The errors of the tasks made during the test that ended with one nobody has read, and
        are still alive: asyncio reports a lost error only when the task is freed, and a task
        something else keeps (a fake's record of the call that ran in it, say) is freed after the
        test, or never: its lost error went unsaid. Said here, once (asyncio is told it was)."""
        lost = []
        for task, creator in list(self._ended_unread.items()):
            if not _error_unread(task) or is_library_task(task):
                continue
            if self._learner_folder is not None and not _made_in(creator, self._learner_folder):
                continue
            lost.append(LOST_ERROR.format(error=repr(task.exception())))
            task._log_traceback = False  # read now: not reported again when it is freed
        self._ended_unread.clear()
        return lost

    def _lost_future_errors(self) -> list[str]:
        """The errors of futures still alive that ended with one nobody read, raised through the
        learner's code: asyncio reports a lost error only as the future is freed, and one the code
        keeps (a module's list of `asyncio.gather(...)`s, of `loop.run_in_executor(...)`s) is
        freed after the test, or never. Looked for among the objects the test made (what lived
        before it is frozen, out of the collector's sight: set_aside_what_lives_on). Said once."""
        if self._learner_folder is None:
            return []
        lost = []
        for thing in gc.get_objects():
            if not isinstance(thing, _FUTURE_TYPES) or isinstance(thing, loop_runs.TASK_TYPES):
                continue
            if not thing.done() or thing.cancelled() or not getattr(thing, "_log_traceback", False):
                continue
            error = thing.exception()
            # A cancellation is no error lost (a gather whose task was cancelled keeps it as one,
            # where nobody can read it: cancelled by wait_for's own cancel, say).
            if not isinstance(error, asyncio.CancelledError) and _raised_in(error, self._learner_folder):
                thing._log_traceback = False  # read now: not reported again when it is freed
                lost.append(LOST_FUTURE_ERROR.format(error=repr(error)))
        return lost

    def made_by_the_code(self, task: asyncio.Task) -> bool:
        """Whether code in the learner's folder made `task` (or code nobody can name), as far as
        this guard saw it made; a task made before the guard started is not."""
        if task not in self._creators or self._learner_folder is None:
            return False
        return _made_in(self._creators[task], self._learner_folder)

    def ignore(self, task: asyncio.Task | None) -> None:
        """Not the learner's: a task of the kata's own that runs beside the test."""
        self._created = [t for t in self._created if t is not task]

    def _restore_loop(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(self._previous_factory)
        self._stop_observing()
        loop.set_exception_handler(self._previous_handler)

    def _beat(self) -> None:
        self._measure_stall()  # nothing to measure at the first beat (no heartbeat yet)
        self._stretch_began()
        self._heartbeat = self._loop.call_later(BEAT, self._beat)

    def _stretch_began(self) -> None:
        self._stretch_started = clock.monotonic()
        self._excused_at_start = self._excused()
        if self._tell_asleep:  # what a stall's time goes to matters only where it is told
            # The machine's steal time may have been read up to STEAL_AGE earlier (why: there): it
            # then counts more of the stretch as awake, never less.
            self._mark_at_start = stall_cause.mark(steal_age=stall_cause.STEAL_AGE)
            self._alone_at_start = stall_cause.only_thread()

    def _stretch_ended(self) -> None:
        """The loop is about to wait for events: the stretch it ran ends here."""
        self._measure_stall()
        self._stretch_started = None

    def _due(self) -> float:
        """When the loop fell due to wait for events (monotonic seconds; inf while it waits)."""
        started = self._stretch_started
        return float("inf") if started is None else started + self._lead

    def _measure_stall(self) -> None:
        """How long the loop has not waited for events, or run its due callbacks: a stretch's
        length, or how late the heartbeat is."""
        started = self._stretch_started
        if (self._heartbeat is None and self._turns is None) or started is None:
            return
        excused = self._excused() - self._excused_at_start
        stall = clock.monotonic() - started - self._lead - excused
        self.worst_stall = max(self.worst_stall, stall)
        if self._tell_asleep and stall > self.stall_limit:
            self._stalls[started] = stall_cause.Stall.since(
                self._mark_at_start, stall, alone=self._alone_at_start
            )

    def _asleep(self) -> bool:
        """Whether a stall over the limit was surely the code's blocking call: its thread slept
        through it (kata.testing.stall_cause), and was seen asleep in the kernel, outside a futex,
        with the learner's line on its stack (kata.testing.frozen_at)."""
        seen = self._frozen_at is not None and self._frozen_at.blocked_in_code
        return seen and any(s.blocking_call(self.stall_limit) for s in self._stalls.values())

    async def finish(self, *, failed: bool = False) -> list[str]:
        """Stop watching; return the problems seen, in plain words.

        A test that `failed` may have left tasks of its own running (it started the learner's
        function as a task, and failed before awaiting it): those are not the learner's leftovers,
        so with a learner folder only the tasks the learner's code made are named. A test that
        passed leaves nothing running, so every task still running counts then."""
        for _ in range(3):  # let tasks that were just cancelled or finished settle
            await asyncio.sleep(0)
        # A stall in the test's last moments, before the heartbeat could wake to measure it: as
        # long as the heartbeat is overdue now (no waiting for one more beat: 10 ms a test).
        self._measure_stall()
        problems = []
        margins.record("loop never frozen: worst stall < limit", self.worst_stall, self.stall_limit)
        slept = self._stop_watching_sleeps()
        if slept:  # it explains a frozen loop, if one was seen
            problems.append(_slept(slept, self._learner_folder))
        elif self.worst_stall > self.stall_limit:
            blocked = BLOCKED_ASLEEP if self._asleep() else BLOCKED
            held = self._frozen_at.said() if self._frozen_at is not None else ""
            busy = BUSY_MACHINE if blocked is BLOCKED and stall_cause.machine_busy() else ""
            problems.append(blocked.format(stall=self.worst_stall) + held + busy)
        running = self.running()
        problems.extend(self._lost_errors())
        leaked = running
        if failed and self._learner_folder is not None:
            leaked = [t for t in running if _made_in(self._creators.get(t), self._learner_folder)]
        if leaked:
            count = "1 task was" if len(leaked) == 1 else f"{len(leaked)} tasks were"
            count = count[0].upper() + count[1:]
            names = ", ".join(sorted({_task_name(t) for t in leaked}))
            problems.append(LEAKED.format(count=count, names=names))
        for task in running:
            task.cancel()
        self._stop_timing()
        self._created.clear()
        self._creators.clear()
        gc.collect()  # surfaces lost task errors and unclosed sessions now, in this test
        self._restore_loop()
        problems.extend(dict.fromkeys(self.loop_reports))
        problems.extend(self._lost_future_errors())
        if self._threads is not None:
            problems.extend(await self._threads.finish())
            self._threads = None
        called = self._stop_watching_thread_calls()
        if called:
            problems.append(called)
        return lost_errors_together(problems)

    def _stop_watching_thread_calls(self) -> str | None:
        watch, self._thread_calls = self._thread_calls, None
        return watch.finish() if watch is not None else None

    def _stop_observing(self) -> None:
        if self._observed is not None:
            loop_runs.unobserve(self._observed, self._saw_run)
            self._observed = None

    def _stop_timing(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._turns is not None:
            self._turns.detach()
            self._turns = None

    def _stop_watching_sleeps(self) -> list:
        if self._frozen_at is not None:
            frozen_at.stop(self._frozen_at)
        if self._sleeps is None:
            return []
        self._sleeps.__exit__(None, None, None)
        self._sleeps = None
        return list(self._slept)

    def cancel(self) -> None:
        """Stop timing the loop without checking (the test already failed)."""
        self._stop_watching_sleeps()
        self._stop_watching_thread_calls()
        if self._threads is not None:
            self._threads.stop()
            self._threads = None
        if self._heartbeat is not None or self._turns is not None:
            self._stop_timing()
            self._created.clear()
            self._creators.clear()
            self._restore_loop()
        self._stop_observing()


def _slept(calls: list, folder: Path) -> str:
    """The SLEPT finding for the learner's time.sleep calls, or WAITED where it also called a
    blocking wait of the standard library (kata.testing.sleep_watch.Slept)."""
    places = list(dict.fromkeys(where.Place(c.path, c.line, c.function) for c in calls))
    times = "" if len(calls) == 1 else f" {len(calls)} times"
    total = sum(c.blocked() for c in calls)
    names = list(dict.fromkeys(c.call for c in calls))
    if names == ["time.sleep"]:
        return SLEPT.format(total=total, times=times, places=where.listing(places, folder))
    kinds = dict.fromkeys(_kind_of_wait(name) for name in names)
    one = len(names) == 1
    return WAITED.format(
        total=total,
        calls=names[0] if one else ", ".join(names[:-1]) + " and " + names[-1],
        times=times,
        places=where.listing(places, folder),
        those=f"{names[0]} stops" if one else "These stop",
        they="it returns" if one else "they return",
        instead=" ".join(WAIT_INSTEAD[kind] for kind in kinds),
    )


def _kind_of_wait(call: str) -> str:
    if call.startswith("threading.Thread.") or call.startswith("concurrent.futures."):
        return "thread"
    if call.startswith("threading."):
        return "threading"
    if call.startswith("queue."):
        return "queue"
    if call.startswith("subprocess."):
        return "subprocess"
    return call if call in WAIT_INSTEAD else "thread"


# Frames of these folders are machinery between the code that made a task and the task factory.
_MACHINERY = (where.ASYNCIO_FOLDER, where.KATA_FOLDER)


def _creator_file() -> str | None:
    """The file of the innermost frame that asked for the task being made, past asyncio and the
    kata (a learner's `asyncio.gather(fetch(1))` is the learner's line, not asyncio's)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_MACHINERY):
            return name
        frame = frame.f_back
    return None


# asyncio's future types: its C one, and the pure-Python one beside it (not a subclass of it).
_FUTURE_TYPES: tuple[type, ...] = tuple(
    {asyncio.Future, getattr(asyncio.futures, "_PyFuture", asyncio.Future)}
)


def _raised_in(error: BaseException | None, folder: Path) -> bool:
    """Whether `error` was raised through code in `folder` (its traceback passes there)."""
    traceback = getattr(error, "__traceback__", None)
    for _ in range(200):
        if traceback is None:
            return False
        if where.in_target(traceback.tb_frame.f_code.co_filename, folder):
            return True
        traceback = traceback.tb_next
    return False


def _coroutine_file(task: asyncio.Task) -> str | None:
    """The file of the function a task runs (the learner's own, below the kata's machinery), or
    None where it is asyncio's (`asyncio.Task(asyncio.wait_for(...))`: nobody can name the maker)."""
    code = getattr(_learners_coroutine(task.get_coro()), "cr_code", None)
    if code is None or code.co_filename.startswith(where.ASYNCIO_FOLDER):
        return None
    return code.co_filename


def _error_unread(task: asyncio.Task) -> bool:
    """Whether `task` ended with an error nobody has read yet (asyncio would report it as lost
    when the task is freed)."""
    return task.done() and not task.cancelled() and bool(getattr(task, "_log_traceback", False))


def _made_in(creator: str | None, folder: Path) -> bool:
    """Whether a task was made by code in `folder` (the learner's), or by code nobody can name."""
    return creator is None or where.in_target(creator, folder)


def _coroutine_name(qualname: str) -> str:
    """How the learner wrote the call: `asyncio.sleep` for asyncio's own (its warning says only
    'sleep'), the function's own name otherwise."""
    name = qualname.rsplit(".", 1)[-1]
    if inspect.iscoroutinefunction(getattr(asyncio, name, None)):
        return f"asyncio.{name}"
    return name


def _explain_warning(warning: warnings.WarningMessage) -> str | None:
    """The plain sentence for a warning the kata explains itself, else None."""
    text = str(warning.message)
    if warning.category is RuntimeWarning and UNAWAITED.search(text):
        qualname = UNAWAITED.search(text)["name"]
        if qualname.rsplit(".", 1)[-1] == "_wait_for_one":  # as_completed's own, in every version
            return AS_COMPLETED_NOT_AWAITED.format(times="")  # its count is asyncio's, not theirs
        return NEVER_AWAITED.format(name=_coroutine_name(qualname), times="{times}")
    if issubclass(warning.category, ResourceWarning):
        if "Unclosed client session" in text:
            return UNCLOSED_SESSION
        if "Unclosed connector" in text:
            return UNCLOSED_CONNECTOR
        if text.startswith("unclosed event loop"):
            return UNCLOSED_LOOP
        return LEFT_OPEN.format(what=text.splitlines()[0])
    return None


def _watch_filters(action: str) -> None:
    warnings.filterwarnings(action, message=UNAWAITED.pattern, category=RuntimeWarning)
    warnings.filterwarnings(action, category=ResourceWarning)


def _collect_silently() -> None:
    with warnings.catch_warnings():
        _watch_filters("ignore")
        gc.collect()


def set_aside_what_lives_on() -> None:
    """Before a test: the garbage earlier tests left is collected (silently: it is not this test's
    to answer for), and everything still alive (pytest's reports, the test modules, libraries
    imported since) is frozen, out of the collector's sight. The guard's collections during the
    test then scan only what the test itself makes. Call it before the learner's module is loaded,
    so that what the module's globals keep is collected, and reported, in the test (the module is
    let go inside the watch).

    Without it the heap the guard scans grew with every test of a run: by the end of the 22
    exercises a full collection took about 2 ms, four a test, a fifth of a run's CPU. The price:
    a cycle alive at a test's start that dies later (a module's fixture, say) is never collected,
    only freed with the process: memory, never a verdict."""
    _collect_silently()
    gc.freeze()


@contextmanager
def warning_watch() -> Iterator[list[str]]:
    """Collect never-awaited coroutines and unclosed resources reported inside the block.

    Python reports both as warnings from a destructor, which pytest would turn
    into errors far from their cause; here each becomes one plain sentence attached
    to the test that caused it. The list is filled when the block ends, whether or
    not it raised. Other warnings go on to pytest's own filters.
    """
    found: list[str] = []
    # Objects left over from an earlier (failed) test are collected here, silently,
    # so that they are not blamed on this one.
    _collect_silently()
    recorder = warnings.catch_warnings(record=True)
    caught = recorder.__enter__()
    _watch_filters("always")
    try:
        yield found
    finally:
        gc.collect()
        # A recorded warning keeps its `source` alive (an unclosed ClientSession, which
        # keeps its connector): let go of each and collect again while still recording,
        # or the next object's warning fires after the watch, as a raw pytest error.
        released = 0
        ours: set[int] = set()
        while released < len(caught):
            for warning in caught[released:]:
                # A coroutine of the kata's own, never begun (a probe's hop to a loop of the
                # learner's that closed before it ran it): not the learner's to answer for.
                if _kata_machinery(warning.source):
                    ours.add(id(warning))
                warning.source = None
            released = len(caught)
            gc.collect()
        recorder.__exit__(None, None, None)
        counts: dict[str, int] = {}
        for warning in caught:
            if id(warning) in ours:
                continue
            sentence = _explain_warning(warning)
            if sentence is None:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            else:
                counts[sentence] = counts.get(sentence, 0) + 1
        for sentence, count in counts.items():
            found.append(sentence.replace("{times}", "" if count == 1 else f" ({count} times)"))
