"""One test run in judge mode: the learner's module for each test, and each test's watch.

The plugin calls `module(stem)` for the `ex` fixture, `begin()` and `finish()` around every
async test, and `stopped()` after a test that timed out (the host is then replaced, so that
what the learner's code left running cannot reach the next test).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from kata.judge.lent_timers import LentTimers
from kata.judge.link import LEARNER_UID_VARIABLE, SandboxLink
from kata.remote import values
from kata.remote.peer import CURRENT_CALL, SERVING_COROUTINES, PeerLost
from kata.sandbox import processes
from kata.testing import clock, margins
from kata.testing.limits import Limit, from_report
from kata.testing.waiting import (
    MAX_WATCHED,
    WakeWatch,
    Watched,
    timers_watched,
    unpacked_stretches,
    unpacked_wakes,
)

WHERE_TIMEOUT = 2.0
WAKES_TIMEOUT = 2.0  # seconds for the sandbox to start or report its WakeWatch (its loop may be frozen)
# Seconds to wait, before a test's time limit starts, for a sandbox host to start and answer.
READY_TIMEOUT = 30.0
SETTLE = 0.1  # seconds for the judge's side of calls the learner cancelled to end
# Threads a host may gain from test to test within an exercise and still serve the next test (a
# default executor of 32 on a big machine fits); every exercise starts with a host of its own.
THREADS_WITHIN_AN_EXERCISE = 64


def _stop_what_the_last_exercise_left() -> None:
    """In batch grading's sandbox, before the next exercise's host starts: stop (SIGSTOP) every
    process the learner's code runs in, the last exercise's host among them. A red team's 01 left
    a process that kept forking (each new one past the grader's count of what an exercise left
    behind) and, once 01's host was gone, wrote into the later exercises' hosts' memory or killed
    them: 02's and 09's wrong answers earned full marks, unflagged, and the reference 03 and 04
    lost every test. Stopped, nothing of the last exercise runs again: the grader kills and counts
    what the exercise left as soon as it sees the next begin (kata.sandbox.jail), the last host at
    the next change of exercise."""
    uid = os.environ.get(LEARNER_UID_VARIABLE, "")
    if uid.isdigit():
        processes.stop_all_of_user(int(uid))


def libraries_for(tests: ModuleType | None) -> list[str]:
    """The libraries whose values a test module may send to the sandbox (kata.remote.values): those
    it refers to, itself or through a module of the kata's it took a name from (LoopbackServer's
    server module imports aiohttp). A host imports them before the learner's file (0.15 s for
    aiohttp): importing them for every exercise once any test had, as the judge used to, cost each
    of 10-18's hosts that. Without `tests`, every such library loaded here."""
    loaded = [name for name in sorted(values.MODULES) if name in sys.modules]
    if tests is None:
        return loaded
    referred = _packages_referred(tests)
    return [name for name in loaded if name in referred]


@functools.cache
def _packages_referred(tests: ModuleType) -> frozenset[str]:
    """The top-level packages a test module's names come from, and those of the names of the kata's
    modules it took names from (worked out once per test module: the judge asks at every test)."""
    homes = {_home(value) for value in list(vars(tests).values())} - {None}
    for home in [h for h in homes if h.startswith("kata.") and h in sys.modules]:
        homes |= {_home(value) for value in list(vars(sys.modules[home]).values())} - {None}
    return frozenset(home.split(".", 1)[0] for home in homes)


def _home(value: object) -> str | None:
    """The module a value is, or comes from."""
    home = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
    return home if isinstance(home, str) else None


