"""Timers of the learner's own, judged by what they do while the calls run, not by being there.

A docstring that gives no time limit asks for every result, however long the calls take, and code
that awaits its calls needs no timer meanwhile. But a timer pending there is no mistake in itself:
a progress log (`asyncio.wait(pending, timeout=1)` in a loop that logs), a watchdog task that warns
after 5 s and is cancelled at the end, a `loop.call_later(5, log.warning, ...)`. Two mistakes keep
one too, and no test may wait long enough to see them: a time limit of its own (`wait_for(call,
5)`: it gives up on calls slower than that) and a poll with a long period (it learns that the calls
have ended only at its next check). So the test makes the code's timers show what they are for.

Each call is held at its end (FakeService.hold). As the first call gets there, every call still
running, the test makes every timer the learner's code has pending run out now, as it would on
calls slower than it (WakeWatch.probe_own_timers): a limit gives up (the code raises TimeoutError,
cancels its calls, or returns without their results); a log logs, a watchdog warns, a poll checks
and sleeps again. A few loop turns later every timer the code has pending is held back, and the
calls end: code that waits for them returns at once, and a poll, whose next check is held back,
does not return at all (the test waits GRACE s, then says so). A poll from a thread of the code's
own (a thread that checks with time.sleep, Event.wait(timeout), a threading.Timer chain) keeps no
loop timer: its timed waits are held back with the loop's (kata.testing.sleep_watch.ThreadTimers),
so it does not notice either; what a thread waits for coming still wakes it (a heartbeat thread
stopped by an Event, a wait for the calls with a time limit).

    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "fetch_all", fetch_user) as timers:
            task = asyncio.create_task(ex.fetch_all(fetch_user, ids))
            result = await timers.awaited(task, expected, fix="Await them instead: ...")
    assert_slept_while_the_calls_ran(wakes, fetch_user.calls, ..., probe=timers)

In judge mode the sandbox does it on its own loop, and says which timers it moved: the learner's
process's word, which can only fail a test (a host that says it had none is judged by the result).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kata.testing import clock, margins
from kata.testing.fakes import FakeService, Instrumented
from kata.testing.limits import Limit
from kata.testing.services import joined
from kata.testing.waiting import PROBE_TURNS, QUIET_BEFORE

if TYPE_CHECKING:  # aiohttp's server is loaded by the tests that use it, not by this module
    from kata.testing.server import Reply, ReplyFunction

# Seconds a test waits, once every call has ended, for code whose timers it holds back: code that
# waits for its calls returns within a few loop turns; a poll never does.
GRACE = 3.0
# Seconds a held call in a worker thread waits for the probe at most (it never takes that long).
THREAD_WAIT = 10.0
# Plain code (its loops its own), and the tests of stopping (kata.testing.cancelling.HeldStop): the
# timers held back go again LET_GO s later by themselves (more than HOLD_AFTER, with room), and
# plain code that goes on POLL_SEEN s or more after its calls have ended waited for one of them.
LET_GO = 1.0
POLL_SEEN = 0.5
# Rounds of the probe in one test at most (each call that ends once a round is over starts one).
MAX_ROUNDS = 64
_NOTHING = object()


def _timed_out(error: BaseException) -> bool:
    """Whether `error` is a TimeoutError or a CancelledError (what a timer that cancels the work
    makes), or a group with one inside."""
    if isinstance(error, TimeoutError | asyncio.CancelledError):
        return True
    inner = getattr(error, "exceptions", None)
    return isinstance(inner, tuple) and any(_timed_out(e) for e in inner if isinstance(e, BaseException))


@dataclasses.dataclass
class _Round:
    """One round of the probe: done when `over` is; whether it made timers of the code's run out
    (known once the sandbox or the loop has said), how many held calls the code cancelled while it
    held them, and how many it holds now.

    A cancel counts only once the round has made the code's timers run out: one made before is
    the code's answer to what it already had (14's first_success, cancelling the slower calls once
    one had worked, then waiting with a timer, was taken under load, in judge mode, for giving up
    at that timer: the slower calls had begun the round before the cancels reached the judge).
    In judge mode a round trip to the sandbox (`fence`) comes first: messages keep their order,
    so every cancel sent before the round began has been read by then."""

    over: asyncio.Future
    ran_out: bool = False
    cancels: int = 0
    counting: bool = False  # whether a cancel now is counted: once the round's timers ran out
    holding: int = 0  # the calls it holds now
    # Until the loop's next turn: calls that get here now end with the one that began it. They
    # ended at the same moment (a test's hold let them go together), and the code has not run
    # since: this round probes the timers it has for them all.
    joinable: bool = True


class _Gate:
    """What a held call waits on (FakeService.hold): an earlier hold's event first, then the probe."""

    def __init__(self, probe: OwnTimersProbe, earlier: Any) -> None:
        self.probe, self.earlier = probe, earlier

    async def wait(self) -> None:
        if self.earlier is not None:
            await self.earlier.wait()
        await self.probe.reached_the_end(a_call=True)

    def wait_in_thread(self) -> None:
        """For a blocking fake (kata.testing.cpu_work.BlockingService) in a worker thread."""
        if self.earlier is not None:
            self.earlier.wait_in_thread()
        self.probe.reached_the_end_in_thread()


