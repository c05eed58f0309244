"""The learner's side of judge mode: load their module and do what the judge asks of it.

    python -m kata.sandbox.host --fd N --target DIR

runs in the sandbox, with one end of a socket as file descriptor N. It lends the judge one
object, the `Host` (number 0): `load(stem)` gives the judge the learner's module (a fresh copy
each time), `begin()`/`finish()` watch one test for the mistakes only this side can see (a
frozen event loop, tasks left running, never-awaited coroutines, unclosed sessions, a patched
clock) and report them in plain words; `watch_wakes()`/`wakes()` report how the tasks here
woke up meanwhile (18's waiters, which poll state the judge cannot see). Those reports can
only fail a test: the judge decides every pass itself (where a frozen loop is the lesson, 04,
the judge times the learner's own code's calls to it: kata.testing.ticker).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import gc
import importlib
import os
import signal
import socket
import sys
import threading
import time
import traceback
import warnings
import weakref
from pathlib import Path
from types import FrameType, ModuleType

from kata import where
from kata.loader import load_exercise, module_name, unload_exercise
from kata.remote import peer as peer_module
from kata.remote import values
from kata.remote.channel import Channel
from kata.remote.interfaces import anything
from kata.remote.peer import Peer
from kata.sandbox.main_thread import MainThread
from kata.sandbox.syscalls import (
    SeccompUnavailable,
    deny_new_sessions,
    deny_ways_past_the_limits,
    not_dumpable,
)
from kata.testing import clock, letting_run, turns
from kata.testing.leftovers import GRACE, Left, seen
from kata.testing.limits import reported as reported_limits
from kata.testing.loopguard import (
    STALL_LIMIT,
    LoopGuard,
    is_library_task,
    set_aside_what_lives_on,
    warning_watch,
)
from kata.testing.loops import close_left_open, noting_loops
from kata.testing.own_loops import OwnLoopsWatch
from kata.testing.sessions import counting_sessions
from kata.testing.threads import threads_alive
from kata.testing.timers import drop_learners_timers
from kata.testing.waiting import MAX_WATCHED, FrozenLoopBreaker, WakeWatch, packed_stretches, packed_wakes
from kata.tracebacks import line_of

LEARNER_MODULES = module_name("")
SETTLE = 0.5  # seconds (at most) for calls to the judge that the learner's code cancelled to end
OUTLIVE_GRACE = 1.0  # seconds this process has to end by itself once its judge is gone
PR_SET_PDEATHSIG = 1  # linux/prctl.h
MOST_LET_RUN = 5.0  # seconds: a test's wait for the learner's code never asks for more
_sleep = time.sleep  # taken before any learner code runs (it may replace time.sleep)


class Host:
    def __init__(self, target: Path, peer: Peer, main_thread: MainThread | None = None) -> None:
        self.target = target
        self.peer = peer
        self.main_thread = main_thread or MainThread()  # where the learner's file is imported
        self._guard: LoopGuard | None = None
        self._watch: contextlib.AbstractContextManager | None = None
        self._problems: list[str] = []
        self._sessions = [0]
        self._counting: contextlib.AbstractContextManager | None = None
        self._libraries = 0  # modules imported so far, the learner's own not counted
        # The learner's tasks still running when the latest call from the judge ended, noted in
        # that very step (one process looks at them the instant the call returns).
        self._left: list[Left] = []
        self._tasks_before: set[asyncio.Task] = set()
        peer.call_started = self._running_now
        peer.call_ended = self._note_left_running
        peer.callers.handing_over = self._call_handed_over
        self._wakes: WakeWatch | None = None
        self._own_loops: OwnLoopsWatch | None = None
        self._limits: list[tuple] = []
        self._breaker: FrozenLoopBreaker | None = None
        self._loaded: list[ModuleType] = []  # the learner's modules loaded for the test that runs
        self._loops_kept: list[asyncio.AbstractEventLoop] | None = None
        self._letting_run: weakref.WeakSet[asyncio.Task] = weakref.WeakSet()  # the tests' waits

    def load(self, stem: str, libraries: object = ()) -> ModuleType:
        """Load the learner's module afresh; first import the `libraries` whose values the judge
        may send (kata.remote.values.MODULES only), so none is imported mid-test on the loop."""
        if not self._loaded:  # the judge's test begins: this side's collections scan only it
            set_aside_what_lives_on()
        for name in libraries if isinstance(libraries, list) else ():
            if name in values.MODULES:
                importlib.import_module(name)
        # In Python's main thread with no loop running, as in one process: a correct answer may
        # set a signal handler or run a loop at import.
        # In a context of its own, kept: the test's calls start with what the import set there
        # (a module-level `ContextVar.set`), as the test's task does in one process.
        context = contextvars.Context()
        module = self.main_thread.run(lambda: context.run(load_exercise, self.target, stem))
        self.peer.callers.import_context = context
        self._loaded.append(module)
        libraries = sum(not name.startswith(LEARNER_MODULES) for name in list(sys.modules))
        if libraries > self._libraries:
            # What a load imported (aiohttp, say) lives as long as this process: freeze it, as the
            # plugin does after collection, so that each test's collections scan only what that
            # test made (a full one takes ~15-50 ms, and each test makes three).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gc.collect()
            gc.freeze()
            self._libraries = libraries
        return module

    def _learners_tasks(self) -> list[asyncio.Task]:
        """The learner's tasks running now: made during the test (through the loop, or as
        `asyncio.Task(...)`, which skips the loop's task factory), not serving a judge's call."""
        if self._guard is None:
            return []
        made = self._guard.running()
        made += [
            t for t in asyncio.all_tasks() - self._tasks_before if t not in made and not is_library_task(t)
        ]
        serving = self.peer.serving_tasks()
        current = asyncio.current_task()
        return [t for t in made if t is not current and t not in serving and not t.done()]

    def _call_handed_over(self, task: asyncio.Task, ending: bool) -> None:
        """`task` (kept for one of the test's tasks) takes that task's next call, watched as a new
        task, or (`ending`) ends: neither is a wake-up of the learner's code."""
        if self._wakes is not None:
            self._wakes.begins_anew(task, ending)

    def _running_now(self) -> set[asyncio.Task]:
        """The learner's tasks running as a call from the judge begins: not that call's leftovers
        (one process marks the tasks running just before the call, and counts none of them)."""
        return set(self._learners_tasks())

    def _note_left_running(self, before: set[asyncio.Task] | None) -> None:
        if asyncio.current_task() in self._letting_run:
            return  # the test's own wait: what the learner's function left running stays as it was
        left = [task for task in self._learners_tasks() if before is None or task not in before]
        self._left = [seen(task) for task in left[:1000]]

    async def let_run(self, seconds: float) -> None:
        """The test's wait (kata.testing.letting_run): `seconds` on this loop, as the learner's
        code sees time, then a few loop turns; what its tasks called meanwhile was sent before
        this answer. Not the end of a call into the learner's code: nothing is noted."""
        self._letting_run.add(asyncio.current_task())
        await asyncio.sleep(min(max(float(seconds), 0.0), MOST_LET_RUN))
        for _ in range(letting_run.TURNS):
            await asyncio.sleep(0)

    def left_running(self) -> list[tuple[str, bool]]:
        """The learner's tasks that were still running when the judge's latest call into its code
        ended: (function name, whether it was cancelled), data only."""
        return [(left.name, left.cancelling) for left in self._left]

    async def stop_left_running(self) -> None:
        """Cancel the learner's tasks still running, and wait (a while) until they have stopped:
        the test has said so in its own words, and the guard need not say it again."""
        left = self._learners_tasks()
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=GRACE)

    def loop_made(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loops_kept is not None:
            self._loops_kept.append(loop)
            self.peer.loop_made(loop)

    def keep_loops(self) -> None:
        """From now on, hold every event loop made (so that none is freed, and reported never
        closed, in whichever test happens to free it), until `close_kept_loops`: what the
        one-process fixture `event_loops_made` does for a test that watches the learner's loops."""
        self._loops_kept = []

    def close_kept_loops(self) -> None:
        """Close the loops kept that the learner's code left open, stop keeping them, and retire
        the threads the learner's plain code ran in, so the next test starts with no current loop
        (as the one-process fixture sets none)."""
        kept, self._loops_kept = self._loops_kept or [], None
        close_left_open(kept)
        self.peer.retire_mirror_threads()

    def thread_count(self) -> int:
        """The threads alive in this process now (kata.testing.threads)."""
        return threads_alive()

    def handed_over(self, first: int, later: int) -> tuple:
        """When this loop was handed the outcomes of two calls the learner's code made to the
        judge (its numbers for them; the kata's clock), and the stretches it was starved through
        between the two (kata.testing.turns), packed: what the judge's order check asks
        (kata.testing.order). (0.0, 0.0, None) where either is unknown, or its turns untimed."""
        handed = [self.peer.handed_at(number) for number in (first, later)]
        watch = turns.SelectWatch.of(self.peer.default_loop)
        if handed[0] is None or handed[1] is None or watch is None:
            return 0.0, 0.0, None
        return handed[0], handed[1], packed_stretches(watch.starved_in(handed[0], handed[1]))

    async def threads_running(self) -> tuple[int, float]:
        """The threads alive in this process now, and when they were counted (kata.testing.threads)."""
        return threads_alive(), clock.perf_counter()

    def sessions_opened(self) -> int:
        """How many aiohttp ClientSessions the learner's code made since the test began."""
        return self._sessions[0]

    def watch_wakes(self, limits: bool = False) -> None:
        """Start watching how the tasks made on this loop from now on wake up (the learner's,
        and those serving the judge's calls): kata.testing.waiting.WakeWatch; with `limits`, also
        the time limits this test's module sets (`limits()`). Must run on the loop."""
        self._stop_watching_wakes()
        code_file = self._loaded[-1].__file__ if limits is True and self._loaded else None
        self._wakes = WakeWatch(code_file)
        self._wakes.__enter__()
        self._limits = []

    def wakes(self) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]], bytes | None]:
        """Stop watching: per task, its coroutine's name and when it woke up (perf_counter,
        kata.testing.waiting.packed_wakes); per callback of the learner's, its name and when the
        loop ran it; the stretches the loop was starved through meanwhile (kata.testing.turns),
        packed as the start and end of each, or None where its turns are not timed."""
        watch = self._wakes
        self._stop_watching_wakes()
        if watch is None:
            return [], [], None
        self._limits = reported_limits(watch)
        # The test's own waits (let_run) wake here too, at moments of the test's choosing: not
        # the learner's code, and not to be read as its polling.
        watched = [w for w in watch.watched if w.task not in self._letting_run]
        return _packed(watched, watch.callbacks, watch.starved)

    def watch_own_loops(self) -> None:
        """Start watching every event loop the learner's plain code makes from now on, and the
        time limits this test's module sets there (kata.testing.own_loops)."""
        self._stop_watching_own_loops()
        code_file = self._loaded[-1].__file__ if self._loaded else None
        self._own_loops = OwnLoopsWatch(code_file)
        self._own_loops.__enter__()

    def own_loops(self) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]], bytes | None, list[tuple]]:
        """Stop watching the learner's own loops: what `wakes()` reports, over all of them, and
        the time limits set there (as `limits()`)."""
        watch = self._own_loops
        self._stop_watching_own_loops()
        if watch is None:
            return [], [], None, []
        return (*_packed(watch.watched, watch.callbacks, watch.starved), reported_limits(watch))

    async def fence(self) -> None:
        """A round trip (kata.testing.own_timers): the judge has read every message sent before
        this answer."""

    async def run_out_own_timers(
        self, own_loops: object = False, spare_up_to: object = None, spare_pauses: object = False
    ) -> list[tuple]:
        """The first half of the test's probe of the timers the learner's module has pending
        (kata.testing.own_timers): on this loop, or with `own_loops` on the loops its plain code
        made, but the time limit the docstring gives (`spare_up_to`). Reports of those that ran out."""
        self._letting_run.add(asyncio.current_task())  # its turns are the test's, not the code's
        watch = self._timers_watch(own_loops)
        if watch is None:
            return []
        spared = _seconds_or_none(spare_up_to), spare_pauses is True
        return [t.report() for t in await watch.run_out_own_timers(*spared)]

    async def hold_back_own_timers(
        self,
        turns: object,
        let_go_after: object,
        own_loops: object = False,
        spare_up_to: object = None,
        spare_pauses: object = False,
    ) -> list[tuple]:
        """The second half: reports of those held back."""
        self._letting_run.add(asyncio.current_task())
        watch = self._timers_watch(own_loops)
        if watch is None:
            return []
        held = await watch.hold_back_own_timers(
            turns is True, _seconds_or_none(let_go_after), _seconds_or_none(spare_up_to), spare_pauses is True
        )
        return [t.report() for t in held]

    async def let_timers_go(self, own_loops: object = False) -> None:
        watch = self._timers_watch(own_loops)
        if watch is not None:
            await watch.let_timers_go()

    def _timers_watch(self, own_loops: object) -> WakeWatch | OwnLoopsWatch | None:
        """The watch that notes the learner's timers: on this loop, or on its plain code's loops."""
        watch = self._own_loops if own_loops is True else self._wakes
        return watch if watch is not None and watch.code_file is not None else None

    def _stop_watching_own_loops(self) -> None:
        if self._own_loops is not None:
            self._own_loops.__exit__(None, None, None)
            self._own_loops = None

    def limits(self) -> list[tuple]:
        """The time limits the learner's module set while the last watch was on (kata.testing.limits)."""
        return self._limits

    def _stop_watching_wakes(self) -> None:
        if self._wakes is not None:
            self._wakes.__exit__(None, None, None)
            self._wakes = None

    def break_frozen_loops(self, explain: str) -> None:
        """Until `stop_breaking()`: when the learner's code keeps this loop frozen (a loop with no
        `await`), raise `explain` (formatted with `function` and `seconds`) inside it, as the
        test would in one process (kata.testing.waiting.FrozenLoopBreaker). Must run on the loop."""
        self.stop_breaking()
        if type(explain) is not str:
            return
        text = explain[:4000]

        def explained(function: str, seconds: float) -> str:
            return text.replace("{function}", function).replace("{seconds:.2f}", f"{seconds:.2f}")

        code_file = self._loaded[-1].__file__ if self._loaded else None  # this test's module
        self._breaker = FrozenLoopBreaker(explained, code_file)
        self._breaker.__enter__()

    def stop_breaking(self) -> None:
        if self._breaker is not None:
            self._breaker.__exit__(None, None, None)
            self._breaker = None

    def _count_sessions(self) -> None:
        """Count the sessions the learner's code makes in this test (if it uses aiohttp at all)."""
        self._stop_counting()  # a test that never finished
        self._sessions = [0]
        if "aiohttp" in sys.modules:
            self._counting = counting_sessions()
            self._sessions = self._counting.__enter__()

    def _stop_counting(self) -> None:
        if self._counting is not None:
            self._counting.__exit__(None, None, None)
            self._counting = None

    async def begin(self, stall_limit: float = STALL_LIMIT) -> None:
        self._left = []
        self._count_sessions()
        self._watch = warning_watch()
        self._problems = self._watch.__enter__()
        loop = asyncio.get_running_loop()
        # The loop is not to blame for the time its thread waits on the judge's synchronous answers
        # (the crossing; what runs there counts, as it would in one process). Its thread can also
        # sleep on the crossing in ways not counted there (a pool's shutdown waiting for a worker
        # thread's call to the judge): a freeze here may always be the machine's (a second run).
        self._guard = LoopGuard(
            _limit(stall_limit),
            excused=lambda: self.peer.waited_on(loop),
            tell_asleep=False,
            learner_folder=self.target,
        )
        await self._guard.start()
        self._guard.ignore(asyncio.current_task())
        self._tasks_before = asyncio.all_tasks()  # the kata's own: this call

    async def finish(self) -> list[str]:
        """End the test: what went wrong here, in plain words (the judge adds it to its own)."""
        # First let go of what was lent to the judge (an error keeps its frames, and they keep
        # the learner's objects, an unclosed session say), so that it is collected and reported now.
        self.peer.exports.clear()
        self.peer.callers.retire()  # the tasks kept for the test's tasks' next calls end in the settling
        await self._settle()
        problems: list[str] = []
        if self._guard is not None:
            self._guard.ignore(asyncio.current_task())
            problems.extend(await self._guard.finish())
            self._guard = None
        # Timers the learner's code left pending end with the test, as they do in one process when
        # the test's loop is closed; this loop serves the next tests (and exercises) too.
        files = [module.__file__ for module in self._loaded if getattr(module, "__file__", None)]
        drop_learners_timers(asyncio.get_running_loop(), files)
        # The modules loaded for this test end with it (inside the watch), as in one process.
        loaded, self._loaded = self._loaded, []
        for module in loaded:
            unload_exercise(module)
        if self._watch is not None:
            self._watch.__exit__(None, None, None)
            problems.extend(self._problems)
            self._watch = None
        tampered = clock.find_tampering()
        if tampered:
            names = ", ".join(tampered)
            problems.append(f"{names} was replaced while your code ran: code must not patch time or asyncio.")
        self._stop_counting()
        self._left = []
        self._stop_watching_wakes()  # a test that never finished
        self._stop_watching_own_loops()
        self.stop_breaking()
        self.peer.exports.clear()
        return list(dict.fromkeys(problems))

    async def _settle(self) -> None:
        """Let the calls the learner's code cancelled end: each waits for the judge's side to
        end (a message back), which takes longer than the loop turns it takes in one process.

        Settled once no such call has been waiting for TURNS loop turns in a row: an ending
        arrives (and the call stops counting) before the task it wakes has run, and that task
        may make one more call before the cancel lands (its call had ended before the cancel
        reached the judge). So a moment with nothing cancelling is not the end: one process
        gives those tasks all their last steps in the turns after the cancel."""
        deadline = clock.monotonic() + SETTLE
        quiet = 0
        while quiet < letting_run.TURNS and clock.monotonic() < deadline:
            if self.peer.cancelling():
                quiet = 0
                await asyncio.sleep(0.002)
            else:
                quiet += 1
                await asyncio.sleep(0)

    def where(self) -> list[tuple[str, int, str]]:
        """Where the learner's code is running now, in every thread (the loop's included); not a
        line of theirs waiting for the tests' answer to a call (see `learners_places`)."""
        return [place for frame in sys._current_frames().values() for place in self._places(frame)[0]]

    def _places(self, frame: FrameType) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
        return learners_places(traceback.extract_stack(frame), self.target)

    def callback_errors(self) -> list[str]:
        """The errors raised in callbacks of the learner's loop during this test, in words (the
        judge asks after a timeout, from a thread)."""
        return [said[:4000] for said in self._guard.callback_errors()[:5]] if self._guard is not None else []

    def waiting(self) -> list[tuple[str, int, str]]:
        """Where the learner's tasks wait now, on the loops that run the judge's calls: what one
        process says after a timeout when none of the code was running (a deadlock, say). Asked
        from another thread while those loops wait; a loop busy changing its tasks is skipped."""
        tasks = []
        for loop in {loop for loop, _ in self.peer.running()}:
            with contextlib.suppress(RuntimeError):  # its set of tasks changed while read
                tasks += asyncio.all_tasks(loop)
        crossing = [place for frame in sys._current_frames().values() for place in self._places(frame)[1]]
        return [*crossing, *((p.path.name, p.line, p.function) for p in where.waiting_in(tasks, self.target))]