class JudgeSession:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.link = SandboxLink(target)
        self._stem: str | None = None  # the exercise whose tests run now
        # (the host process, its threads once the exercise's file was first loaded there)
        self._threads: tuple[Any, int] | None = None
        self._retired: SandboxLink | None = None  # the last exercise's host (`_host_of_its_own`)

    def prepare(self, stem: str) -> None:
        """Before a test's fixtures (the plugin calls this first): the host the test is to use, so
        that what its fixtures ask of the host (loops to keep, a count of sessions to start from)
        is asked of the host its code will run in. A new exercise gets a host of its own
        (`_host_of_its_own`); a test of the same exercise gets a fresh one if threads piled up in
        the last (`_fresh_host_if_threads_piled_up`). A host chosen later, once the learner's
        module was asked for, missed what the fixtures had set up on the last one: 06's first
        test, in a run of several exercises, was told a loop it left open was never closed."""
        if self._stem is not None and stem != self._stem:
            self._host_of_its_own()
        elif self._stem is not None:
            self._fresh_host_if_threads_piled_up(THREADS_WITHIN_AN_EXERCISE)
        self._stem = stem

    @property
    def stem(self) -> str:
        """The exercise whose tests run now ("" before the first)."""
        return self._stem or ""

    def module(self, stem: str, tests: ModuleType | None = None) -> Any:
        """The learner's module, freshly loaded in the sandbox; a load error is raised as is.

        The libraries whose values may cross to the sandbox (aiohttp's errors, URLs, timeouts:
        kata.remote.values) are imported there first if its tests can send them (`libraries_for`):
        otherwise the first such value would import aiohttp there mid-test, on the loop the
        learner's code runs on (0.15 s), and the loop guard would call that a frozen loop of the
        learner's."""
        if stem != self._stem:
            self.prepare(stem)  # a caller that did not prepare the test
        module = self.link.ask("load", stem, libraries_for(tests))
        if self._threads is None or self._threads[0] is not self.link.process:
            self._threads = (self.link.process, self.link.ask("thread_count"))
        return module

    def _host_of_its_own(self) -> None:
        """Each exercise gets a host of its own: what one file's code did to the process it ran in
        ends with that exercise (a red team's 01 reached the host's objects through what it was
        lent and silenced its reports: 02's, 04's and 09's wrong answers in the same submission
        then passed, unflagged). About 0.15 s of CPU a host.

        The last exercise's host is stopped at the next change of exercise (or at the end), not
        now: in batch grading the grader kills and counts (flags) the processes an exercise left
        behind once it sees the next one begin, sparing only the judge's own children, and a host
        stopped now would take its own with it, uncounted."""
        if self._retired is not None:
            self._retired.stop()
        _stop_what_the_last_exercise_left()
        self._retired, self.link = self.link, SandboxLink(self.target)
        self._threads = None

    def _fresh_host_if_threads_piled_up(self, allowed: int) -> None:
        """Threads cannot be killed, and a host serves every test of an exercise, each loading the
        learner's file afresh: threads its code started and left running pile up there. A correct
        answer to 10 that started 32 worker threads at each import took the sandbox to its task
        limit, and its own later tests failed with "can't start new thread". So when the host has
        gained more than `allowed` threads since the exercise's file was first loaded there, the
        next test gets a fresh host; what the threads did is their own test's business
        (kata.testing.thread_leftovers)."""
        if self._threads is None or self.link.process is not self._threads[0] or self.link.peer is None:
            return
        try:
            now = self.link.ask("thread_count")
        except Exception:  # a host that cannot answer is replaced all the more
            now = None
        if now is None or now > self._threads[1] + allowed:
            self.link.stop()
            self._threads = None

    async def begin(self, stall_limit: float) -> None:
        await self.link.ask_async("begin", stall_limit)

    async def finish(self) -> list[str]:
        """What the sandbox reports about itself (it can only fail the test)."""
        problems = []
        if self.link.host is not None and self.link.peer.lost is None:
            problems += _sentences(await self.link.ask_async("finish"))
            await self._settle()
        self._let_go()
        return problems

    def _let_go(self) -> None:
        """The test is over: what was lent for it, and the mirrors of the loops and threads it ran
        calls from, go. (Kept, the mirrors of the code's threads that live on across tests, a pool
        of its own made at each test's import, piled up to the 32 at once a peer allows: a correct
        answer was told its sandbox broke the link, ten tests in.)"""
        if self.link.peer is not None:
            self.link.peer.exports.clear()
            self.link.peer.mirror_loops.close_all()
            self.link.peer.retire_mirror_threads()

    async def _settle(self) -> None:
        """Let the calls the learner's code cancelled end here too. In one process a cancelled
        call ends within a loop turn or two; here the cancellation arrives as a message, a moment
        later. A call still running after SETTLE was left running (the guard reports it)."""
        loop, deadline = asyncio.get_running_loop(), clock.monotonic() + SETTLE
        while self.link.peer is not None and clock.monotonic() < deadline:
            if not any(owner is loop and not task.done() for owner, task in list(self.link.peer.running())):
                return
            await asyncio.sleep(0.002)

    async def let_run(self, seconds: float) -> None:
        """kata.testing.letting_run in judge mode: the sandbox waits `seconds` and a few loop
        turns on the loop that runs this test's calls, then answers; every call its tasks made
        meanwhile arrived before the answer, and a loop turn here runs it (the fake records it)."""
        if self.link.host is not None and self.link.peer.lost is None:
            await self.link.ask_async("let_run", seconds)
        else:
            await asyncio.sleep(seconds)  # the sandbox is gone: the test says so in its own words

    def begin_sync(self) -> None:
        asyncio.run(self.link.ask_async("begin"))

    def finish_sync(self) -> list[str]:
        if self.link.host is None or self.link.peer.lost is not None:
            return []
        reported = asyncio.run(self.link.ask_async("finish"))
        self._let_go()
        return _sentences(reported)

    def sessions_opened(self) -> int:
        """The sandbox's count of the sessions the learner's code made (0 if it says nonsense)."""
        return _count(self.link.ask("sessions_opened") if self.link.host is not None else 0)

    async def threads_running(self) -> tuple[int, float]:
        """The sandbox's count of its threads, and when it counted (kata.testing.threads); nonsense
        is (0, inf), a count too late for any check: it can only fail a test. Asked without
        blocking this loop: the learner's calls to the test's fakes go on meanwhile."""
        if self.link.host is None or self.link.peer.lost is not None:
            return 0, math.inf
        return _count_at(await self.link.ask_async("threads_running"))

    def handed_over(self, first: int, later: int) -> tuple[float, float, list[tuple[float, float]]] | None:
        """When the sandbox's loop was handed the outcomes of the two calls its code made under
        through between them: kata.testing.order's question in judge mode. None where the
        sandbox does not know, or says nonsense: the order check's failure then stands. What the
        sandbox says can give its code a second run (a loop it says was starved), never a pass."""
        if self.link.host is None or self.link.peer.lost is not None:
            return None
        reported = self.link.ask("handed_over", first, later)
        if not (type(reported) is tuple and len(reported) == 3):
            return None
        first_at, later_at, packed = reported
        stretches = unpacked_stretches(packed)
        if type(first_at) is not float or type(later_at) is not float or stretches is None:
            return None
        if not (math.isfinite(first_at) and math.isfinite(later_at)) or later_at < first_at:
            return None
        return first_at, later_at, stretches

    def left_running(self) -> list[tuple[str, bool]]:
        """The sandbox's list of the learner's tasks still running when the latest call into its
        code ended: (name, cancelled) pairs; nothing if it says nonsense (it can only fail a test)."""
        reported = self.link.ask("left_running") if self.link.host is not None else []
        if not isinstance(reported, list):
            return []
        return [
            (item[0][:200], item[1])
            for item in reported[:1000]
            if type(item) is tuple and len(item) == 2 and type(item[0]) is str and type(item[1]) is bool
        ]

    async def stop_left_running(self) -> None:
        """Ask the sandbox to cancel the learner's tasks still running (a test that failed for them
        has said so in its own words)."""
        if self.link.host is not None and self.link.peer.lost is None:
            await self.link.ask_async("stop_left_running")

    def gone(self, error: BaseException) -> str | None:
        """The plain words for a test that failed because the sandbox went away."""
        if isinstance(error, PeerLost):
            return self.link.gone_message()
        return None

    def serving(self) -> int | None:
        """The number of the crossed call the running task serves for the sandbox, or None."""
        return CURRENT_CALL.get()

    def where(self, waiting: bool = False) -> list[tuple[str, int, str]]:
        """Where the learner's code runs now (asked from a thread: the loop may be frozen); with
        `waiting`, where its tasks wait instead."""
        found = self._ask_from_a_thread("waiting" if waiting else "where")
        return [tuple(p) for p in found if isinstance(p, tuple) and len(p) == 3]

    def callback_errors(self) -> list[str]:
        """The sandbox's words for errors raised in callbacks of the learner's loop during this test
        (asked from a thread, as `where`); nothing if it says nonsense (it can only explain a failure)."""
        said = self._ask_from_a_thread("callback_errors")[:5]
        return [words[:4000] for words in said if isinstance(words, str)]

    def _ask_from_a_thread(self, method: str) -> list:
        """The host's list answer to `method`, asked from a thread of its own and waited for at most
        WHERE_TIMEOUT s (the loop that would carry the answer may be frozen): [] if none came."""
        host, found = self.link.host, []
        if host is None:
            return found

        def ask() -> None:
            with contextlib.suppress(Exception):
                found.extend(getattr(host, method)())

        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        asker.join(WHERE_TIMEOUT)
        return found

    def wake_watch(self, limits: bool = False) -> SandboxWakeWatch:
        return SandboxWakeWatch(self, limits)

    def own_loops_watch(self) -> SandboxOwnLoopsWatch:
        return SandboxOwnLoopsWatch(self)

    def loop_breaker(self, explain: str) -> SandboxLoopBreaker:
        return SandboxLoopBreaker(self, explain)

    def keep_loops(self) -> None:
        """The sandbox holds the event loops the learner's code makes from now on (Host.keep_loops)."""
        self.link.ask("keep_loops")

    def close_kept_loops(self) -> None:
        if self.link.host is not None and self.link.peer.lost is None:
            self.link.ask("close_kept_loops")

    def ready(self, seconds: float = READY_TIMEOUT) -> None:
        """Start the sandbox host if none is alive, and wait (at most `seconds`) until it answers:
        called before a test's time limit starts, so that a new interpreter's start-up (seconds on
        a busy machine) is the grader's time, not the learner's. A host that fails to start, or
        answers late, is left to the test, which reports it in its own words. A host already
        alive is left as it is: no round trip before every test."""
        alive = self.link.process
        try:
            self.link.ensure()
        except Exception:  # the test that needs the host starts it again, and says what failed
            return
        if self.link.process is alive:
            return
        asking = threading.Thread(target=self._first_answer, daemon=True)
        asking.start()
        asking.join(seconds)

    def _first_answer(self) -> None:
        with contextlib.suppress(Exception):  # reported by the test that needs the host
            self.link.ask("sessions_opened")

    def stopped(self) -> None:
        self.link.stop()

    def close(self) -> None:
        self.link.stop()
        if self._retired is not None:
            self._retired.stop()


