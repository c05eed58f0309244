"""Calls that end together in rounds, and the code's own timers held back until the next round fills.

A docstring that says "when a call finishes, the next one starts right away" (15's semaphore, 22's
crawl: `limit` requests whenever that many pages wait) is kept by code that starts a waiting call
within a few turns of the loop, with no timer of its own in between. A bound on how long a slot
may stand empty needs room for a busy machine (tens of ms), and a slot kept a little after its
call (a pause inside `async with semaphore:` after the call, a release put off with
`loop.call_later`: a learner trial's 20 ms) fits in that room. So the test takes the time out of
it: the calls end in rounds of `limit` (each held until its round has come, then let go at one
moment), and from then until the next round has come, every timer the code has pending is held
back, again and again (WakeWatch.hold_back_own_timers, on the code's loop: in judge mode the
sandbox's). Code that refills waits on none of them and fills the round in milliseconds; code
that waits on a timer of its own before the next call never fills it, and the round gives up
after `refill_wait` s, naming the timers it held. Code that keeps the slot by a spin on the clock
(`await asyncio.sleep(0)` in a loop, a `call_soon` chain) has no timer to hold: it fills the round
late, and its wake-ups meanwhile show it (`spun`: hundreds, where code that refills has a few).

    rounds = RefillRounds(wakes, limit, total=len(ids), refill_wait=0.2)
    async def fetch(item_id):
        await rounds.through()        # held until its round has come
        return item_for(item_id)
    ...
    await rounds.settle()            # every timer of the code's let go
    if rounds.short: ...             # (in the round, not yet come, ended together), rounds.held_back
    spin = rounds.spun(check)        # once the watch has ended: a task that woke SPIN_WAKES times
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kata.testing import clock, margins
from kata.testing.limits import Limit
from kata.testing.waiting import who_woke

# Seconds between two holds while a round fills: a timer the code sets in between is held at the
# next (a pause shorter than this is within the exact-time rules' room anyway).
HOLD_EVERY = 0.002
# What a hold the sandbox did not answer leaves the test blind to (margins.unanswered).
UNSEEN = "whether your code waits for what it is waiting for, or for a timer of its own"
# Wake-ups of one task (or callback) of the code's between a round's end and the next round's
# filling that make a spin: code that refills wakes a few times per slot (its call returns, the
# slot is released, a waiter takes it and calls); code that keeps the slot until its clock says
# more (`while loop.time() < until: await asyncio.sleep(0)`, a `call_soon` chain) has no timer to
# hold back and wakes once per turn of the loop, hundreds of times in a few ms.
SPIN_WAKES = 40


class RefillRounds:
    """Rounds of `limit` calls (of `total` in all) that each wait until their round has come and
    then end together; between the end of one and the filling of the next, the code's own timers
    are held back. A round that has not filled `refill_wait` s after the one before it ended (or,
    the first, after its first call) gives up: `short` says what was seen, and from then on every
    call goes through at once."""

    def __init__(
        self, wakes: Any, limit: int, total: int, refill_wait: float, given_limit: float | None = None
    ) -> None:
        """`given_limit`: a time limit the docstring gives each call (22's `timeout`): its timers,
        pending for calls in flight, are held too, but a message names another first."""
        self.wakes, self.limit, self.total, self.refill_wait = wakes, limit, total, refill_wait
        self.given_limit = given_limit
        self.arrived = 0  # calls so far
        self.in_round = 0  # calls of the round now filling, each held
        self.ended_together = 0  # calls the last round let end at one moment
        self.short: tuple[int, int, int] | None = None  # (in the round, not yet come, ended together)
        self.longest_fill = 0.0
        self.held_back: list[Limit] = []  # the code's timers held back while the round now filling did
        self._gate = asyncio.Event()
        self._filled = asyncio.Event()
        self._round_began: float | None = None
        self._give_up: asyncio.TimerHandle | None = None
        self._holds: list[asyncio.Task] = []
        # (since, until), kata clock: from each round's end until the next had filled (or gave up).
        self.gaps: list[tuple[float, float]] = []
        self._gap_began: float | None = None
        # A hold the sandbox did not answer in time (hold_own_timers_until): the rounds were blind.
        self.blind: AssertionError | None = None

    async def through(self) -> None:
        """A call has come: wait until its round has (or has given up)."""
        self.arrived += 1
        if self.short is not None:
            return
        self.in_round += 1
        gate = self._gate
        if self.in_round >= self.limit or self.arrived >= self.total:
            self._end_round()
        elif self._give_up is None:  # the first round: counted from its first call
            self._start_the_clock()
        await gate.wait()

    def _start_the_clock(self) -> None:
        self._round_began = clock.perf_counter()
        self._give_up = asyncio.get_running_loop().call_later(self.refill_wait, self._gave_up)

    def _end_round(self) -> None:
        self._gap_ended()
        if self._give_up is not None:
            self._give_up.cancel()
            self._give_up = None
            if self._round_began is not None:
                self.longest_fill = max(self.longest_fill, clock.perf_counter() - self._round_began)
        self.ended_together, self.in_round = self.in_round, 0
        self._gate.set()
        self._gate = asyncio.Event()
        self._filled.set()
        if self.arrived < self.total:
            self._start_the_clock()
            self._gap_began = self._round_began
            self._filled = asyncio.Event()
            self.held_back = []
            # Every timer the code has pending is held (its turns given first: what it does as
            # the calls end), again and again, until the next round has filled; then let go.
            holding = hold_own_timers_until(self.wakes, self._filled, self.held_back)
            self._holds.append(asyncio.ensure_future(holding))

    def _gap_ended(self) -> None:
        if self._gap_began is not None:
            self.gaps.append((self._gap_began, clock.perf_counter()))
            self._gap_began = None

    def _gave_up(self) -> None:
        self._gap_ended()
        self._give_up = None
        self.longest_fill = self.refill_wait
        self.short = (self.in_round, self.total - self.arrived, self.ended_together)
        self._gate.set()
        self._filled.set()

    def fell_short(self, filled: str, refilled: str) -> tuple[int, int, int] | None:
        """`short` (in the round, not yet come, ended together) if a round did not fill, with fewer
        calls than `limit` in it: a shortfall a busy machine can cause, a failure on time (margins'
        check `refilled`); else None, the slowest round's time to fill noted against `refill_wait`
        (margins' check `filled`)."""
        if self.blind is not None:
            raise self.blind
        if self.short is None:
            margins.record(filled, self.longest_fill, self.refill_wait)
            return None
        return self.short if margins.short_of(self.short[0], self.limit, refilled) else None

    def spun(self, check: str) -> tuple[Any, list[float], float] | None:
        """The task or callback of the code's that woke most often in one gap between a round's end
        and the next round's filling, its wake-ups there and that gap's length, if SPIN_WAKES or
        more (margins' check `check`): a spin that kept a slot with no timer to hold back. Asked
        once the WakeWatch has ended (judge mode: its report has come)."""
        seen = self.wakes.with_callbacks()
        most = None
        for since, until in self.gaps:
            busiest = seen.busiest(since, until)
            if busiest is not None and (most is None or len(busiest[1]) > len(most[1])):
                most = (*busiest, until - since)
        count = len(most[1]) if most is not None else 0
        return most if margins.over(count, SPIN_WAKES, check, unit="wake-ups") else None

    @property
    def held_said(self) -> str:
        """What a message says of the timers held back, once some were: `the timer your code had
        then set (asyncio.sleep(0.01) at 15_semaphore.py:24, in one)`."""
        timers = "the timer" if len(self.held_back) == 1 else f"the {len(self.held_back)} timers"
        return f"{timers} your code had then set ({self.culprit.where()})"  # type: ignore[union-attr]

    @property
    def culprit(self) -> Limit | None:
        """The held timer a message names: one that is not the time limit given to each call
        (a request's own `asyncio.timeout(timeout)`, pending while it ran, named first misled a
        trial's learner), else the first held."""
        own = [t for t in self.held_back if self.given_limit is None or not t.given(self.given_limit)]
        return (own or self.held_back or [None])[0]

    async def settle(self) -> None:
        """Stop holding, and let every timer of the code's go (at the end of the test)."""
        self._filled.set()
        if self._give_up is not None:
            self._give_up.cancel()
            self._give_up = None
        held = await asyncio.gather(*self._holds, return_exceptions=True)
        self.blind = next((error for error in held if isinstance(error, AssertionError)), None)
        await self.wakes.let_timers_go()


async def hold_own_timers_until(
    wakes: Any, came: asyncio.Event, held: list[Limit], since: float | None = None, let_go: bool = True
) -> None:
    """Hold back every timer the code has pending (its turns given first), again every HOLD_EVERY
    s, until `came` is set; then let them all go (unless `let_go` is False: a probe holding some of
    them still, kata.testing.own_timers, lets them go itself). Each timer held (set at or after
    `since`, kata clock, where given) is added to `held` once: what kept the code from going on, if
    it did not. `wakes`: a WakeWatch of the learner's file (in judge mode the holds are the sandbox's).

    A hold the sandbox did not answer in time (a machine far too busy) may have held nothing: the
    test cannot pass without it, so this raises margins.unanswered's failure on time."""
    try:
        while not came.is_set():
            asked = clock.perf_counter()
            try:
                timers = await wakes.hold_back_own_timers(True)
            except TimeoutError:
                waited = clock.perf_counter() - asked
                raise margins.unanswered(waited, UNSEEN, "the sandbox holds the code's timers") from None
            for timer in timers:
                if came.is_set():
                    break
                new = since is None or timer.at >= since
                if new and all(_key(timer) != _key(seen) for seen in held):
                    held.append(timer)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(came.wait(), HOLD_EVERY)
    finally:
        if let_go:
            await wakes.let_timers_go()


def _key(timer: Limit) -> tuple:
    """One timer, whichever hold reported it (in judge mode each report is a copy)."""
    return (timer.how, timer.file, timer.line, timer.task, timer.at)


def spun_said(spin: tuple[Any, list[float], float], named: dict, served: str) -> str:
    """RefillRounds.spun's finding in a message's words: `the task running guarded() that your code
    started woke up 612 times in the 21 ms before the next calls had started, with no timer ...`.
    `named` maps the test's tasks to the learner's function each runs; `served` names the function
    the test called (judge mode: a task the sandbox ran for it)."""
    woken, moments, gap = spin
    return (
        f"{who_woke(woken, [woken], named, served)} woke up {len(moments)} times in the {gap * 1000:.0f} ms "
        "before the next calls had started, with no timer of its own to wait on (a loop of "
        "`await asyncio.sleep(0)`, or a chain of `loop.call_soon`, until the clock says more)"
    )