_CROSSING = (
    str(Path(peer_module.__file__).resolve()),
    "request",
)  # Peer.request: a call's wait for its answer


def learners_places(
    stack: list[traceback.FrameSummary], target: Path
) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
    """The learner's lines in one thread's stack (outermost first): those running, and those
    waiting for the tests' answer to a call. A call of what the tests lend waits for its answer
    in the calling thread (kata.remote.peer.Peer.request): in one process that call is the test's
    own code running, and the learner's line waits for it. After a timeout in judge mode (the
    tests' process stopped answering) a learner trial's poll, stopped there, was told it "had
    not let the event loop run". Lines inner to that wait (a call back from the tests) run."""
    files = [Path(e.filename).resolve() for e in stack]
    crossed = max((i for i, e in enumerate(stack) if (str(files[i]), e.name) == _CROSSING), default=-1)
    mine = [
        (i, (files[i].name, e.lineno or 0, e.name)) for i, e in enumerate(stack) if files[i].parent == target
    ]
    return [place for i, place in mine if i > crossed], [place for i, place in mine if i < crossed]


def _packed(watched: list, callbacks: list, starved: list | None) -> tuple:
    """A wake watch's report (Host.wakes): per task and per callback of the learner's, its name,
    when it woke and which of those wake-ups its own timers made (kata.testing.waiting.packed_wakes,
    Watched.timed), and the starved stretches, packed."""
    tasks = [(w.name, packed_wakes(w.wakes), packed_wakes(w.timed)) for w in watched[:MAX_WATCHED]]
    ran = [(w.name, packed_wakes(w.wakes), packed_wakes(w.timed)) for w in callbacks[:MAX_WATCHED]]
    return tasks, ran, packed_stretches(starved)