class _TimersInTheSandbox:
    """The probe of the learner's timers (kata.testing.own_timers: WakeWatch.run_out_own_timers,
    hold_back_own_timers, let_timers_go), done by the sandbox on the loop it watches, or with
    `_OWN_LOOPS` on the loops the learner's plain code made: the learner's process's word, which
    can only fail a test (a host that says it had no timer is judged by what its code returns)."""

    session: JudgeSession
    _OWN_LOOPS = False
    probe_own_timers = WakeWatch.probe_own_timers

    _lent: LentTimers | None = None

    async def fence(self) -> None:
        """A round trip to the sandbox: messages keep their order, so what its code sent before
        this (a cancel of a call the test holds) has been read here once it is over."""
        await self._asked_if_there("fence")

    async def run_out_own_timers(
        self,
        spare_up_to: float | None = None,
        spare_pauses: bool = False,
        answered: Callable[[], None] | None = None,
    ) -> list[Limit]:
        lent = self._lent.run_out(spare_up_to, spare_pauses) if self._lent is not None else []
        asked = ("run_out_own_timers", self._OWN_LOOPS, spare_up_to, spare_pauses)
        return lent + await self._asked(*asked, answered=answered)

    async def hold_back_own_timers(
        self,
        turns: bool,
        let_go_after: float | None = None,
        spare_up_to: float | None = None,
        spare_pauses: bool = False,
    ) -> list[Limit]:
        asked = (turns, let_go_after, self._OWN_LOOPS, spare_up_to, spare_pauses)
        return await self._asked("hold_back_own_timers", *asked)

    async def let_timers_go(self) -> None:
        await self._asked_if_there("let_timers_go", self._OWN_LOOPS)

    async def _asked_if_there(self, asked: str, *args: Any) -> None:
        """The sandbox's `asked`, if it is still there, for WAKES_TIMEOUT s at most."""
        if self.session.link.host is not None and self.session.link.peer.lost is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.session.link.ask_async(asked, *args), WAKES_TIMEOUT)

    async def _asked(self, asked: str, *args: Any, answered: Callable[[], None] | None = None) -> list[Limit]:
        """The sandbox's report; TimeoutError if it has not answered within WAKES_TIMEOUT s."""
        answer = self.session.link.ask_async(asked, *args, answered=answered)
        return from_report(await asyncio.wait_for(answer, WAKES_TIMEOUT))


