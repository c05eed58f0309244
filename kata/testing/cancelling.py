"""Cancel the code under test at a chosen moment, and see what it left behind.

A test starts the learner's coroutine with `Run`, and a fake calls `run.cancel(moment)` from
one of its hooks at the very moment it reports (every call has started, a connection is being
acquired...): no fixed sleep, so the moment cannot be missed on a loaded machine. `Run` also
takes a snapshot at the instant the learner's function ends, before any other task has run.

`left_running` then sorts the calls that were still running at that instant: cancelled but not
stopped yet, or never cancelled at all. Both are the learner's mistake; they need different
advice. It stops them afterwards, so that the loop guard does not report them a second time.
"""

from __future__ import annotations

import ast
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from kata.testing import clock, margins
from kata.testing.checks import describe
from kata.testing.fakes import Call
from kata.testing.hang_guard import waiting_lines
from kata.testing.letting_run import let_the_code_run
from kata.testing.limits import alive_between, assert_no_limit_of_its_own
from kata.testing.own_timers import LET_GO
from kata.testing.waiting import assert_loop_ran, assert_slept, started_by_the_code, watching_timers
from kata.words import many

WAIT = 1.0  # how long a cancelled function may take to stop (a short cleanup takes a few ms)
# Cancelled a second time while its cleanup waits for what it cancelled (05, 11, 15, 16, 18): each
# cancelled call takes STOPPING s to stop, so code that waits for them is surely still waiting when
# the second cancel lands, even in judge mode.
STOPPING = 0.2


def cancelled_again_advice(thing: str = "task", waiters: str = "let gather or a TaskGroup do it") -> str:
    """What a test of a second cancel during the cleanup tells the learner: `thing`, what the code
    started ("task", "worker", "run"); `waiters`, what waits for them all in one go."""
    return (
        "A caller may cancel more than once (a timeout fires, then its own caller gives up): the second "
        f"cancel lands in your cleanup, at whatever it awaits there. Cancel every {thing} first, then wait "
        f"for them all at once (`await asyncio.gather(*tasks, return_exceptions=True)`), or {waiters}: "
        f"then a second cancel can neither leave a {thing} never cancelled (cancelling and waiting for "
        "them one by one, the rest are never reached) nor be lost (no `except asyncio.CancelledError:` "
        "that returns)."
    )


STEP = 0.005