def _seconds_or_none(seconds: object) -> float | None:
    """A number of seconds the judge sent (0-60), or None."""
    if type(seconds) in (int, float) and 0 <= seconds <= 60:
        return float(seconds)
    return None


def _limit(stall_limit: object) -> float:
    """The judge's stall limit for this test (a test that fills every core on purpose allows more;
    one that judges blocking itself, as 10's pool tests do, sets the check off with an hour)."""
    return (
        float(stall_limit) if type(stall_limit) in (int, float) and 0 < stall_limit <= 3600 else STALL_LIMIT
    )


def learner_places(target: Path):
    def places(error: BaseException) -> list[tuple[str, int, str]]:
        found = []
        tb = error.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            with contextlib.suppress(OSError, ValueError):
                if Path(filename).resolve().parent == target:
                    found.append((Path(filename).name, line_of(tb), tb.tb_frame.f_code.co_name))
            tb = tb.tb_next
        return found

    return places


def end_with_the_judge(peer: Peer, *, die_with_parent: bool) -> None:
    """This process never outlives its judge, whatever the learner's code does on the main thread
    (a loop that never returns, threads that interpreter shutdown would wait for forever).

    Once the channel closes (the judge ended or was killed), a thread ends the process after
    OUTLIVE_GRACE seconds. On Linux, with `die_with_parent`, the kernel also kills it when the
    process that started it dies (PR_SET_PDEATHSIG): that holds even while the learner's code
    keeps the interpreter in one long C call, where no other thread runs."""
    if die_with_parent and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        peer.gone.wait()
        _sleep(OUTLIVE_GRACE)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(0)

    threading.Thread(target=watch, name="kata-sandbox-end-with-the-judge", daemon=True).start()