class SandboxWakeWatch(_TimersInTheSandbox):
    """A WakeWatch kept by the sandbox on its own loop, used as `async with`: `watched` and
    `busiest()` as in one process, filled in from the sandbox's report when the block ends.

    The report is the learner's process's word about itself: a test may fail on it, never
    pass on it alone (a host rewritten by the learner's code can report nothing). Tasks here
    are named by their coroutine; `task` is None (the tasks live in the sandbox), and a task
    that served one of the judge's calls is named "" (the call's own name is not known there).
    """

    busiest = WakeWatch.busiest
    with_callbacks = WakeWatch.with_callbacks

    def __init__(self, session: JudgeSession, limits: bool = False) -> None:
        self.session = session
        self.watched: list[Watched] = []
        self.callbacks: list[Watched] = []  # the learner's functions the loop ran as callbacks
        self.limits: list[Limit] = []  # the time limits the learner's module set (kata.testing.limits)
        # The stretches the sandbox's loop was starved through (kata.testing.turns); None if unknown.
        self.starved: list[tuple[float, float]] | None = None
        self._with_limits = limits

    async def __aenter__(self) -> SandboxWakeWatch:
        asked = ("watch_wakes", True) if self._with_limits else ("watch_wakes",)
        await self._reported(asked)
        if self._with_limits:
            timers_watched(self, True)
            self._lent = LentTimers(f"{self.session.stem}.py")
            self._lent.install(asyncio.get_running_loop())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        timers_watched(self, False)
        lent_ran_out = []  # the ClientTimeouts of requests on a lent session that ran out, noted here
        if self._lent is not None:
            lent_ran_out = self._lent.ran_out()
            self._lent.uninstall()
        self.limits = lent_ran_out
        if self.session.link.host is None or self.session.link.peer.lost is not None:
            return
        failing = exc_info[0] is not None  # the test fails already: what it missed cannot matter
        try:
            reported = await self._reported(("wakes",))
            if isinstance(reported, tuple | list) and len(reported) == 3:
                _read_wakes(self, reported)
            if self._with_limits:
                self.limits = from_report(await self._reported(("limits",))) + lent_ran_out
        except AssertionError:
            if not failing:
                raise

    async def _reported(self, asked: tuple) -> Any:
        """The sandbox's answer to `asked`. One not given within WAKES_TIMEOUT s (a machine far too
        busy, or a loop the code froze, which fails on its own finding) leaves the test blind to
        how the code waited: a failure on time, never a pass without it."""
        try:
            return await asyncio.wait_for(self.session.link.ask_async(*asked), WAKES_TIMEOUT)
        except TimeoutError:
            what = "how your code's tasks waited while it ran"
            raise margins.unanswered(WAKES_TIMEOUT, what, f"the sandbox reports {asked[0]}") from None