class Run:
    """The learner's coroutine, run as a task that a fake's hook can cancel at a given moment.

    snapshot: called at the instant the learner's function ends (returns or raises), in the
              same step, so that nothing else has moved yet; the value is kept in `left`.
    """

    def __init__(self, coro: Coroutine[Any, Any, Any], snapshot: Callable[[], Any] | None = None) -> None:
        self.moment: str | None = None  # set by cancel(): what was going on when it was cancelled
        # Set when finish() gives up: where the learner's code was waiting, for the message.
        self.waiting = ""
        # Set when finish() gives up: how long it waited (for the moment, or for the stop after it).
        self.gave_up_after: float | None = None
        self.left: Any = None
        self.ended_at: float | None = None  # when the function ended (kata clock), as the test saw it
        self._snapshot = snapshot
        self._again = False
        self.task = asyncio.create_task(self._watch(coro))

    async def _watch(self, coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await coro
        finally:
            self.ended_at = clock.monotonic()
            if self._snapshot is not None:
                self.left = self._snapshot()

    def cancel(self, moment: str) -> None:
        """Cancel the learner's function now, if it is still running; only the first moment counts."""
        if self.moment is None and not self.task.done():
            self.moment = moment
            self.task.cancel()

    def cancel_again(self, moment: str) -> None:
        """Cancel it a second time, if the first cancel came and it still runs (a caller that
        gives up again while it cleans up); the moment reads "<the first>, and again <moment>".
        Only the first call counts."""
        if self.moment is not None and not self.task.done() and not self._again:
            self._again = True
            self.moment = f"{self.moment}, and again {moment}"
            self.task.cancel()

    async def finish(self, longest: float, held: float = 0.0) -> bool:
        """Wait until the function has ended: up to `longest` seconds for it to be cancelled or
        end by itself, then up to WAIT seconds after the cancellation (and `held` more, the time
        a HeldStop keeps the calls it stops from stopping). False if it still runs:
        the test gave up waiting, a failure on time (kata.testing.margins.gave_up), since correct
        code ends far sooner unless the machine is very busy; code that hangs does it every time."""
        started = clock.monotonic()
        while not self.task.done() and self.moment is None and clock.monotonic() < started + longest:
            await asyncio.sleep(STEP)
        if not self.task.done() and self.moment is None:
            return self._give_up(started, longest, "cancelling: ends or is cancelled < longest")
        if not self.task.done():
            cancelled = clock.monotonic()
            await asyncio.wait({self.task}, timeout=WAIT + held)
            if not self.task.done():
                return self._give_up(cancelled, WAIT + held, "cancelling: stops < WAIT once cancelled")
        if not self.task.cancelled():
            self.task.exception()  # seen here, so that an error is never reported as lost
        return True

    def _give_up(self, since: float, limit: float, check: str) -> bool:
        """The test stops waiting `limit` s after `since` (a failure on time), noting where the
        learner's code was waiting. Always False: the function still runs."""
        margins.gave_up(clock.monotonic() - since, limit, check)
        self.gave_up_after = limit
        self.waiting = waiting_lines([self.task])
        return False

    async def stop(self) -> None:
        """Cancel it again and give it WAIT seconds (after a failure: the verdict is made)."""
        self.task.cancel()
        await asyncio.wait({self.task}, timeout=WAIT)

    @property
    def cancelled(self) -> bool:
        return self.task.cancelled()

    @property
    def error(self) -> BaseException | None:
        """What it raised (None when it returned or was cancelled)."""
        return None if self.task.cancelled() else self.task.exception()

    def ending(self) -> str:
        """How it ended, in words: "raised CancelledError", "returned None (a NoneType)", ..."""
        if self.task.cancelled():
            return "raised CancelledError"
        if self.task.exception() is not None:
            return f"raised {self.task.exception()!r}"
        return f"returned {describe(self.task.result())}"


# How soon after a HeldStop lets its calls stop the code waiting for them must end: a few loop
# turns, and in judge mode two crossings between the processes; the rest is headroom for a busy
# machine (a broken bound is a failure on time, and gets a second run).
HOLD_AFTER = 0.4
# A function that ended this long after its cancel reached calls still stopping waited, but not
# long enough: its message says a fixed wait is a guess (sooner, it simply did not wait).
FIXED_WAIT_SEEN = 0.05
# How long a test of stopping holds the calls it sees cancelled (the `hold` fixture). Long enough
# that calls cancelled by code that does not wait for them have not stopped when it ends, even once
# its end has crossed from the sandbox (judge mode), and that a stretch of it is left to watch
# (POLL_FROM to POLL_BEFORE). One hold is enough: code that waits a fixed time, or until a deadline
# of its own, keeps a timer (or a thread) going in that stretch, and is seen by it whatever its
# length (`HeldStop.assert_waited_on_the_calls`); a shorter wait ends while the calls are held.
HOLD = 0.1
# The stretch of the hold in which code waiting for the calls it cancelled is not woken at all, and
# keeps no timer or thread of its own going: from POLL_FROM after the cancel (the first call
# cancelled stops at once, and what waits for it wakes then, in judge mode once that news has
# crossed) to POLL_BEFORE before the hold ends. A poll with no timer (`await asyncio.sleep(0)`
# in a loop, a check the loop calls back at once) wakes there: one wake-up is a poll.
POLL_FROM = 0.05
POLL_BEFORE = 0.01
POLL_WOKEN = 1
# Code whose timers were probed as the hold ended, and that ended within this long of the calls
# stopping, waited for them, not for a timer (a poll's next check, held back, goes LET_GO s later):
# between HOLD_AFTER, the bound a busy machine may stretch, and LET_GO.
JUDGED_WITHIN = (HOLD_AFTER + LET_GO) / 2
# The words of a fixed wait's advice: what to wait for instead, and why that is better.
WAIT_FOR_THE_TASKS = (
    "wait for the tasks themselves (`await asyncio.gather(*tasks, return_exceptions=True)`), which "
    "ends the moment they have stopped"
)


def through(held: HeldStop | None, coro: Coroutine[Any, Any, Any]) -> Awaitable[Any]:
    """`await through(held, ex.f(...))`: the learner's coroutine itself, or, with a HeldStop, run by
    its `call()` (a wake-up watch then sees it wake)."""
    return coro if held is None else held.call(coro)


def them(they: str) -> str:
    return "it" if they == "it" else "them"


class HeldStop:
    """Cancelled calls to these services stop only when the test lets them: `hold` s, as the code
    under test sees time (kata.testing.letting_run), after a cancel first reached one of them.

    Code that waits until the calls it cancelled have ended cannot end before then, and ends
    soon after. Code that waits a fixed time instead (`asyncio.sleep`, `asyncio.wait` with a
    timeout) is seen: a wait shorter than `hold` ends while the call is still stopping (the
    function's snapshot holds it, for `left_running`), a much longer one ends long after the
    call has stopped (`waited_on`), and a wake-up watch sees every one that is still going in
    the hold's stretch (`assert_waited_on_the_calls`): a timer or a thread of the code's own, a
    limit (`asyncio.wait(tasks, timeout=3)`), a poll until the calls are done or until a
    deadline of its own (a loop that sleeps, reading the clock), which wakes while they are held.

    The held calls are let stop one at a time, in the order their cancels came, each once the
    code under test has seen the one before end (kata.testing.letting_run): in judge mode their
    endings cross to the other process one message at a time, and in one process they then come
    apart the same way, as real calls stop at moments of their own. (A cancelled `gather` without
    `return_exceptions` ends at its first call that ends cancelled, the others still stopping: in
    one process it would otherwise see them all end in one loop step, and pass there alone.)

    With `lead`, the first held call is let stop `lead` s after its cancel already, and the rest
    at `hold`. Code that waits for the first of its calls to end and then a fixed time (a
    cancelled `gather` ends at its first call that ends cancelled; a sleep after it) starts its
    wait there: it is held as long as code whose wait starts at the cancel, not a few loop turns.

    Create it before the code under test runs; `release()` it once that code has ended (or the
    test gave up on it), before stopping what it left running.
    """

    def __init__(
        self, hold: float, *services: Any, lead: float | None = None, own_timers: bool = True
    ) -> None:
        """`own_timers` False: the learner's timers are not probed as the hold ends (a docstring
        that gives a time limit: its timer is the code's to keep, and running it out early would
        change what correct code does)."""
        self.hold = hold
        self._probes_timers = own_timers
        self.lead = lead
        self.cancelled_at: float | None = None  # when a cancel first reached a held call
        self.held_since: float | None = None  # the same moment, as a wake-up watch times it (perf_counter)
        self.calling: asyncio.Task | None = None  # the learner's function, called through `call()`
        self.calling_ended_at: float | None = None  # when it ended (kata clock)
        self.released_at: float | None = None  # when the last held call was let stop, after the hold
        self._held: list[asyncio.Event] = []
        self.held_calls = 0  # how many cancelled calls it held
        self._open = False  # once released, a cancelled call stops at once
        self._reached = asyncio.Event()
        # kata.testing.own_timers, as the hold ends: whether the learner's timers were probed, those
        # that ran out, and those held back while the calls stopped.
        self.probed = False
        self.ran_out: list[Any] = []
        self.held_back: list[Any] = []
        self._watch: Any = None
        for service in services:
            service.stop_until = self._stop_until
        self._task = asyncio.create_task(self._hold())

    def _stop_until(self, _call: Call) -> asyncio.Event:
        stopped = asyncio.Event()
        if self._open:
            stopped.set()
            return stopped
        if self.cancelled_at is None:
            self.cancelled_at = clock.monotonic()
            self.held_since = clock.perf_counter()
            self._reached.set()
        self._held.append(stopped)
        self.held_calls += 1
        return stopped

    async def _hold(self) -> None:
        await self._reached.wait()
        if self.lead is None:
            await let_the_code_run(self.hold)
        else:
            await let_the_code_run(self.lead)
            if self._held and not self._open:
                self._held.pop(0).set()
            await let_the_code_run(max(0.0, self.hold - self.lead))
        if self._open:
            return
        await self._probe_own_timers()
        self._open = True
        while self._held:
            stopped = self._held.pop(0)
            if not self._held:
                self.released_at = clock.monotonic()
            stopped.set()
            await let_the_code_run()

    async def _probe_own_timers(self) -> None:
        """As the hold ends, with a watch of the learner's timers on (kata.testing.own_timers): its
        pending timers run out (a limit gives up: the code ends while the calls are still held),
        then those pending are held back as the calls stop (a poll notices their end LET_GO s
        late, and `waited_on` sees it); a timer that only logs or warns changes nothing."""
        self._watch = watching_timers() if self._probes_timers else None
        if self._watch is None or self._open:
            return
        self.probed = True
        self.ran_out, self.held_back = await self._watch.probe_own_timers(let_go_after=LET_GO)
        if self.ran_out:  # what the code did then has reached the test (judge mode) before the calls stop
            await let_the_code_run()

    async def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Await the learner's coroutine in a task of its own, made now: a wake-up watch entered
        before sees it wake (it cannot see the test's own task, made before the watch). A test
        that runs it with `Run` passes the `run` to `assert_waited_on_the_calls` instead."""
        self.calling = asyncio.create_task(coro)
        self.calling.add_done_callback(self._called)
        return await self.calling

    def _called(self, _task: asyncio.Task) -> None:
        self.calling_ended_at = clock.monotonic()

    async def release(self) -> None:
        """End the hold, and let every held call stop. A hold that has begun is waited out (in
        judge mode its wait is a question to the other process, answered in turn): the code under
        test has ended by now, or the test gave up on it, so the verdict does not wait for it."""
        if not self._reached.is_set():
            self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._open = True
        while self._held:
            self._held.pop(0).set()
        if self.held_back:  # the code has ended: they need not wait for LET_GO
            await self._watch.let_timers_go()

    def waited_on(self, ended_at: float | None, check: str) -> float | None:
        """How long the code under test went on after the held calls were let stop, when it went
        on HOLD_AFTER s or more (a broken bound `check`); None when it ended sooner, or before.
        `ended_at`: when it ended (kata clock; `Run.ended_at`)."""
        if self.released_at is None or ended_at is None or ended_at < self.released_at:
            return None
        after = ended_at - self.released_at
        return after if margins.over(after, HOLD_AFTER, check) else None

    def ended_while_stopping(self, ended_at: float | None) -> float | None:
        """How long after a cancel first reached a held call the code under test ended, when it
        ended before the calls were let stop; None otherwise."""
        if self.cancelled_at is None or ended_at is None:
            return None
        if self.released_at is not None and ended_at >= self.released_at:
            return None
        return max(0.0, ended_at - self.cancelled_at)

    def fixed_wait_words(self, ended_at: float | None, function: str) -> str:
        """What to add to "`function` left them still stopping" when it ended a while after its
        cancel (FIXED_WAIT_SEEN or more): it waited, but a fixed time. "" otherwise."""
        early = self.ended_while_stopping(ended_at)
        if early is None or early < FIXED_WAIT_SEEN:
            return ""
        calls, these = ("the call", "this one") if self.held_calls == 1 else ("the calls", "these")
        return (
            f" {function} ended {early:.2f} s after its cancel reached {calls}: a fixed wait guesses how "
            f"long a call takes to stop, and {these} took longer."
        )

    def assert_not_waited_on(
        self,
        ended_at: float | None,
        function: str,
        whose: str,
        *,
        calls: str = "",
        wait_for: str = WAIT_FOR_THE_TASKS,
    ) -> None:
        """Fail if `function` went on HOLD_AFTER s or more after the calls it cancelled had stopped:
        it waited a fixed time. `whose` opens the message ("fetch(3) failed, and f raised it");
        `calls` is what `function` had cancelled ("fetch_news()", "its workers"; by default "the
        calls"); `wait_for` the advice ("wait for the tasks themselves (...), which ends ...")."""
        after = self.waited_on(
            ended_at, f"{function}: ends < HOLD_AFTER once the calls it cancelled have stopped"
        )
        if after is None:
            return
        one = self.held_calls == 1
        calls = calls or ("the call" if one else "the calls")
        took, they = ("took", "it") if one else ("took up to", "they")
        how = "it waited a fixed time (a sleep, or `asyncio.wait` with a timeout)"
        if self.held_back:  # its next check was held back (`_probe_own_timers`)
            how = (
                f"it was waiting on a timer of its own ({self.held_back[0].where()}), which this test "
                f"held back {LET_GO:g} s as {they} stopped, and not on {them(they)}"
            )
        raise AssertionError(
            f"{whose}. {function} had cancelled {calls}, which {took} {self.hold:.2f} s to stop, and it went "
            f"on {after:.2f} s after {they} had stopped: {how} instead of until {they} had ended. A call "
            f"takes as long as it takes to stop, shorter or longer than any guess: {wait_for}."
        )

    def assert_waited_on_the_calls(
        self,
        wakes: Any,
        function: str,
        wait_for: str = WAIT_FOR_THE_TASKS,
        *,
        calls: str = "",
        run: Run | None = None,
    ) -> None:
        """Fail if `function` waited for the calls it cancelled by any means but the calls
        themselves: it woke up while they were held stopping (it polled, until they were done or
        until a deadline of its own), it set a time limit of its own (kata.testing.limits), or a
        timer or a thread of its own was going then (a sleep, a `threading.Timer`, a poll).
        `wakes`: a `wake_watch(ex)` on while it ran, read after its block has ended (in judge mode
        the sandbox reports then); `calls`, `wait_for`: as for `assert_not_waited_on`; `task`: the
        task the test ran it in (`run.task`), when not through `call()`.

        A test of stopping checks this last, after what it saw the calls do (a wait shorter than
        the hold left them still stopping): a poll's deadline and a limit are seen whatever their
        length, so that the hold need not outlast them (a longer hold makes every learner wait)."""
        task, ended_at = (self.calling, self.calling_ended_at) if run is None else (run.task, run.ended_at)
        self._assert_no_poll(wakes, function, wait_for, calls, task, self._timers_judged(ended_at))
        if not self.probed:  # else its timers were judged by what they did (`_probe_own_timers`)
            assert_no_limit_of_its_own(
                wakes,
                lambda limit: (
                    f"{function} set {limit.said()}, and its docstring gives none: a call slower than "
                    f"{limit.delay:.2f} s, to end or to stop once cancelled, would be given up on or left "
                    f"running. Wait until the calls have ended, however long that takes: {wait_for}."
                ),
            )
        self._assert_no_timer(wakes, function, wait_for, calls, threads_only=self.probed)
        if self.held_since is not None:
            one = self.held_calls == 1
            calls, were = calls or ("the call" if one else "the calls"), "was" if one else "were"
            stopping = f"while {calls} {were} still stopping after its cancel"
            assert_loop_ran(wakes, *self._stretch(), function, stopping)

    def _stretch(self) -> tuple[float, float]:
        """The stretch of the hold a wake-up watch looks at (perf_counter): see POLL_FROM."""
        assert self.held_since is not None
        return self.held_since + POLL_FROM, self.held_since + self.hold - POLL_BEFORE

    def _cancelled_words(self, function: str, calls: str) -> tuple[str, str, str]:
        """("f had cancelled the calls, and while they were still stopping", "they", "have"), in
        the singular for one held call."""
        one = self.held_calls == 1
        calls = calls or ("the call" if one else "the calls")
        they, were, has = ("it", "was", "has") if one else ("they", "were", "have")
        return f"{function} had cancelled {calls}, and while {they} {were} still stopping", they, has

    def _timers_judged(self, ended_at: float | None) -> bool:
        """Whether the learner's timers were judged by what they did (`_probe_own_timers`): probed,
        and the code ended soon after the calls stopped, which a poll whose next check was held
        back cannot do (it ends LET_GO s later, when those timers go by themselves). A wake-up one
        of its timers made in the hold is then no poll (a heartbeat, a progress log)."""
        if not self.probed or ended_at is None:
            return False
        return self.released_at is None or ended_at - self.released_at < JUDGED_WITHIN

    def _assert_no_poll(
        self, wakes: Any, function: str, wait_for: str, calls: str, task: Any, timers_judged: bool
    ) -> None:
        """Fail if the code woke up while the calls were held stopping; with `timers_judged`, a
        wake-up made by a timer of its own is no mistake (`_timers_judged`): one with no timer
        behind it still is (`await asyncio.sleep(0)` in a loop)."""
        if self.held_since is None:
            return
        since, until = self._stretch()
        opening, they, has = self._cancelled_words(function, calls)
        seen, named = wakes.with_callbacks(timers_judged), {task: function} if task is not None else {}
        fix = f"Wait for {'it' if they == 'it' else 'them'} without a loop: {wait_for}."
        busiest = seen.busiest(since, until)
        if busiest is not None and started_by_the_code(busiest[0], named):
            # A task of its own woke: a helper that polls, or one of its tasks still at work.
            fix = STILL_AT_WORK + fix
        assert_slept(
            seen,
            since,
            until,
            named,
            f"{opening} (the {until - since:.2f} s this test watched)",
            {"what": f"whether {they} {has} ended", "until": f"{they} {has}", "fix": fix},
            f"{function}: wake-ups while the calls it cancelled stop < POLL_WOKEN",
            function,
            woken=POLL_WOKEN,
        )

    def _assert_no_timer(
        self, wakes: Any, function: str, wait_for: str, calls: str, threads_only: bool
    ) -> None:
        """Fail if a timer the learner's file set (a sleep included: kata.testing.limits) was
        running in the stretch: a sleep raced against the calls, a task that sleeps and then
        cancels the wait, a check that `loop.call_later` runs. Waiting for the calls needs none."""
        if self.held_since is None:
            return
        # With `threads_only`, its timers were judged by what they did (`_probe_own_timers`).
        timers = alive_between(wakes, *self._stretch(), only_threads=threads_only)
        if not timers:
            return
        opening, they, _ = self._cancelled_words(function, calls)
        them = "it" if they == "it" else "them"
        raise AssertionError(
            f"{opening}, a timer or a thread of its own was running: {timers[0].where()}. Waiting "
            f"for {them} needs neither. A sleep raced against {them} (or a task that sleeps and then "
            f"cancels the wait) is a time limit of its own, which leaves a call slower to stop than "
            f"that running, and a timer or a thread that checks on {them} is a poll: {wait_for}."
        )


# Added to the advice when the task that woke was one the learner's code started.
STILL_AT_WORK = (
    "Or, if that task was still at work instead: cancel every one first, and then wait for them all; "
    "cancelled one at a time, each waited for before the next is cancelled, the others go on "
    "working meanwhile. "
)


async def settle() -> None:
    """Let cancellations already asked for reach the calls they stop: a few loop turns, one per
    task between the code that cancels and the call; in judge mode, the cancellations the learner's
    code asked for in its own process too (they cross as messages: kata.testing.letting_run)."""
    await let_the_code_run()


async def stop_calls(calls: Sequence[Call]) -> None:
    """Cancel the tasks still running these calls, and give them WAIT seconds to stop."""
    current = asyncio.current_task()
    tasks = {c.task for c in calls if c.end is None and c.task is not None and c.task is not current}
    tasks = {t for t in tasks if not t.done()}
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=WAIT)


async def left_running(running: Sequence[Call]) -> tuple[list[Call], list[Call]]:
    """Sort the calls that were running when the learner's function ended into (cancelled, but
    not stopped yet; never cancelled), then stop them all."""
    await settle()
    stopping = [c for c in running if c.outcome == "cancelled"]
    untouched = [c for c in running if c.outcome != "cancelled"]
    await stop_calls(running)
    return stopping, untouched


def finished_too_late_to_stop(finished: Sequence[Call], news: Sequence[Call], check: str) -> bool:
    """Whether calls that should have been cancelled ran to their end only because the cancel
    came late: every one of them ended after the first of `news` ended (the call that failed, or
    the answer that made them useless). Breaks the timing check `check` if so.

    Correct code cancels the others the moment that call ends, so it lets one finish only when
    its cancel comes late: its process waited for a core, or (judge mode) the news and the cancel
    had to cross between two processes. That is a failure on time, and it gets a second run;
    code that waits for them all finishes them every time, however fast the machine. A call that
    ended before the news never raced it (calls made one after another): no matter of time.
    """
    ends = [call.end for call in news if call.end is not None]
    if not ends or not finished:
        return False
    first = min(finished, key=lambda call: call.end)
    # How long it ran, against how long after its start the news came.
    return margins.over(first.end - first.start, min(ends) - first.start, check)


def left_running_message(whose: str, stopping: Sequence[Call], untouched: Sequence[Call], name: str) -> str:
    """`whose` (say "load_page raised LookupError('x')") while these calls were still running,
    and whether they had been cancelled; the caller adds the advice that fits."""
    running = len(stopping) + len(untouched)
    return _left_message(
        whose,
        f"{many(running, 'call')} to {name}",
        [c.label(name) for c in stopping],
        [c.label(name) for c in untouched],
    )


def _left_message(
    whose: str,
    what: str,
    stopping: Sequence[str],
    untouched: Sequence[str],
    listed: Callable[[Sequence[str]], str] = ", ".join,
    why: str = "",
) -> str:
    """`whose` while `what` ("2 calls to fetch") were still running: these, cancelled (`stopping`)
    or not (`untouched`); `why` follows "Nothing had cancelled them" when none had been."""
    running = [*stopping, *untouched]
    were = "was" if len(running) == 1 else "were"
    opening = f"{whose} while {what} {were} still running: {listed(running)}."
    if not stopping:
        them = "it" if len(untouched) == 1 else "them"
        return f"{opening} Nothing had cancelled {them}{why}."
    cancelled = (
        "had been cancelled, but had not stopped yet: `task.cancel()` only asks a task to stop, "
        "and it stops later, the next time it runs."
    )
    if not untouched:
        subject = "It" if len(stopping) == 1 else "They"
        return f"{opening} {subject} {cancelled}"
    return f"{opening} Nothing had cancelled {listed(untouched)}; {listed(stopping)} {cancelled}"


class LeftRunning(NamedTuple):
    """What a cancelled function left running when it ended, each thing in words ("fetch_news()",
    "worker()"); `kind` is what one of them is ("call", "task")."""

    kind: str
    stopping: Sequence[str] = ()  # cancelled, but not stopped yet
    untouched: Sequence[str] = ()  # never cancelled

    @classmethod
    def calls(cls, stopping: Sequence[Call], untouched: Sequence[Call], name: str) -> LeftRunning:
        """The calls to `name` that `left_running` sorted."""
        return cls("call", [c.label(name) for c in stopping], [c.label(name) for c in untouched])


LET_IT_GO = (
    "Do not catch `asyncio.CancelledError` (nor BaseException, nor a bare `except:`): clean up in a "
    "`finally:` block and let the cancellation go on unchanged."
)


def assert_ended_after_the_cancel(run: Run, name: str, *, unreached: str, started: str = "") -> None:
    """Fail, in the learner's words, unless `name` (their function, run by `run`) has ended, and
    ended after the test cancelled it: the first half of `assert_ended_cancelled`, for a test that
    looks at something else (what it gave back, what it reported) before how it ended. Call it
    after `run.finish()` (and `run.stop()` when that gave up); the parameters are the same.

    An error it raised before the cancel is raised as it is ("not written yet" for a stub).
    """
    if run.gave_up_after is not None:
        if run.moment is None:
            raise AssertionError(
                f"{name} was still running after {run.gave_up_after:.1f} s {unreached}.{run.waiting}"
            )
        also = f", {started} with it" if started else ""
        raise AssertionError(
            f"{name} was still running {run.gave_up_after:.1f} s after its caller cancelled it "
            f"{run.moment}: a cancelled call should stop at once{also}.{run.waiting}"
        )
    if run.moment is None:
        if run.error is not None:
            raise run.error  # the learner's own error ("not written yet" for a stub)
        raise AssertionError(f"{name} {run.ending()} {unreached}.")


def assert_ended_cancelled(
    run: Run,
    name: str,
    *,
    unreached: str,
    started: str = "",
    left: LeftRunning | None = None,
    stop_advice: str = "",
    cancel_advice: str = "",
    remedy: str = LET_IT_GO,
) -> None:
    """Fail, in the learner's words, unless `name` (their function, run by `run`, which the test
    cancelled from outside as a timeout or a caller that gave up would) ended cancelled, at once,
    with nothing it started still running. Call it after `run.finish()` (and `run.stop()` when
    that gave up).

    unreached:     how it fell short when it ended, or still ran, before the moment the test
                   cancels it: "without calling fetch(5)", "before it could be cancelled".
    started:       what it started, to stop along with itself: "its workers".
    left:          what was still running the instant it ended.
    stop_advice:   the exercise's advice when something was left running (sentences).
    cancel_advice: the exercise's advice when it did not end cancelled (sentences).
    remedy:        what to do instead, when it did not end cancelled: LET_IT_GO (do not catch it),
                   or the exercise's own words where it teaches to catch it and raise it again.

    An error it raised before the cancel is raised as it is ("not written yet" for a stub).
    """
    assert_ended_after_the_cancel(run, name, unreached=unreached, started=started)
    cancelled = f"{name} was cancelled by its caller {run.moment}, and it {run.ending()}"
    if left is not None and (left.stopping or left.untouched):
        count = len(left.stopping) + len(left.untouched)
        what = many(count, left.kind)
        why = (
            ": when a function is cancelled, the code after its `await` does not run, nor does an "
            "`except Exception:` (a cancel is not an Exception)"
        )
        found = _left_message(cancelled, what, left.stopping, left.untouched, listed=_counted, why=why)
        raise AssertionError(_with(found, stop_advice))
    if not run.cancelled:
        if run.error is None:
            if stops_a_cancel(LEARNER_FILE) == "task group":
                raise AssertionError(f"{cancelled} instead of ending cancelled: {LOST_IN_A_TASK_GROUP}")
            why = (
                "it caught the CancelledError and carried on, so whoever cancelled it (a task group, a "
                "timeout around it, the end of the program) takes that for a real answer."
            )
        else:
            why = (
                "the CancelledError became another error on its way out, so whoever cancelled it (a task "
                "group, a timeout around it, the end of the program) takes that for a failure, not for "
                "the cancel it asked for."
            )
        raise AssertionError(_with(f"{cancelled} instead of ending cancelled: {why} {remedy}", cancel_advice))


# The learner's file of the test running now (kata.plugin sets it at each test's start), read for
# what in it can stop a cancel on its way out.
LEARNER_FILE: Path | None = None

LOST_IN_A_TASK_GROUP = (
    "the CancelledError was lost on its way out, so whoever cancelled it (a task group, a timeout "
    "around it, the end of the program) takes that for a real answer. Your code catches no "
    "CancelledError, but a TaskGroup does this: cancelled while it is already stopping for a "
    "child's error, it drops the cancel and raises the children's errors instead, and your "
    "`except*` handled them. Do not end a TaskGroup with an error of your own to pass a result "
    "on: wait for the first result with `asyncio.as_completed(...)` or `asyncio.wait(..., "
    "return_when=asyncio.FIRST_COMPLETED)`, and cancel the rest yourself."
)


def stops_a_cancel(path: Path | None) -> str:
    """What in the learner's file can stop a CancelledError on its way out: "except" (a handler
    that catches it: `except asyncio.CancelledError`, `except BaseException`, a bare `except:`),
    "task group" (none such, but an `except*` and a TaskGroup), or "" (neither, or unreadable)."""
    try:
        source = path.read_text(encoding="utf-8") if path is not None else ""
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return ""
    starred = False
    for node in ast.walk(tree):
        if isinstance(node, ast.TryStar):
            starred = True
        if isinstance(node, ast.ExceptHandler) and not _always_raises_again(node):
            caught = ast.unparse(node.type) if node.type is not None else "BaseException"
            if "CancelledError" in caught or "BaseException" in caught:
                return "except"
    return "task group" if starred and "TaskGroup" in source else ""


def _always_raises_again(handler: ast.ExceptHandler) -> bool:
    """A handler that cleans up and raises what it caught (`except BaseException: ...; raise`):
    it cannot stop a cancel, so it says nothing about a lost one (a learner trial's 14 was told
    it caught the CancelledError for such a handler in another function, when a TaskGroup had
    dropped the cancel). Its last statement is `raise` (or `raise <its name>`), and nothing in it
    leaves the handler another way (return, break, continue: nested functions not counted)."""
    last = handler.body[-1] if handler.body else None
    if not isinstance(last, ast.Raise):
        return False
    bound = handler.name
    if last.exc is not None and not (isinstance(last.exc, ast.Name) and last.exc.id == bound):
        return False
    pending = list(handler.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Return, ast.Break, ast.Continue)):
            return False
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))
    return True


def _with(message: str, advice: str) -> str:
    return f"{message} {advice}" if advice else message


def _counted(labels: Sequence[str]) -> str:
    """The labels in their order, a repeated one once: "worker() (3 of them), producer()"."""
    counts = Counter(labels)
    return ", ".join(
        label if counts[label] == 1 else f"{label} ({counts[label]} of them)" for label in counts
    )