class OwnTimersProbe:
    """`with`: holds each call to `services` at its end until the probe of the learner's pending
    timers is done (see module doc); `awaited(task)` judges what the code then did."""

    def __init__(
        self,
        wakes: Any,
        function: str,
        *services: Instrumented,
        named: str | None = None,
        waiting_for: tuple[str, str, str] | None = None,
        given_limit: float | None = None,
        given_pauses: bool = False,
    ) -> None:
        """`services`: those whose calls it holds (a FakeService's, a LoopbackServer's through
        `reply_after`, or any fake that awaits `reached_the_end()` as each call ends), named in
        messages by their names, or as `named` says ("the pool"). `waiting_for`, for code that
        waits for something else the test holds back, and then runs `reached_the_end()` itself:
        what the messages call it, while it was held, and once it came (("go", "while go was still
        unset", "go was set")). `given_limit`: the time limit the docstring gives, in s (a timer of
        no longer, not a sleep, is that limit: the probe leaves it alone); with `given_pauses`, a
        sleep of no longer too (a rule made of sleeps: 21's rate limiter)."""
        self.wakes, self.function, self.services, self.named = wakes, function, services, named
        self.waiting_for, self.given_limit, self.given_pauses = waiting_for, given_limit, given_pauses
        self.released: float | None = None  # kata clock: the calls were let end
        self.ran_out: list[Limit] = []
        self.held_back: list[Limit] = []
        self.let_go_after: float | None = None  # plain code: the timers held back go by themselves
        self.round_starts: list[
            float
        ] = []  # kata clock: when each round began (a watched stretch ends there)
        self.held_for = 0.0  # how long its rounds kept the calls from ending: not the code's time
        self._no_more_rounds = False
        self.unanswered: list[float] = []  # rounds the sandbox did not answer in time: how long they waited
        self._ran_out_at_a_call = self._held_at_a_call = True  # which words the messages use
        self._rounds: list[_Round] = []
        self._probe: asyncio.Future | None = None
        self._earlier: list[Any] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0

    def __enter__(self) -> OwnTimersProbe:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # a plain test: each round runs on the loop of the call that starts it
            self._loop, self.let_go_after = None, LET_GO
        self._loop_thread = threading.get_ident()
        for service in self._fakes():
            earlier = service.hold
            self._earlier.append(earlier)
            service.hold = self._holding(earlier)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for service, earlier in zip(self._fakes(), self._earlier, strict=True):
            service.hold = earlier

    def _fakes(self) -> list[FakeService]:
        """The services whose calls this holds itself; a LoopbackServer's replies are held by
        `reply_after`."""
        return [service for service in self.services if isinstance(service, FakeService)]

    def reply_after(self, delay: float, reply: Reply) -> ReplyFunction:
        """A reply for LoopbackServer.serve: `reply`, `delay` s after the request came, once the
        probe is done."""

        async def held(request: Any) -> Reply:
            request.delay = delay  # the latency it gave (LoopbackServer.delay_for)
            await asyncio.sleep(delay)
            await self.reached_the_end(a_call=True)
            return reply

        return held

    def pieces_held(self, reply: Reply) -> Reply:
        """`reply` (a streamed one, for LoopbackServer.serve), each piece after the first sent once
        the probe is done: code that waits for the next piece is judged by its timers meanwhile."""
        return dataclasses.replace(reply, before_piece=self.reached_the_end)

    def watched_until(self, until: float, since: float | None = None) -> float:
        """`until`, the end of a stretch a test watches the code's wakes in, or sooner: where the
        first round of the probe after `since` began (the wakes it made are the test's doing)."""
        rounds = [began for began in self.round_starts if since is None or began > since]
        return min(until, min(rounds) - QUIET_BEFORE) if rounds else until

    def _holding(self, earlier: Any):
        def hold(call: Any) -> _Gate:
            return _Gate(self, earlier(call) if earlier is not None else None)

        return hold

    async def reached_the_end(self, a_call: bool | None = None) -> None:
        """A call is done but for the probe: the first one to get here starts a round of it, and
        each waits for that round. A call that gets here once a round is over starts the next
        (a pool's acquire, then its release: the code's timers at each). A round runs in a task
        of its own: a limit that runs out cancels the calls it cuts short, and the round must go
        on to say so. `a_call`: whether a call of the services started the round (the messages
        say so), or what `waiting_for` names; by default, the latter when there is one.

        A call that got here while a round another began was on is held for one more round,
        begun once that one is over and the code has had its turns: what the code does as the
        round lets the other calls end (a time limit it sets on this call once another has
        ended) was not there to probe. On a busy machine a round can take longer than the gap
        between two calls (03's save_order, its limit set on the audit once save had returned,
        passed so in judge mode under load). One that gets here in the loop turn the round began
        in ended at the same moment as the call that began it, and the code has not run since:
        it ends with that call, after this round alone. Calls a test lets end together so end
        together (14's failed-calls test: held one round more, one of its ten ended alone, and
        code that returns at the first success in a done set passed when it was the winner)."""
        if self._round is not None and self._round.get_loop() is not asyncio.get_running_loop():
            return  # a call on another loop (code that spreads its calls over loops): not held
        began_it = self._round is None or self._round.done()
        if began_it and not self._begin_round(a_call):
            return
        joined_it = not began_it and self._rounds[-1].joinable
        await self._held_through(self._rounds[-1])
        if began_it or joined_it:
            return
        for _ in range(PROBE_TURNS):  # the calls that round let go end first, and the code runs
            await asyncio.sleep(0)
        if (self._round is None or self._round.done()) and not self._begin_round(a_call):
            return
        await self._held_through(self._rounds[-1])

    def _begin_round(self, a_call: bool | None) -> bool:
        """Start a round of the probe, unless there may be no more: whether it did."""
        if self._no_more_rounds or len(self.round_starts) >= MAX_ROUNDS:
            return False
        now = clock.perf_counter()
        self.round_starts.append(now)
        loop = asyncio.get_running_loop()
        this_round = _Round(loop.create_future())
        self._rounds.append(this_round)
        loop.call_soon(setattr, this_round, "joinable", False)
        of_a_call = self.waiting_for is None if a_call is None else a_call
        self._probe = asyncio.ensure_future(self._probe_timers(self._rounds[-1], now, of_a_call))
        return True

    @property
    def _round(self) -> asyncio.Future | None:
        """The round now, or the last one (its future)."""
        return self._rounds[-1].over if self._rounds else None

    @staticmethod
    async def _held_through(this_round: _Round) -> None:
        this_round.holding += 1
        try:
            await asyncio.shield(this_round.over)
        except asyncio.CancelledError:
            if not this_round.over.done() and this_round.counting:  # the code cancelled a held call
                this_round.cancels += 1
            raise
        finally:
            this_round.holding -= 1

    @property
    def cut_short(self) -> int:
        """Calls the code cancelled while the test held them, in a round that made timers of its
        run out (a cancel in a round where none did is the code's answer to what an earlier
        round let end: 14's first_success, cancelling the slower calls once one had worked,
        was taken under load for giving up at the heartbeat's timer the round before)."""
        return sum(r.cancels for r in self._rounds if r.ran_out)

    def reached_the_end_in_thread(self) -> None:
        """`reached_the_end` from a thread other than the test loop's (a blocking call made on the
        loop itself is not held: it keeps the loop from running the probe, and fails elsewhere)."""
        if self._loop is None or threading.get_ident() == self._loop_thread or self._loop.is_closed():
            return
        ended = asyncio.run_coroutine_threadsafe(self.reached_the_end(a_call=True), self._loop)
        with contextlib.suppress(Exception):
            ended.result(THREAD_WAIT)

    async def _probe_timers(self, this_round: _Round, began: float, of_a_call: bool) -> None:
        try:
            fence = getattr(self.wakes, "fence", None)
            if fence is not None:
                await fence()

            # Cancels count from the moment the timers are moved, not from this await's return a
            # few loop turns later: in judge mode the sandbox's answer and the code's cancel that
            # followed it could reach this loop together, and the cancel was seen first (19's
            # limit per try passed so, idle: its cut-off try was never counted). Queued on this
            # loop as the answer is handed over: a cancel handed over before it (sent before the
            # timers ran out) lands in a held call first, uncounted; one handed over after, counted.
            loop = asyncio.get_running_loop()

            def counting() -> None:
                with contextlib.suppress(RuntimeError):  # the loop is closed: nothing is counted
                    loop.call_soon_threadsafe(setattr, this_round, "counting", True)

            ran_out = await self.wakes.run_out_own_timers(self.given_limit, self.given_pauses, counting)
            this_round.counting = True  # the code's answers to its timers run out come after
            if ran_out and not self.ran_out:
                self._ran_out_at_a_call = of_a_call
            self.ran_out += ran_out  # known at once: plain code that gives up ends its loop's turns
            this_round.ran_out = bool(ran_out)
            turns, given = bool(ran_out), (self.given_limit, self.given_pauses)
            self.held_back = await self.wakes.hold_back_own_timers(turns, self.let_go_after, *given)
            self._held_at_a_call = of_a_call
        except TimeoutError:  # judge mode: the sandbox did not answer in time (see _saw_every_round)
            self.unanswered.append(clock.perf_counter() - began)
        finally:
            self.released = clock.perf_counter()
            self.held_for += self.released - began
            if not this_round.over.done():
                this_round.over.set_result(None)

    async def awaited(
        self,
        task: asyncio.Task,
        expected: Any = _NOTHING,
        *,
        fix: str,
        complete: Callable[[Any], bool] | None = None,
    ) -> Any:
        """The result of the learner's `task` (their call of `self.function`), failing it if it
        gave up on its calls once its timers ran out (a limit of its own), or did not return once
        they had ended while its timers were held back (a poll; `fix` says what to do instead).

        Giving up, once its timers ran out: it raised TimeoutError, cancelled a call the test was
        holding, ended while the calls were held, or returned a result other than `expected` (or
        one `complete` says is not). Any other error is the code's own, and goes up as it is."""
        try:
            while not task.done():
                await asyncio.wait([task], timeout=GRACE / 6)
                if not task.done() and self._polling():
                    # Its timers go again and it ends as it would have, late (nothing of it is lost
                    # for the test's doing); if not soon, it is cancelled.
                    self._no_more_rounds = True
                    await self.wakes.let_timers_go()
                    await asyncio.wait([task], timeout=GRACE)
                    if not task.done():
                        task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
                    raise AssertionError(self._polled(fix)) from None
            on = self._rounds[-1] if self._rounds and not self._rounds[-1].over.done() else None
            if self._round is not None:  # what a round saw is known once it is over
                await asyncio.shield(self._round)
            # It ended while a round that made its timers run out still held calls: it gave up.
            ended_while_held = on is not None and on.ran_out and on.holding > 0
            try:
                result = await task
            except asyncio.CancelledError as error:
                if not task.cancelled() or not self.ran_out:  # the test's own cancel, or not of its timers
                    raise
                raise AssertionError(self._gave_up("ended cancelled")) from error
            except Exception as error:
                if self.ran_out and _timed_out(error):
                    raise AssertionError(self._gave_up(f"raised {type(error).__name__}")) from error
                if self.ran_out and (self.cut_short or ended_while_held):
                    raise AssertionError(self._gave_up(self._how_it_gave_up(ended_while_held))) from error
                raise
            if not self.ran_out:
                self._saw_every_round()
                return result
            wrong = expected is not _NOTHING and result != expected
            if self.cut_short or ended_while_held:
                raise AssertionError(self._gave_up(self._how_it_gave_up(ended_while_held)))
            if wrong or (complete is not None and not complete(result)):
                if self.held_back and self.given_limit is not None:
                    # It went on only once the limit it was given ran out, after the calls had
                    # ended: its look at them was held back (a poll, cut short by that limit).
                    late = clock.perf_counter() - self.released
                    went = f"went on only {late:.2f} s later, when the limit it was given ran out, without it"
                    raise AssertionError(self._polled(fix, went=went))
                raise AssertionError(self._gave_up("returned without the results of every call"))
            self._saw_every_round()
            return result
        finally:
            await self.wakes.let_timers_go()

    def called_plain(
        self,
        call: Callable[[], Any],
        expected: Any = _NOTHING,
        *,
        fix: str,
        complete: Callable[[Any], bool] | None = None,
    ) -> Any:
        """`awaited`, for plain code (a plain test, the code running loops of its own): what
        `call()` returns, failing it if it gave up once its timers ran out, or went on only once
        the timers held back went again by themselves (LET_GO s later: a poll)."""
        try:
            result = call()
        except (Exception, asyncio.CancelledError) as error:
            if self.ran_out and (_timed_out(error) or self.cut_short):
                raise AssertionError(self._gave_up(self._how(error))) from error
            raise
        ended = clock.perf_counter()
        if self.ran_out:
            wrong = expected is not _NOTHING and result != expected
            if self.cut_short or wrong or (complete is not None and not complete(result)):
                raise AssertionError(self._gave_up(self._how_it_gave_up(False)))
        if self.held_back and self.released is not None:
            late = ended - self.released
            if margins.over(late, POLL_SEEN, f"{self.function}: goes on < POLL_SEEN once its calls end"):
                raise AssertionError(self._polled(fix, late))
        self._saw_every_round()
        return result

    def _saw_every_round(self) -> None:
        """Before a pass: every round saw the code's timers. A round whose question the sandbox
        did not answer in time (judge mode, a machine far too busy) saw nothing, and a limit of
        the code's own would have gone unseen: a failure on time, never a pass (it gets a second
        run where the machine is busy)."""
        if not self.unanswered:
            return
        what = f"what {self.function} does when its calls take long"
        raise margins.unanswered(
            max(self.unanswered), what, f"{self.function}: the sandbox answers the timers probe"
        )

    def _how(self, error: BaseException) -> str:
        return f"raised {type(error).__name__}" if _timed_out(error) else self._how_it_gave_up(False)

    def _polling(self) -> bool:
        """Whether the code has waited GRACE s since the calls were let end, its timers held back."""
        over = self._round is not None and self._round.done() and self.released is not None
        return over and bool(self.held_back) and clock.perf_counter() - self.released >= GRACE

    def _how_it_gave_up(self, ended_while_held: bool) -> str:
        if self.cut_short:
            calls = sum(len(getattr(s, "calls", ())) for s in self.services)
            of = f" of its {calls}" if calls else ""
            return f"cancelled {self.cut_short}{of} calls"
        return "ended while they were still running"

    def _names(self) -> str:
        return self.named or joined(list(dict.fromkeys(s.name for s in self.services)))

    def _gave_up(self, how: str) -> str:
        first = self.ran_out[0]
        timers = "the timer" if len(self.ran_out) == 1 else f"the {len(self.ran_out)} timers"
        it = "it" if len(self.ran_out) == 1 else "they"
        if self.waiting_for is not None and not self._ran_out_at_a_call:
            what, held, _ = self.waiting_for
            slower = f"{what} coming later"
        else:
            what, held = f"its calls to {self._names()}", "while they were still running"
            slower = "calls slower"
        return (
            f"{self.function} gave up on {what}: {held}, this test made {timers} your code had set run out "
            f"early ({first.where()}), as {it} would on {slower} than that, and {self.function} then {how}. "
            f"{self._limits_allowed()} (a timer that only logs or warns is fine)."
        )

    def _limits_allowed(self) -> str:
        if self.given_limit is None:
            return "The docstring gives no time limit: wait however long it takes. Keep no limit of your own"
        return (
            "The only time limit the docstring gives is the one your code is passed (here "
            f"{self.given_limit:g} s): keep no other of your own"
        )

    def _polled(self, fix: str, late: float | None = None, went: str | None = None) -> str:
        first = self.held_back[0]
        if went is None:
            went = (
                f"had not gone on {GRACE:g} s later, while this test held that timer back"
                if late is None
                else f"went on only {late:.2f} s later, once this test let that timer go again"
            )
        if self.waiting_for is not None and not self._held_at_a_call:
            came = self.waiting_for[2]
        else:
            came = f"the calls to {self._names()} that {self.function} was waiting for had ended"
        return (
            f"{came}, and {self.function} did not notice: it was waiting on a timer of its own "
            f"({first.where()}), and {went}. Code that checks and sleeps in between learns that what it "
            f"waits for has come only at its next check, however short or long its period. {fix}"
        )