class SandboxOwnLoopsWatch(_TimersInTheSandbox):
    """kata.testing.own_loops.OwnLoopsWatch kept by the sandbox, as a plain `with` (the tests of
    plain code have no loop): filled in from its report when the block ends, which can only fail
    a test, as a SandboxWakeWatch's."""

    busiest = WakeWatch.busiest
    with_callbacks = WakeWatch.with_callbacks
    _OWN_LOOPS = True

    def __init__(self, session: JudgeSession) -> None:
        self.session = session
        self.watched: list[Watched] = []
        self.callbacks: list[Watched] = []
        self.limits: list[Limit] = []
        self.starved: list[tuple[float, float]] | None = None

    def __enter__(self) -> SandboxOwnLoopsWatch:
        self.session.link.ask("watch_own_loops")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.session.link.host is None or self.session.link.peer.lost is not None:
            return
        reported = self.session.link.ask("own_loops")
        if isinstance(reported, tuple | list) and len(reported) == 4:
            _read_wakes(self, reported)
            self.limits = from_report(reported[3])


class SandboxLoopBreaker:
    """`async with`: the sandbox breaks a loop the learner's code keeps frozen there, raising
    `explain` inside it (kata.testing.waiting.FrozenLoopBreaker; `explain` is a template with
    `{function}` and `{seconds:.2f}`). Without it a frozen sandbox answers nothing until the
    test's timeout. What it raises can only fail the test."""

    def __init__(self, session: JudgeSession, explain: str) -> None:
        self.session, self.explain = session, explain

    async def __aenter__(self) -> SandboxLoopBreaker:
        await asyncio.wait_for(self.session.link.ask_async("break_frozen_loops", self.explain), WAKES_TIMEOUT)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.session.link.host is None or self.session.link.peer.lost is not None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.session.link.ask_async("stop_breaking"), WAKES_TIMEOUT)