def watching_loops(peer: Peer, host: Host):
    """While in force, closing an event loop here (the learner's `asyncio.run`, a Runner's close,
    `loop.close()`) tells the judge at once, so that it closes its mirror of that loop
    (kata.remote.mirrors) before it hears anything else from this thread; and every loop made
    is shown to `host` (which keeps those a test asks it to: Host.keep_loops)."""
    return noting_loops(host.loop_made, peer.loop_closed)


async def serve(peer: Peer) -> None:
    peer.default_loop = asyncio.get_running_loop()
    peer.start()
    while peer.lost is None:
        await asyncio.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kata.sandbox.host")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument(
        "--die-with-parent",
        action="store_true",
        help="Linux: die when the process that started this one dies (its thread must live as long)",
    )
    parser.add_argument(
        "--file-names", action="store_true", help="name the learner's files alone in messages"
    )
    parser.add_argument(
        "--not-dumpable",
        action="store_true",
        help="Linux: no other process of the same user may read or write this one's memory (batch grading)",
    )
    options = parser.parse_args(argv)
    if options.not_dumpable:
        # Other exercises' processes run as the same user in batch grading's sandbox: a red team's
        # 01 left one running that wrote into the next exercises' hosts' memory (/proc/PID/mem) and
        # silenced their reports. The judge stops them at each change of exercise too.
        with contextlib.suppress(OSError, AttributeError):  # not Linux
            not_dumpable()
    where.FILE_NAMES_ONLY = options.file_names
    # Before any learner code: every process it starts stays in this host's one session, in the
    # sandbox's namespaces, and within its memory limit.
    with contextlib.suppress(SeccompUnavailable):  # not Linux, or no seccomp: nothing to share
        deny_new_sessions()
        deny_ways_past_the_limits()
    target = Path(options.target).resolve()
    sys.path.insert(0, str(target))
    channel = Channel(socket.socket(fileno=options.fd))
    # The sandbox's own loop serves the judge's calls, whatever loops the learner's code runs.
    peer = Peer(
        channel,
        may_touch=anything,
        places=learner_places(target),
        default_follows_calls=False,
        callers_tasks=True,
        trusts_lent_classes=True,
    )
    main_thread = MainThread()
    host = Host(target, peer, main_thread)
    peer.exports.pin(0, host)
    end_with_the_judge(peer, die_with_parent=options.die_with_parent)
    with watching_loops(peer, host):
        main_thread.serve(serve(peer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