def _count(reported: Any) -> int:
    """A count the sandbox reported, checked as data: 0 if it is not a sane count."""
    return reported if type(reported) is int and 0 <= reported < 10**6 else 0


def _count_at(reported: Any) -> tuple[int, float]:
    """A count and the moment it was taken, as the sandbox reported them, checked as data: a count
    that is not sane is 0, a moment that is not a finite float is never (inf)."""
    if not (isinstance(reported, tuple | list) and len(reported) == 2):
        return 0, math.inf
    count, at = reported
    return _count(count), at if type(at) is float and math.isfinite(at) else math.inf


def _read_wakes(watch: Any, reported: tuple | list) -> None:
    """Fill in a watch kept by the sandbox from its report's first three parts (Host.wakes)."""
    watch.watched = _watched(reported[0])
    watch.callbacks = [
        Watched(w.name, callback=True, wakes=w.wakes, timed=w.timed) for w in _watched(reported[1])
    ]
    watch.starved = unpacked_stretches(reported[2])


def _watched(reported: Any) -> list[Watched]:
    """The sandbox's report as Watched records (bounded; nonsense dropped)."""
    watched = []
    for entry in reported[:MAX_WATCHED] if isinstance(reported, list) else []:
        if not (isinstance(entry, tuple | list) and len(entry) == 3):
            continue
        name, wakes, timed = entry
        if type(name) is not str or type(wakes) is not bytes or type(timed) is not bytes:
            continue
        name = "" if name in SERVING_COROUTINES else name[:100]
        watched.append(Watched(name=name, wakes=unpacked_wakes(wakes), timed=unpacked_wakes(timed)))
    return watched


def _sentences(reported: Any) -> list[str]:
    """What the sandbox reported, as at most 20 sentences (it is the learner's process)."""
    if not isinstance(reported, list):
        return []
    return [p[:4000] for p in reported[:20] if isinstance(p, str)]
