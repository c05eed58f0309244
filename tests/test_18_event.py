"""Exercise 18: tasks wait for a signal with Event.wait and Condition.wait_for: idle, and waking at once.

Waiting badly comes in three kinds, and each is caught here without hanging the run:
- polling (check, sleep a little, check again). Tasks 1 and 2: the events handed in are
  the test's `WatchedEvent`s, which log every look the learner's code takes at them
  (`is_set()`, `wait()`) while they stay unset. Waiting code looks once and then sleeps in
  `wait()`; polling code looks again once per period, however short or long. That log is
  the test's own, in one process and in judge mode alike (there every look is a call the
  judge receives). While go is unset, task 1 also sees the timer a poll keeps pending, whatever
  its period (kata.testing.limits). Task 3's Progress is the learner's own: its waiters are watched
  (kata.testing.waiting.WakeWatch; in judge mode the sandbox watches its own loop, and
  that report can only fail the test). Late reactions are measured too, on the test's clock.
- spinning on `is_set()`: a `WatchedEvent` notices a loop asking it over and over (or
  asking while the event loop is frozen) and raises;
- a loop with no `await` at all: FrozenLoopBreaker raises inside it once the event loop
  has had no turn for 0.3 s (kata.testing.waiting.FREEZE).
The learner's Progress is used only through its interface: `Progress()`, `advance`,
`wait_until` and reading `done`.
"""

import asyncio
import collections
import itertools

import pytest

from kata.testing import (
    FakeService,
    assert_call_count,
    assert_ran_together,
    assert_same,
    clock,
    describe,
    holds,
    margins,
    pause_unless_failed,
    stopwatch,
)
from kata.testing.cancelling import (
    STOPPING,
    LeftRunning,
    Run,
    assert_ended_cancelled,
    cancelled_again_advice,
    left_running,
    left_running_message,
    stop_calls,
)
from kata.testing.caps import (
    MANY_CALLS_STALL_LIMIT,
    assert_no_cap_of_its_own,
    held_until_all_in_flight,
    more_than_any_cap,
)
from kata.testing.checks import Stopwatch
from kata.testing.clock import EARLY_WAKE
from kata.testing.hang_guard import hang_guard
from kata.testing.letting_run import let_the_code_run
from kata.testing.limits import alive_between, assert_each_wait_exact, assert_no_time_added
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.refill import hold_own_timers_until
from kata.testing.waiting import (
    WOKEN,
    FrozenLoopBreaker,
    assert_loop_ran,
    assert_no_thread_at_work,
    assert_slept,
    every,
    who_woke,
)

# Task 1
DELAY = 0.2  # one runner's run
HOLD = (0.1, 0.15)  # how long the test keeps `go` unset: random, so no poll period lines up with it
# Where wake-ups are counted: a poll every 0.2 s or less wakes at least twice in it; a
# longer one is late by more than LATE after one of the shorter, random holds, unless the test sets
# go late (0.15 + LATE is 0.2): every poll's timer is seen pending (assert_no_timer_while_go_is_unset).
LONG_HOLD = (0.4, 0.5)
# A run in the test that cancels start_together while its runs run: far longer than that test waits.
CANCELLED_RUN = 1.5
# Task 2
JOB = 0.02
# The jobs of the test of the pause: long enough that a pause counted from the job's start is short
# by far more than a timer may wake early (2 ticks, 31 ms, on Windows before Python 3.13).
PAUSED_JOB = 0.08
# Task 3
STEP = 0.04  # between two advances
STEPS = 8
QUIET = (0.4, 0.5)  # no advance for this long: a poll every 0.2 s or less wakes a waiter at least twice
GRACE = 0.25  # how long waiters still get after the last advance
AT_ONCE = 0.2  # how long a wait_until whose target is already reached may take (one call: milliseconds)
# How long a run may take before the test stops waiting for it (a hang guard): correct code takes
# 0.16 s at most.
HANG = 1
# Scheduling noise on a loaded machine stays far below these (FIELD-NOTES: ~30 ms worst).
LATE = 0.05
# From go on, the code's own timers are held back until every call has started, for this long at
# most (TimersAfterGo): correct code starts them all within milliseconds.
GO_START_WAIT = 0.3
# A pause between two jobs spans two crossings in judge mode (the job's end reaches the learner's
# process, the next job's start comes back), each late on a busy machine: 38 ms in all under a
# loaded self-check (2026-12-01). A wrong pause is off by a whole interval (at least 0.14 s).
PAUSE_LATE = 0.1
EARLY = EARLY_WAKE  # asyncio may wake a sleeper a little early (kata.testing.clock)
WORDS = [
    *("ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "jo", "kim", "lu"),
    *("max", "ned", "oz", "pam", "quin", "ros", "sal", "ted", "uma", "val"),
]
# How many runners the test that they all start at once has, at random: more than a cap of the code's
# own allows (a semaphore of 10 always falls short, one of 16 often). Runs of one length cost no more.
MANY = (11, 20)

# Looks at an Event this close to each other are one moment of looking: several tasks starting
# to wait, or `is_set()` and then `wait()` (in judge mode each look is a round trip, and a busy
# machine may pause either process between two of them).
MOMENT = 0.02
SPIN_ASKS = 300  # asking is_set() this often while the event stays unset is a busy loop, however slow

SPIN_CALLS = 50  # asking this often...
SPIN_WINDOW = 0.01  # ...within this many seconds is a busy loop
FROZEN_AFTER = 0.05  # asking again while the loop has had no turn for this long: it is frozen

EVENT_SPINNING = (
    "your code asked {name}.is_set() {calls} times within {window:.2f} s: it checks the flag in a "
    "loop instead of waiting for it. A loop like that keeps the CPU busy doing nothing, and "
    "without an `await` inside it freezes the event loop, so nobody can ever set {name}. "
    "`await {name}.wait()` sleeps until {name} is set, and wakes the moment it is."
)
EVENT_FROZEN = (
    "your code kept asking {name}.is_set() for {seconds:.2f} s without letting the event loop run "
    "(a loop with no `await` in it, or with time.sleep): while the loop is frozen nobody can set "
    "{name}, so this would hang forever. `await {name}.wait()` sleeps until {name} is set."
)
FROZEN = (
    "{function} kept the event loop frozen for {seconds:.2f} s and was still going (a loop with no "
    "`await` in it, or with time.sleep): while the loop is frozen {why}, so this would hang forever. "
)
GO_FROZEN = FROZEN.replace("{why}", "nobody can set go") + "`await go.wait()` sleeps until go is set."
STOP_FROZEN = (
    FROZEN.replace("{why}", "nobody can set stop")
    + "`await asyncio.wait_for(stop.wait(), timeout=interval)` sleeps until stop is set or the pause is over."
)
COUNT_FROZEN = (
    FROZEN.replace("{why}", "advance can never run and the count can never change").replace(
        "or with time.sleep)",
        "with time.sleep, or with an `await` that never waits: `await event.wait()` on an Event that "
        "advance set and nobody cleared returns at once, every time round the loop)",
    )
    + "Wait on an asyncio.Condition: `await cond.wait_for(lambda: ...)` sleeps until advance notifies it."
)
GO_POLLED = dict(
    what="go",
    until="go is set",
    fix="`await go.wait()` sleeps until go is set, and wakes the moment it is.",
)
COUNT_POLLED = dict(
    what="the count",
    until="advance changes it",
    fix="Wait on an asyncio.Condition: `await cond.wait_for(lambda: ...)` sleeps until advance "
    "calls `notify_all()`.",
)
PAUSE_FROM_THE_START = (
    "job number {number} started {from_start:.2f} s after the one before started, so only {pause:.2f} s "
    "after it ended (the job took {job:.2f} s): your pause is counted from the job's start. The pause "
    "of `interval` runs from the end of one job to the start of the next: begin it once `await job()` "
    "has returned, and wait the whole interval."
)
# Said of a waiter never woken, whatever it waits on: a Condition, an Event, or futures.
NOT_WOKEN = (
    "Wake every task that waits, however many wait for the same target: with an asyncio.Condition, "
    "call `notify_all()` (`notify()` wakes only one task); with futures or Events, keep one for each "
    "waiting task (kept in a dict by target, the second task waiting for a target replaces the "
    "first one's, and the first is never woken)."
)
JUMPED_OVER = (
    "wait_until({target}) never returned: advance took the count from {before} to {reached} in one "
    "step, past {target} without ever being {target} ({end} in the end), while the waiters whose "
    "target the count hit exactly did return. A target is reached once the count is at least the "
    "target (`>=`), not only when it equals it: advance(count) may jump past it."
)
WOKEN_LATE = (
    "Wake the waiting tasks the moment the count changes, all of them: sleeping between checks of "
    "the count reacts late, and so does a Condition's `notify()`, which wakes one task per change "
    "(`notify_all()` wakes them all)."
)
STOP_POLLED = dict(
    what="stop",
    until="stop is set or the pause is over",
    fix="Wait for stop with the pause as the timeout: `await asyncio.wait_for(stop.wait(), "
    "timeout=interval)` returns the moment stop is set, or raises TimeoutError when the pause is over.",
)


class BusyWatch:
    """Notices code asking the same question in a loop, and raises instead of letting it spin.

    Waiting the right way (Event.wait) never asks. A loop asks thousands of times a second;
    one without an `await` also freezes the event loop, and the answer can then never
    change: rather than let the test hang, the question raises, naming the mistake.
    """

    def __init__(self, spinning, frozen, **names):
        self.spinning, self.frozen, self.names = spinning, frozen, names
        self.asked_at = collections.deque(maxlen=SPIN_CALLS)
        self.no_turn_since = None  # when a question last found the loop owing us a turn

    def asked(self, asks):
        """One more question; `asks` is every moment it was asked while the answer stayed the same."""
        now = clock.perf_counter()
        self.asked_at.append(now)
        if len(self.asked_at) == SPIN_CALLS and now - self.asked_at[0] < SPIN_WINDOW:
            raise AssertionError(self.spinning.format(calls=SPIN_CALLS, window=SPIN_WINDOW, **self.names))
        # In judge mode each question is a round trip, so a spinning loop asks less often: count them.
        if len(asks) >= SPIN_ASKS:
            raise AssertionError(self.spinning.format(calls=len(asks), window=now - asks[0], **self.names))
        if self.no_turn_since is None:
            self.no_turn_since = now
            asyncio.get_running_loop().call_soon(self._loop_had_a_turn)
        elif now - self.no_turn_since > FROZEN_AFTER:
            raise AssertionError(self.frozen.format(seconds=now - self.no_turn_since, **self.names))

    def _loop_had_a_turn(self):
        self.no_turn_since = None


class WatchedEvent(asyncio.Event):
    """An asyncio.Event that logs every look taken at it while it is unset, and notices a
    waiter asking `is_set()` in a loop.

    `asks` holds when (the test's clock) each `is_set()` was answered False; `waits`, when
    each `wait()` begun while unset began and ended (None while it waits). (`await
    event.wait()` never calls `is_set()`.) In judge mode the event stays in the judge: each
    look is a call it receives, so the log is its own.
    """

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.asks, self.waits = [], []
        self.watch = BusyWatch(EVENT_SPINNING, EVENT_FROZEN, name=name)
        self.on_look = None  # called at each look taken while it is unset (Moment.looked)

    def is_set(self):
        if super().is_set():
            return True
        self.asks.append(clock.perf_counter())
        self._looked()
        self.watch.asked(self.asks)
        return False

    async def wait(self):
        if super().is_set():
            return await super().wait()
        look = [clock.perf_counter(), None]
        self.waits.append(look)
        self._looked()
        try:
            return await super().wait()
        finally:
            look[1] = clock.perf_counter()

    def _looked(self):
        if self.on_look is not None:
            self.on_look()

    def looked_again(self, since, until):
        """How often the learner's code looked at this event again, strictly between `since` and
        `until`, after its first moment of looking; and the moments (lists of looks) it looked.

        A look is an `is_set()`, or a `wait()` that gave up before `until` (a timeout in a
        loop); a `wait()` still waiting then is sleeping, not looking. Looks less than MOMENT
        apart are one moment; a moment drawn out (looks every few ms) counts once per LATE.
        """
        ended = [start for start, end in self.waits if end is not None and end < until]
        looks = sorted(t for t in [*self.asks, *ended] if since < t < until)
        moments = []
        for look in looks:
            if moments and look - moments[-1][-1] < MOMENT:
                moments[-1].append(look)
            else:
                moments.append([look])
        drawn_out = sum(int((moment[-1] - moment[0]) / LATE) for moment in moments)
        return max(len(moments) - 1, 0) + drawn_out, moments


def looks_after_the_first(moments):
    """How many looks came after the first (several tasks looking at once count as one)."""
    if not moments:
        return 0
    first = moments[0]
    return sum(map(len, moments)) - (1 if first[-1] - first[0] >= LATE else len(first))


def frozen_loop_breaker(ex, message):
    """Raise `message` inside the learner's code if it keeps the event loop frozen."""
    return FrozenLoopBreaker(
        lambda function, seconds: message.format(function=function, seconds=seconds),
        getattr(ex, "__file__", None),
    )


LOOKED_AGAIN = (
    "{while_}, {who} looked at {name} again {count} times after its first look ({every}; each "
    "`{name}.is_set()` or `{name}.wait()` is a look): it checks {what} again and again (a sleep or a "
    "timeout in a loop) instead of sleeping until {until}. Each check costs CPU for nothing, and "
    "between checks it reacts late. {fix}"
)


def apart(moments):
    """The gaps between moments of looking, or between the looks of a drawn-out one."""
    if any(moment[-1] - moment[0] >= LATE for moment in moments):
        return [b - a for moment in moments for a, b in itertools.pairwise(moment)]
    return [later[0] - earlier[0] for earlier, later in itertools.pairwise(moments)]


def assert_looked_once(event, since, until, who, while_, words, check):
    """Fail if the learner's code looked at `event` again WOKEN times or more between `since` and `until`.

    Waiting code looks once (several tasks starting to wait look at about the same moment)
    and then sleeps in `wait()` until the event is set; polling code looks once per period.
    """
    again, moments = event.looked_again(since, until)
    if margins.over(again, WOKEN, check, unit="looks"):
        raise AssertionError(
            LOOKED_AGAIN.format(
                while_=while_,
                who=who,
                name=event.name,
                count=looks_after_the_first(moments),
                every=every(apart(moments)),
                **words,
            )
        )


def new_names(rng, count):
    return rng.sample(WORDS, count)


def runner_service(rng, names, delay=DELAY):
    """A fake `run(name)` answering with a value made for this test; and those values, by name."""
    answers = {name: f"{name} {rng.randrange(100)} s" for name in names}
    return FakeService("run", delay=delay, reply=answers.__getitem__), answers


def assert_started_at_once(call, lag):
    # A poll on go.is_set() has failed already (start_and_signal watches the wait): what is left is a
    # pause of the code's own after go, calls started one after another, or a busy machine (a learner
    # trial's reference copy, at a load of 7-10 in judge mode, was told it polled).
    if margins.over(lag, LATE, "18 start_on_go: each call starts < LATE after go is set"):
        raise AssertionError(
            f"{call.label('run')} started {lag:.2f} s after go was set; every call should start the "
            "moment it is set: `await go.wait()` wakes your code at once, and every call should start "
            "then, all together, with no pause of your own in between."
        )


def assert_go_left_set(go):
    """start_together only waits on go: it is still set when start_together returns."""
    if not asyncio.Event.is_set(go):
        raise AssertionError(
            "go was set, and once start_together returned it was unset again: start_together cleared it "
            "(`go.clear()`). go is the caller's signal, and start_together only waits on it: other tasks "
            "waiting on it, or looking at it later, would miss it. Leave it as you found it: `await "
            "go.wait()` and nothing else."
        )


async def start_and_signal(ex, wake_watch, run, names, go, hold):
    """Start start_together, set `go` `hold` s later; return its result and a stopwatch started at go.

    Fails when a call started before go was set, when start_together kept waking up
    while go was unset, or kept a timer of its own pending then, or when the first call
    started late.
    """
    # Its own timers are judged by what they do (kata.testing.own_timers): just before go is set
    # they run out, as they would if go came later than them (a time limit gives up), and those
    # pending then are held back (a poll never sees go set); a timer that only logs is fine.
    waiting_for = ("go", "while go was still unset", "go was set")
    async with wake_watch(ex) as wakes:
        with (
            frozen_loop_breaker(ex, GO_FROZEN),
            OwnTimersProbe(wakes, "start_together", run, waiting_for=waiting_for) as timers,
        ):
            task = asyncio.create_task(ex.start_together(run, names, go), name="start_together")
            created = clock.perf_counter()
            await pause_unless_failed(hold, task)
            early = list(run.calls)
            await timers.reached_the_end()
            with stopwatch() as since_go:
                go.set()
                after_go = TimersAfterGo(wakes, run, len(names), since_go.started)
                try:
                    result = await timers.awaited(
                        task, fix=GO_POLLED["fix"], complete=lambda _: len(run.calls) == len(names)
                    )
                finally:
                    await after_go.settle()
    unset = timers.watched_until(since_go.started)  # the looks the probe made are the test's doing
    assert_go_left_set(go)
    if early:
        raise AssertionError(
            f"{early[0].label('run')} started before go was set ({len(early)} of {len(names)} calls "
            f"started in the {hold:.2f} s before it was). Creating a task starts its work right away: "
            "wait for go (`await go.wait()`) before the calls begin."
        )
    assert_looked_once(
        go,
        created,
        unset,
        "start_together",
        f"while go stayed unset for {unset - created:.2f} s",
        GO_POLLED,
        "18 start_together: looks again at go while it is unset < WOKEN",
    )
    assert_no_thread_at_work(
        wakes,
        created,
        unset,
        f"while go stayed unset for {unset - created:.2f} s",
        "Waiting for go needs no thread",
        "`await go.wait()` sleeps until go is set, and wakes the moment it is.",
    )
    after_go.assert_no_timer_kept_a_call_back(len(names))
    if run.calls:
        first = min(run.calls, key=lambda call: call.start)
        assert_started_at_once(first, first.start - since_go.started)
    return result, since_go


class TimersAfterGo:
    """From the moment go is set until every call to `run` has started (GO_START_WAIT s at most),
    every timer start_together sets is held back, again and again (kata.testing.refill). Code that
    starts its calls once go.wait() returns sets none on the way and starts them in milliseconds;
    code that pauses first (`await asyncio.sleep(0.03)` after go.wait(): a pause within LATE, which
    passed) never starts them while its timer is held, and the test names that timer."""

    def __init__(self, wakes, run, count, since):
        self.run, self.count, self.held, self.short = run, count, [], 0
        self.blind = None  # a hold the sandbox did not answer in time (kata.testing.refill)
        self.came = asyncio.Event()
        earlier = run.on_start

        def on_start(call):
            if earlier is not None:
                earlier(call)
            if len(run.calls) >= count:
                self.came.set()

        run.on_start = on_start
        if len(run.calls) >= count:
            self.came.set()
        self._give_up = asyncio.get_running_loop().call_later(GO_START_WAIT, self._gave_up)
        # The probe holds what was pending as go came (a poll's next look: it never sees go, and
        # the probe says so): if this gives up with none held that the code set since go, it
        # leaves them held for the probe to judge; else it lets every timer go (the calls have
        # started, and a limit set on each, held meanwhile, is the probe's to run out as they end;
        # or the code goes on, late, and the test says why).
        self.wakes = wakes
        self._holding = asyncio.create_task(self._hold(since))

    async def _hold(self, since):
        await hold_own_timers_until(self.wakes, self.came, self.held, since=since, let_go=False)
        if not self.short or self.held:
            await self.wakes.let_timers_go()

    def _gave_up(self):
        self.short = self.count - len(self.run.calls)
        self.came.set()

    async def settle(self):
        self._give_up.cancel()
        self.came.set()
        try:
            await self._holding
        except AssertionError as blind:  # a hold the sandbox did not answer: raised on a pass's way
            self.blind = blind

    def assert_no_timer_kept_a_call_back(self, count):
        if self.blind is not None:
            raise self.blind
        if not self.short or not self.held:
            return
        started = count - self.short
        if not margins.short_of(
            started, count, "18 start_together: every call starts < GO_START_WAIT after go"
        ):
            return
        timers = "the timer" if len(self.held) == 1 else f"the {len(self.held)} timers"
        raise AssertionError(
            f"go was set, and {started} of the {count} calls to run had started {GO_START_WAIT:.2f} s later, "
            f"while this test held back {timers} your code had set since ({self.held[0].where()}): "
            "start_together waited on a timer of its own after go was set. Every call should start the "
            "moment go is set: once `await go.wait()` returns, call run for every name at once, with no "
            "pause of your own in between."
        )


@pytest.mark.task(1)
async def test_nothing_starts_or_wakes_up_before_go_is_set(ex, wake_watch, rng):
    names = new_names(rng, 4)
    run, _ = runner_service(rng, names)

    await start_and_signal(ex, wake_watch, run, names, WatchedEvent("go"), rng.uniform(*LONG_HOLD))

    assert_same(len(run.calls), len(names), "the number of calls to run (one per name)")


@pytest.mark.task(1)
async def test_every_runner_starts_the_moment_go_is_set(ex, wake_watch, rng):
    names = new_names(rng, rng.randint(*MANY))
    run, _ = runner_service(rng, names)

    _, since_go = await start_and_signal(ex, wake_watch, run, names, WatchedEvent("go"), rng.uniform(*HOLD))

    assert_call_count(run, len(names), "one per name")
    assert_ran_together(run, since_go.elapsed, expected_calls=len(names))
    last = max(run.calls, key=lambda call: call.start)
    assert_started_at_once(last, last.start - since_go.started)


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(1)
async def test_more_than_a_hundred_runners_all_run_at_the_same_time(ex, rng):
    # "At most 50 at a time, to spare the machine" passed the test above, with its 11 to 20 names,
    # every time (a red team's; kata.testing.caps).
    count = more_than_any_cap(rng)
    names = [f"runner-{n}" for n in rng.sample(range(1000, 10000), count)]
    run, answers = runner_service(rng, names, delay=0.02)
    go = WatchedEvent("go")
    go.set()
    with frozen_loop_breaker(ex, GO_FROZEN), held_until_all_in_flight(run, count):
        result = await ex.start_together(run, names, go)

    assert_no_cap_of_its_own(
        run, count, f"start_together(run, <{count} names>, go)", "names", "one task for each name"
    )
    assert_same(result, [answers[name] for name in names], "start_together's result")


@pytest.mark.task(1)
async def test_results_come_back_in_the_order_of_the_names(ex, wake_watch, rng):
    names = new_names(rng, 5)
    # Later names finish sooner, so finishing order is the reverse of the asking order.
    delays = {name: 0.05 + 0.03 * (len(names) - n) for n, name in enumerate(names)}
    run, answers = runner_service(rng, names, delay=delays.__getitem__)
    # One name twice: run(name) is called for every name in the list, a repeated one too.
    again = rng.randrange(len(names) - 1)
    names.insert(rng.randint(again + 1, len(names)), names[again])

    result, _ = await start_and_signal(ex, wake_watch, run, names, WatchedEvent("go"), rng.uniform(*HOLD))

    assert_same(result, [answers[name] for name in names], "start_together's result")
    if len(run.calls) != len(names):
        raise AssertionError(
            f"start_together was given {len(names)} names, {names[again]!r} twice ({names}), and called "
            f"run {len(run.calls)} times: call `await run(name)` for every name in `names`, a repeated "
            "one as often as it appears, not each different name once."
        )


@pytest.mark.task(1)
async def test_no_names_gives_an_empty_list(ex, rng):
    run, _ = runner_service(rng, [])
    go = asyncio.Event()
    go.set()

    try:
        with frozen_loop_breaker(ex, GO_FROZEN):
            async with hang_guard(
                HANG,
                "18 start_together: returns < HANG with no names",
                f"start_together(run, [], go) did not return within {HANG} s, though go was set: with no "
                "names there is nothing to run, so return an empty list at once",
            ):
                result = await ex.start_together(run, [], go)
    except Exception as error:
        # asyncio.wait's own refusal of an empty set gets its advice; an error of the code's own
        # (a guard on its arguments, say) is shown where it was raised, not explained as wait's.
        empty_wait = isinstance(error, ValueError) and "is empty" in str(error)
        raise AssertionError(
            f"start_together(run, [], go) raised {describe(error)}, with go set. With no names there is "
            "nothing to run: return an empty list."
            + (
                " `asyncio.wait` raises ValueError when it is given no tasks at all: skip it when there "
                "are none (`if tasks:`), or use `asyncio.gather(...)`, which takes none and gives []."
                if empty_wait
                else ""
            )
        ) from error
    if run.calls:
        raise AssertionError(
            f"start_together(run, [], go) called run {len(run.calls)} time(s): with no names there is "
            "nothing to run."
        )
    assert_same(result, [], "start_together(run, [], go)")


@pytest.mark.task(1)
async def test_a_second_call_runs_every_name_afresh(ex, rng):
    # The same names twice, with a run whose answers have changed by the second call, as a live
    # service's do: nothing is kept from one call to the next (red teams' answers to other exercises
    # kept every result in a dict at module level, and the second call returned the first's).
    names = new_names(rng, 4)
    go = asyncio.Event()
    go.set()
    for round_number in (1, 2):
        run = FakeService("run", delay=0.02, reply=lambda name, n=round_number: f"{name} round {n}")

        with frozen_loop_breaker(ex, GO_FROZEN):
            result = await ex.start_together(run, names, go)

        if round_number == 2 and len(run.calls) < len(names):
            asked = sorted(call.args[0] for call in run.calls)
            calls = f"called run only for {asked}" if asked else "never called run"
            raise AssertionError(
                f"start_together was called a second time, with the names {names} again, and a run whose "
                f"answers have changed since the first call: it {calls}, and returned {describe(result)}. "
                "Keep nothing from one call to the next (no dict of results in a variable outside the "
                "function): every call runs `run(name)` afresh for every name."
            )
        assert_same(
            result,
            [f"{name} round {round_number}" for name in names],
            f"call {round_number} of start_together, with the names {names}",
        )


class RunFailed(Exception):
    """A runner's error in these tests."""


@pytest.mark.task(1)
async def test_an_error_of_a_run_reaches_the_caller(ex, rng):
    # The docstring asks for the runs' results: a run that raises has none, so its error goes on to
    # the caller (a learner trial's answer handed it back in the list, `return_exceptions=True`).
    # It fails last, after the others have returned: a plain gather, which leaves the other runs
    # going when one fails (the docstring does not ask to stop them), has none left then.
    names = new_names(rng, 3)
    bad = names[-1]
    error = RunFailed(f"{bad} tripped at the start")
    run, _ = runner_service(rng, names, delay=lambda name: 0.15 if name == bad else 0.02)
    run.fail = lambda name: error if name == bad else None
    go = asyncio.Event()
    go.set()
    try:
        result = await ex.start_together(run, names, go)
    except Exception as raised:  # alone, or in a TaskGroup's ExceptionGroup
        if holds(raised, error):
            return
        raise
    raise AssertionError(
        f"run({bad!r}) raised {error!r}, yet start_together returned {describe(result)}: the error never "
        "reached the caller. Return the results, and let a run's error go on (no "
        "`return_exceptions=True`, no `except` that returns something else)."
    )


@pytest.mark.task(1)
async def test_starts_at_once_when_go_is_already_set(ex, rng):
    names = new_names(rng, 3)
    run, answers = runner_service(rng, names, delay=0.05)
    go = WatchedEvent("go")
    go.set()

    guard = hang_guard(
        HANG,
        "18 start_together: returns < HANG when go is already set",
        f"start_together did not return within {HANG} s, though go was set before it began and each "
        "call takes 0.05 s: start the calls at once when go is already set (`await go.wait()` returns "
        "at once then)",
    )
    with frozen_loop_breaker(ex, GO_FROZEN), stopwatch() as whole:
        async with guard:
            result = await ex.start_together(run, names, go)

    assert_go_left_set(go)
    assert_same(result, [answers[name] for name in names], "start_together's result")
    assert_ran_together(run, whole.elapsed, expected_calls=len(names))


# The test of two runners: each run takes this long, and go is set this long after start_together
# began.
TWO_RUNS = 0.15
TWO_GO_AFTER = 0.05


@pytest.mark.task(1)
async def test_two_runners_run_at_the_same_time_once_go_is_set(ex, rng):
    # The fewest runs that can run together: code that runs a few names one after another once go
    # is set (and starts them all at once only for more of them) is caught here, whatever its
    # threshold (learner trial AA: two names or fewer one after another passed every test of 3
    # names and more).
    names = new_names(rng, 2)
    run, answers = runner_service(rng, names, delay=TWO_RUNS)
    go = WatchedEvent("go")

    guard = hang_guard(
        HANG,
        "18 start_together: two runs, returns < HANG after go is set",
        f"start_together did not return within {HANG} s of go being set, though each of its 2 calls "
        f"takes {TWO_RUNS:.2f} s: once `await go.wait()` returns, start them both at once",
    )
    with frozen_loop_breaker(ex, GO_FROZEN):
        task = asyncio.create_task(ex.start_together(run, names, go))
        await asyncio.sleep(TWO_GO_AFTER)
        with stopwatch() as since_go:
            go.set()
            async with guard:
                result = await task

    assert_go_left_set(go)
    assert_same(result, [answers[name] for name in names], "start_together's result")
    # Timed from the first run's start: how soon after go the runs begin is the other tests' business
    # (test_every_runner_starts_the_moment_go_is_set); here, whether the two run together.
    first = min((call.start for call in run.calls), default=since_go.started)
    assert_ran_together(run, since_go.elapsed - (first - since_go.started), expected_calls=len(names))


# Cancelled a second time while it waits for the runs it cancelled (a caller that gives up twice, a
# timeout around a call already cancelled): a cancelled run takes STOPPING s to stop, so code that
# waits for them is surely still waiting when the second cancel lands, even in judge mode. gather
# keeps waiting for them, `asyncio.wait` does not, and either may end then: what is checked is that
# the cancel goes on, and that no run was left never cancelled.
CANCELLED_AGAIN = cancelled_again_advice("run", "let a gather of the runs or a TaskGroup do it")


async def cancel_start_together(ex, rng, again):
    """Cancel start_together while its runs run (go set), and, if `again`, a second time while the
    runs it cancelled are stopping; fail unless it ended cancelled with nothing left running (with
    `again`, runs still stopping are let off, runs never cancelled are not)."""
    names = new_names(rng, rng.randint(3, 5))
    run, _ = runner_service(rng, names, delay=CANCELLED_RUN)
    go = asyncio.Event()
    go.set()
    during = f"while its {len(names)} runs ran, go being set"

    calling = Run(
        ex.start_together(run, names, go),
        snapshot=lambda: [call for call in run.calls if call.end is None],
    )
    run.on_start = lambda _call: len(run.calls) == len(names) and calling.cancel(during)
    if again:
        run.stop_delay = STOPPING
        run.on_cancel = lambda _call: calling.cancel_again("while the runs it had cancelled were stopping")
    with frozen_loop_breaker(ex, GO_FROZEN):
        finished = await calling.finish(HANG)
    stopping, untouched = await left_running(calling.left or [])
    if not finished:
        await calling.stop()
        await stop_calls(run.calls)
    if again:
        stopping = []

    assert_ended_cancelled(
        calling,
        "start_together",
        unreached=f"having called run for {len(run.calls)} of the {len(names)} names, though go was set: "
        "start every run at once",
        started="its runs",
        left=LeftRunning.calls(stopping, untouched, "run"),
        stop_advice="Whatever way start_together ends, a cancel from its caller included, the runs it "
        "started must be cancelled and have stopped. A gather of the runs does both for you: cancelled, "
        "it cancels every run and waits for them, as a TaskGroup does. With tasks and `asyncio.wait` "
        "(or tasks awaited one by one), do it in a `finally:` block: cancel every task, then `await "
        "asyncio.gather(*tasks, return_exceptions=True)`." + (f" {CANCELLED_AGAIN}" if again else ""),
        cancel_advice=CANCELLED_AGAIN if again else "",
    )


@pytest.mark.task(1)
async def test_a_cancelled_start_together_ends_cancelled_with_nothing_left_running(ex, rng):
    # The README's rule: a function cancelled from outside ends cancelled, with nothing it started
    # still running. Runs started as tasks and waited for with `asyncio.wait` (or awaited one by one),
    # with no cleanup, are left running when the cancel comes during the wait.
    await cancel_start_together(ex, rng, again=False)


@pytest.mark.task(1)
async def test_start_together_cancelled_again_while_its_runs_stop_ends_cancelled(ex, rng):
    await cancel_start_together(ex, rng, again=True)


@pytest.mark.task(1)
async def test_a_name_listed_twice_is_run_twice_each_result_in_its_own_place(ex, rng):
    # Tasks kept in a dict keyed by name start two runs for a repeated name and keep one: the other
    # runs on after the return, and its result is lost (a red team's answer to exercise 05 did that).
    names = new_names(rng, 4)
    repeated = rng.choice(names[:-1])
    names.insert(rng.randint(names.index(repeated) + 1, len(names)), repeated)
    # Each call answers with a number of its own, as a live service may answer a name differently
    # from one call to the next; the first call of the repeated name to start is the slowest.
    numbers = itertools.count(1)
    started = []

    def delay(name):
        started.append(name)
        return DELAY if name == repeated and started.count(name) == 1 else DELAY / 10

    run = FakeService("run", delay=delay, reply=lambda name: f"{name} answer {next(numbers)}")
    go = asyncio.Event()
    go.set()
    twice = (
        f"names was {names}: {repeated!r} is listed twice, so start_together starts two calls of "
        f"run({repeated!r})"
    )

    with frozen_loop_breaker(ex, GO_FROZEN):
        async with hang_guard(
            HANG,
            "18 start_together: returns < HANG with a repeated name",
            f"start_together(run, {names}, go) did not return within {HANG} s, though go was set",
        ):
            result = await ex.start_together(run, names, go)
    running = [call for call in run.calls if call.end is None]

    if running:
        stopping, untouched = await left_running(running)
        found = left_running_message("start_together returned", stopping, untouched, "run")
        raise AssertionError(
            f"{found} {twice}, and both must have ended before it returns. A dict keyed by name keeps "
            "one task per name, and the other is lost: keep one task (or one awaitable) for each place "
            "in names, repeats included (`asyncio.gather(*(runner(name) for name in names))`), and "
            "wait for every one of them."
        )
    assert_call_count(run, len(names), f"one call for each of the {len(names)} names, {repeated!r} twice")
    if type(result) is not list or len(result) != len(names) or any(type(r) is not str for r in result):
        raise AssertionError(
            f"start_together should return a list of the {len(names)} results, in the order of names; "
            f"found {describe(result)}"
        )
    both = [r for r, name in zip(result, names, strict=True) if name == repeated]
    if len(set(both)) == 1:
        raise AssertionError(
            f"{twice}, and each answered differently, but its list holds the same result in both "
            f"places: {describe(both)}. Keep one task for each place in names, repeats included, and "
            "return their results in that order (a dict keyed by name keeps only one)."
        )
    assert_same(
        sorted(r.rsplit(" ", 1)[-1] for r in result),
        sorted(str(n) for n in range(1, len(names) + 1)),
        "the answer numbers in start_together's result (sorted)",
    )
    assert_same(
        [r.rsplit(" ", 1)[0] for r in result],
        [f"{name} answer" for name in names],
        "start_together's result (without the answer numbers)",
    )


def new_interval(rng):
    # Random, so a hard-coded pause fails.
    return round(rng.uniform(0.14, 0.16), 3)


def long_interval(rng):
    # Long pauses: room for the test's move to land well inside one, late or early.
    return round(rng.uniform(0.25, 0.3), 3)


# How long after its planned moment the test still waits for a move (see Moment) before it makes
# it anyway (run_every never got that far: a pause that never ends, say).
SLACK = 0.5


class Moment:
    """The test's move (setting stop, cancelling run_every) at a point of the run it picks, however
    late a busy machine runs its timers: `after` s from a moment the job fake reports through its
    hooks (a job's start or end), not from the start of the run, which on a busy machine lands
    anywhere (in the job before the pause meant, or in the next one).

    Timed from a job's end, it is timed again from run_every's first look at stop after that end
    (`looked`, stop's `on_look`), if it takes one before the move: run_every has begun its pause
    then, even in judge mode, where the job's end reaches it a moment after the test sees it.
    `at` is when the test moved (None until then).
    """

    def __init__(self, act, after):
        self.act, self.after = act, after
        self.marked = self.at = self.handle = None
        self.retimed = False
        self.moved = asyncio.Event()

    def on_job(self, number):
        """A hook for the job fake (`on_start` or `on_end`): time the move from job number `number`."""
        seen = itertools.count(1)

        def hook(call):
            if next(seen) == number and self.marked is None:
                self.marked = clock.perf_counter()
                self.handle = asyncio.get_running_loop().call_later(self.after, self.move)

        return hook

    def looked(self):
        if self.marked is not None and self.at is None and not self.retimed:
            self.retimed = True
            self.handle.cancel()
            self.handle = asyncio.get_running_loop().call_later(self.after, self.move)

    def move(self):
        """Move now, if not done yet (the test calls it when run_every never got where it was due)."""
        if self.at is None:
            self.drop()
            self.at = clock.perf_counter()
            self.act()
            self.moved.set()

    def drop(self):
        if self.handle is not None:
            self.handle.cancel()


def note_end(task):
    """A list that gets when `task` ended (the kata's clock), once it has."""
    ended = []
    task.add_done_callback(lambda _: ended.append(clock.perf_counter()))
    return ended


async def run_and_stop(ex, job, interval, stop, moment, planned):
    """Run run_every; `moment` (a Moment whose act sets stop) sets stop where the test means to. If it
    has not `planned` + SLACK s after the start (run_every never got that far), the test sets it then.

    Return its result, a stopwatch started when run_every's task was created, one started when
    stop was set.
    """
    with frozen_loop_breaker(ex, STOP_FROZEN):
        task = asyncio.create_task(ex.run_every(job, interval, stop), name="run_every")
        whole = Stopwatch(started=clock.perf_counter())
        ended = note_end(task)
        moved = asyncio.ensure_future(moment.moved.wait())
        await asyncio.wait({task, moved}, timeout=planned + SLACK, return_when=asyncio.FIRST_COMPLETED)
        moved.cancel()
        if ended and (moment.at is None or ended[0] < moment.at):
            moment.drop()
            found = task.result()
            raise AssertionError(
                f"run_every returned {describe(found)} after {ended[0] - whole.started:.2f} s, before "
                "stop was set: keep running the job until stop is set"
            )
        moment.move()
        since_stop = Stopwatch(started=moment.at)
        async with hang_guard(
            HANG,
            "18 run_every: returns < HANG after stop is set",
            f"run_every did not return within {HANG} s of stop being set: it should stop at once "
            "(or as soon as a running job ends)",
        ):
            result = await task
        since_stop.elapsed = clock.perf_counter() - since_stop.started
    whole.elapsed = clock.perf_counter() - whole.started
    return result, whole, since_stop


def assert_slept_through_pauses(stop, job, interval, stopped_at):
    """Fail if run_every looked at stop again inside its pauses, while stop was unset.

    A pause that waits for stop with a timeout looks at it once, as it begins (perhaps with
    an `is_set()` first); a pause that polls looks again after each of its short sleeps. The
    look just before the next job starts ends the pause: it is no poll, even when the pause
    ended too soon (a wait that timed out early is judged by the pause's length, not here).
    """
    again, looks, gaps = 0, 0, []
    for call, after in itertools.zip_longest(job.calls, job.calls[1:]):
        if call.end is None or call.end >= stopped_at:
            break
        until = min(call.end + interval - EARLY, stopped_at)
        if after is not None:
            until = min(until, after.start - MOMENT)
        score, moments = stop.looked_again(call.end, until)
        again += score
        looks += looks_after_the_first(moments)
        gaps += apart(moments)
    if margins.over(again, WOKEN, "18 run_every: looks again at stop inside pauses < WOKEN", unit="looks"):
        raise AssertionError(
            LOOKED_AGAIN.format(
                while_=f"during its pauses of {interval:.3f} s, while stop stayed unset",
                who="run_every",
                name="stop",
                count=looks,
                every=every(gaps) if gaps else "in every pause",
                **STOP_POLLED,
            )
        )


def assert_jobs_before_stop(job, interval, length, run, stop_after, stopped_at, wanted, message):
    """Fail with `message` (formatted with `found`) unless `wanted` jobs ran: those due before stop.

    The test sets stop well inside a pause (or a job) after job number `wanted` has ended (or
    begun: a Moment), `stop_after` s after the start in the planned schedule: job k due (k - 1) *
    (`length` + `interval`) s after the start. A busy machine moves the stop, though, and a count
    off only because of that is a failure on time. A mistake is off the same way every time.
    - Too few: job number `wanted` never got there, and the test set stop SLACK s after it was
      planned. Correct code falls that far behind only by running late (each job and pause a
      little late, or one very late), so this is always a failure on time; a pause that never
      ends (waiting for stop instead) is one every time.
    - Too many: the job after the last one wanted started, though it was due only `interval`
      after that one ended. Correct code starts it only after looking at stop at its due time
      (a timer may wake EARLY) and finding it unset: only when the test set stop late.
    """
    found = len(job.calls)
    if found < wanted:
        planned = found * (length + interval)
        margins.over(
            stopped_at - run.started - planned,
            stop_after - planned - EARLY,
            "18 run_every: each job due before stop starts before it",
        )
        raise AssertionError(message.format(found=found))
    if found > wanted:
        margins.over(
            stopped_at - job.calls[wanted - 1].end,
            interval - EARLY,
            "18 run_every: stop comes before the next job is due",
        )
        raise AssertionError(message.format(found=found))


def assert_counted(result, job):
    assert_same(result, len(job.calls), "run_every's result (the number of jobs that ran)")


def assert_no_job_cut_short(job):
    cut = [call for call in job.calls if call.outcome == "cancelled"]
    if cut:
        raise AssertionError(
            "a job was cut short: it was cancelled when stop was set. Stop means 'start no new job'; "
            "the job that is running gets to finish."
        )
    running = [call for call in job.calls if call.end is None]
    if running:
        raise AssertionError(
            "run_every returned while a job was still running: await each job, and let it finish"
        )


@pytest.mark.task(2)
async def test_runs_a_job_at_once_then_one_after_every_pause(ex, rng, wake_watch):
    interval = new_interval(rng)
    stop = WatchedEvent("stop")
    # Three jobs and two pauses done, halfway through the third pause.
    moment = Moment(stop.set, 0.5 * interval)
    stop.on_look = moment.looked
    job = FakeService("job", delay=PAUSED_JOB, on_end=moment.on_job(3))
    stop_after = 3 * PAUSED_JOB + 2.5 * interval
    async with wake_watch(ex) as wakes:
        result, run, since_stop = await run_and_stop(ex, job, interval, stop, moment, stop_after)

    assert_no_job_cut_short(job)
    assert_slept_through_pauses(stop, job, interval, since_stop.started)
    first = job.calls[0].start - run.started if job.calls else 0
    if margins.over(first, LATE, "18 run_every: first job starts < LATE after the start"):
        raise AssertionError(f"the first job should start right away, found it {first:.2f} s after the start")
    for number, (before, after) in enumerate(itertools.pairwise(job.calls), start=2):
        pause = after.start - before.end
        too_short = margins.under(
            pause, interval - EARLY, "18 run_every: pause between jobs >= interval - EARLY"
        )
        too_long = margins.over(
            pause, interval + PAUSE_LATE, "18 run_every: pause between jobs < interval + PAUSE_LATE"
        )
        from_start = after.start - before.start
        if too_short and abs(from_start - interval) < (before.end - before.start) / 2:
            raise AssertionError(
                PAUSE_FROM_THE_START.format(
                    number=number, from_start=from_start, pause=pause, job=before.end - before.start
                )
            )
        if too_short or too_long:
            raise AssertionError(
                f"job number {number} started {pause:.2f} s after the one before ended; the pause "
                f"between jobs should be `interval` ({interval:.3f} s)"
            )
    assert_jobs_before_stop(
        job,
        interval,
        PAUSED_JOB,
        run,
        stop_after,
        since_stop.started,
        3,
        f"with jobs of {PAUSED_JOB:.2f} s and pauses of {interval:.3f} s, 3 jobs should have run when stop "
        f"was set after {since_stop.started - run.started:.2f} s; found {{found}}",
    )
    assert_counted(result, job)
    # Each pause was within PAUSE_LATE of `interval`, which a busy machine needs in judge mode; a
    # timer's length is exact under any load: one longer than the interval that ran out added time
    # to the pauses (`interval + 0.05` passed the bound above).
    assert_no_time_added(
        wakes,
        interval,
        "run_every",
        "Pause for `interval` as it is (`asyncio.wait_for(stop.wait(), interval)`), with nothing added.",
        "18 run_every: no timer of its own longer than the interval runs out",
        given="an interval",
        so="so each pause between two jobs is longer than `interval`",
        once=False,
        from_the_start=False,
    )

    # And the timers it paused on between two jobs, one after another, add up to the interval: a
    # pause kept by short sleeps until the clock says `interval + 0.03`, or in two halves with a
    # little added to each (learner trials'), is judged by what it asked for.
    def paused(seconds, timers, n):
        return (
            f"run_every paused {seconds:.3f} s before job number {n + 2} ({timers}); the docstring "
            f"gives `interval` ({interval:.3f} s), counted from the end of one job to the start of the "
            "next, nothing added or taken away. Pause on one wait of `interval` that stop can end "
            "(`asyncio.wait_for(stop.wait(), interval)`)."
        )

    assert_each_wait_exact(wakes, job.calls, interval, paused)


@pytest.mark.task(2)
async def test_returns_at_once_when_stopped_during_a_pause(ex, rng):
    interval = long_interval(rng)
    stop = WatchedEvent("stop")
    # Two jobs done, in the second pause: at most halfway through, so that a pause that sleeps through
    # stop is late by far more than LATE; random, so no poll period lines up with it.
    share = rng.uniform(0.3, 0.5)
    moment = Moment(stop.set, share * interval)
    stop.on_look = moment.looked
    job = FakeService("job", delay=JOB, on_end=moment.on_job(2))
    stop_after = 2 * JOB + (1 + share) * interval
    result, run, since_stop = await run_and_stop(ex, job, interval, stop, moment, stop_after)

    assert_no_job_cut_short(job)
    assert_slept_through_pauses(stop, job, interval, since_stop.started)
    if margins.over(since_stop.elapsed, LATE, "18 run_every: returns < LATE after stop is set in a pause"):
        raise AssertionError(
            f"run_every returned {since_stop.elapsed:.2f} s after stop was set during a pause of "
            f"{interval:.3f} s; it should return at once. A plain `asyncio.sleep(interval)` sleeps "
            "through the signal; wait for stop with a timeout instead: "
            "`await asyncio.wait_for(stop.wait(), timeout=interval)` ends early when stop is set."
        )
    if len(job.calls) == 2 and job.calls[1].end is not None:
        # A pause that sleeps through stop ends no sooner than `interval` after the job's end, so it
        # returns at least this long after stop: only a stop this close to the pause's end (the
        # test's timer ran late) lets it pass the check above.
        left = job.calls[1].end + interval - EARLY - since_stop.started
        if margins.under(left, LATE, "18 run_every: stop is set >= LATE before the pause ends"):
            raise AssertionError(
                f"this test meant to set stop well inside run_every's second pause, and set it only "
                f"{max(left, 0):.2f} s before that pause of {interval:.3f} s was over (a busy machine ran "
                "the test late): too soon before its end to tell a run_every that returns at once from "
                "one that sleeps the pause out (`asyncio.sleep(interval)`) and then sees stop. The test "
                "is run again. Wait for stop with the pause as its timeout: `await "
                "asyncio.wait_for(stop.wait(), timeout=interval)` ends the moment stop is set."
            )
    assert_jobs_before_stop(
        job,
        interval,
        JOB,
        run,
        stop_after,
        since_stop.started,
        2,
        "2 jobs should have run before stop was set (during the second pause), found {found}: no job "
        "may start once stop is set",
    )
    assert_counted(result, job)


@pytest.mark.task(2)
async def test_a_running_job_is_finished_not_cut_short(ex, rng):
    interval = new_interval(rng)
    long_job = round(rng.uniform(0.14, 0.16), 3)
    stop = WatchedEvent("stop")
    # Stop arrives a quarter into the first job: timed from its start, so it surely lands in it.
    moment = Moment(stop.set, long_job / 4)
    job = FakeService("job", delay=long_job, on_start=moment.on_job(1))
    stop_after = long_job / 4
    result, run, since_stop = await run_and_stop(ex, job, interval, stop, moment, stop_after)

    assert_no_job_cut_short(job)
    first = job.calls[0] if job.calls else None
    if first is not None and first.end is not None:
        # Code that cuts the running job short when stop is set is seen doing it only if stop came
        # long enough before the job's end for the cancel to reach the job (in judge mode it crosses
        # to the learner's process and back).
        room = first.end - since_stop.started
        if margins.under(room, LATE, "18 run_every: stop is set >= LATE before the running job ends"):
            raise AssertionError(
                f"this test meant to set stop while the first job ran, and set it only {max(room, 0):.2f} s "
                "before that job ended (a busy machine ran the test late): too late to tell whether "
                "run_every lets the running job finish or cuts it short. The test is run again. Stop "
                "means 'start no new job': let the running job finish, then return."
            )
    assert_jobs_before_stop(
        job,
        interval,
        long_job,
        run,
        stop_after,
        since_stop.started,
        1,
        "stop was set while the first job ran: that job should run, and no new job may start after "
        "it; found {found} jobs",
    )
    after_job = since_stop.started + since_stop.elapsed - job.calls[0].end
    if margins.over(after_job, LATE, "18 run_every: returns < LATE after the last job ends"):
        raise AssertionError(
            f"run_every returned {after_job:.2f} s after the last job ended, though stop had been set "
            "during that job: return as soon as it ends, without pausing first."
        )
    assert_counted(result, job)


@pytest.mark.task(2)
async def test_a_slow_job_is_awaited_without_a_time_limit_of_its_own(ex, wake_watch, rng):
    # Its own timers are judged by what they do as the job ends (kata.testing.own_timers): a time
    # limit on the job (`wait_for(job(), 30)`) cuts a slow job short, a poll of the job's task
    # never sees it end. Stop is set as the job starts, so no pause of run_every's is pending then.
    stop = asyncio.Event()
    job = FakeService("job", delay=0.05, on_start=lambda call: stop.set())
    fix = "Await the job itself: `await job()` sleeps until it is done, however long it takes."
    async with wake_watch(ex) as wakes:
        with frozen_loop_breaker(ex, STOP_FROZEN), OwnTimersProbe(wakes, "run_every", job) as timers:
            task = asyncio.create_task(ex.run_every(job, new_interval(rng), stop), name="run_every")
            result = await timers.awaited(task, 1, fix=fix)

    assert_no_job_cut_short(job)
    assert_counted(result, job)


@pytest.mark.task(2)
async def test_nothing_runs_when_stop_is_already_set(ex, rng):
    job = FakeService("job", delay=JOB)
    stop = WatchedEvent("stop")
    stop.set()

    guard = hang_guard(
        HANG,
        "18 run_every: returns < HANG when stop is already set",
        f"run_every did not return within {HANG} s, though stop was set before it began: it should "
        "run no job and return 0 at once",
    )
    with frozen_loop_breaker(ex, STOP_FROZEN):
        async with guard:
            result = await ex.run_every(job, new_interval(rng), stop)

    assert_same(len(job.calls), 0, "the number of jobs run when stop was set before run_every began")
    assert_same(result, 0, "run_every's result")


@pytest.mark.task(2)
async def test_a_second_run_every_counts_only_its_own_jobs(ex, rng):
    # run_every is called again and again: each call counts the jobs it ran itself, from 0 (a count
    # kept in a variable outside the function goes on from the last call's).
    expected = []
    for stop_during_the_first_job in (True, False, True):
        stop = asyncio.Event()
        job = FakeService("job", delay=JOB)
        if stop_during_the_first_job:
            job.on_start = lambda _call, stop=stop: stop.set()  # the job runs to its end: 1 job
        else:
            stop.set()  # already set: no job, 0
        guard = hang_guard(
            HANG,
            "18 run_every: returns < HANG once stop is set",
            f"run_every did not return within {HANG} s, though stop was set before it began or during "
            "its first job: it should return at once (or as soon as that job ends)",
        )
        with frozen_loop_breaker(ex, STOP_FROZEN):
            async with guard:
                result = await ex.run_every(job, new_interval(rng), stop)
        expected.append(len(job.calls))
        if result != len(job.calls) and len(expected) > 1:
            ran = ", ".join(map(str, expected))
            raise AssertionError(
                f"run_every was called {len(expected)} times in a row, and ran {ran} jobs; the last call "
                f"returned {describe(result)}, not {len(job.calls)}. Each call counts its own jobs, from "
                "0: keep the count in a variable of the function (`runs = 0` at its start), not outside it."
            )
        assert_counted(result, job)


class JobFailed(Exception):
    """A job's error in these tests."""


# How long the test watches a run_every that should have ended (a cancel or a job's error): it
# spans the next pause (at most 0.35 s here) and job, had run_every carried on.
WATCH = 0.5
# A job cancelled while it runs (it ends early, at the cancel): long, so the cancel surely lands in it.
CANCELLED_JOB = 0.3


async def ended_within(task, seconds):
    """True if `task` has ended within `seconds`."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    return bool(done)


async def end_for_good(task, stop):
    """End a run_every that did not end when it should have: set stop, then cancel it if it still runs."""
    stop.set()
    if not await ended_within(task, HANG):
        task.cancel()
        await asyncio.wait({task}, timeout=HANG)


@pytest.mark.task(2)
async def test_a_cancelled_run_every_ends_at_once_and_runs_no_more_jobs(ex, rng):
    # Long pauses, and the cancel timed from run_every's first look at stop after the job before it
    # (from that job's end if it takes none: a Moment): the cancel lands well inside the pause, after
    # run_every has begun waiting there, even in judge mode on a busy machine. Where it landed is
    # checked all the same: in a job, a cancel swallowed in the pause would go unseen.
    interval = round(rng.uniform(0.3, 0.35), 3)
    jobs = rng.randint(1, 2)
    before = []  # how many jobs had started when the test cancelled run_every

    def cancel():
        before.append(len(job.calls))
        task.cancel()

    # Somewhere in the pause after job number `jobs` (random, so no poll period lines up with it).
    moment = Moment(cancel, rng.uniform(0.4, 0.6) * interval)
    job = FakeService("job", delay=JOB, on_end=moment.on_job(jobs))
    stop = WatchedEvent("stop")  # never set before the cancel: only the cancel may end run_every
    stop.on_look = moment.looked

    with frozen_loop_breaker(ex, STOP_FROZEN):
        task = asyncio.create_task(ex.run_every(job, interval, stop), name="run_every")
        ended_at = note_end(task)
        moved = asyncio.ensure_future(moment.moved.wait())
        await asyncio.wait({task, moved}, timeout=HANG, return_when=asyncio.FIRST_COMPLETED)
        moved.cancel()
        if ended_at and (moment.at is None or ended_at[0] < moment.at):
            moment.drop()
            found = task.result()
            raise AssertionError(
                f"run_every returned {describe(found)} after {len(job.calls)} jobs, though stop was never "
                "set: keep running the job until stop is set"
            )
        if moment.at is None:
            moment.drop()
            await end_for_good(task, stop)
            raise AssertionError(
                f"run_every had not run {jobs} jobs within {HANG} s (jobs of {JOB:.2f} s, pauses of "
                f"{interval:.3f} s): found {len(job.calls)}"
            )
        before = before[0]
        since_cancel = Stopwatch(started=moment.at)
        last = job.calls[jobs - 1]  # the job before the pause the cancel was meant for
        due = last.end + interval - EARLY  # when the next job was due to start
        ended = await ended_within(task, WATCH)
        since_cancel.elapsed = (ended_at[0] if ended_at else clock.perf_counter()) - since_cancel.started
        if not ended:
            after = len(job.calls) - before
            await end_for_good(task, stop)
            raise AssertionError(
                f"run_every was cancelled during a pause (after {before} jobs), and kept going: "
                f"{after} more jobs started, and it was still running {WATCH:.2f} s after the cancel. "
                "A cancelled run_every should end at once, cancelled, and run no job after. Catching "
                "CancelledError (`except (asyncio.TimeoutError, asyncio.CancelledError): pass` around "
                "the pause) swallows the cancel: catch only TimeoutError, and let CancelledError go on."
            )
        if before > jobs:
            # The next job had started when the test cancelled: the cancel landed in it, not in the
            # pause. Only a cancel that came after that job was due (the test ran late) lets that happen
            # to a pause of `interval`.
            started = job.calls[jobs].start - last.end
            into = since_cancel.started - last.end
            if margins.over(into, interval - EARLY, "18 run_every: the cancel comes in the pause"):
                raise AssertionError(
                    f"this test meant to cancel run_every during its pause of {interval:.3f} s, and "
                    f"cancelled it {into:.2f} s after job number {jobs} ended (a busy "
                    "machine ran the test late), once the next job had started: it could not see what "
                    "run_every does with a cancel that comes during a pause. The test is run again. A "
                    "cancelled run_every should end at once, cancelled: catch only TimeoutError around the "
                    "pause, and let CancelledError go on."
                )
            raise AssertionError(
                f"job number {jobs + 1} started {started:.2f} s after job number {jobs} ended; the pause "
                f"between jobs should be `interval` ({interval:.3f} s)"
            )
        await asyncio.sleep(interval + JOB)  # when the next job would have run
    if not task.cancelled():
        outcome = (
            f"returned {describe(task.result())}"
            if task.exception() is None
            else f"raised {task.exception()!r}"
        )
        raise AssertionError(
            f"run_every was cancelled during a pause and {outcome} instead of ending cancelled: "
            "let CancelledError go on (no `except` that turns it into a result)"
        )
    if margins.over(since_cancel.elapsed, LATE, "18 run_every: ends < LATE after it is cancelled in a pause"):
        raise AssertionError(
            f"run_every ended {since_cancel.elapsed:.2f} s after it was cancelled during a pause; it "
            "should end at once"
        )
    started = job.calls[before:]
    if started:
        # A job that started when it was due, not before: the cancel may have reached run_every only
        # after its pause was over (in judge mode it crosses to the learner's process), and a job
        # that then started is no sign of a swallowed cancel.
        margins.over(
            started[0].start - since_cancel.started,
            due - since_cancel.started,
            "18 run_every: the cancel reaches run_every before the next job is due",
        )
        left = due + EARLY - since_cancel.started
        raise AssertionError(
            f"run_every was cancelled during a pause (after {before} jobs, {left:.2f} s before the "
            f"next job was due), and {len(started)} more jobs started after the cancel: a "
            "cancelled run_every runs no job after. Catch only TimeoutError around the pause, and let "
            "CancelledError go on."
        )

    # Cancelled again, another run_every, while its first job runs: a cancel is not stop, it
    # reaches the job too, and run_every ends cancelled (not with a count).
    begun = asyncio.Event()
    job = FakeService("job", delay=CANCELLED_JOB, on_start=lambda call: begun.set())
    stop = asyncio.Event()
    with frozen_loop_breaker(ex, STOP_FROZEN):
        task = asyncio.create_task(ex.run_every(job, interval, stop), name="run_every")
        waiting = asyncio.ensure_future(begun.wait())
        await asyncio.wait({task, waiting}, timeout=HANG, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if not begun.is_set():
            await end_for_good(task, stop)
            raise AssertionError(f"run_every had not started its first job within {HANG} s")
        ended_at = note_end(task)
        task.cancel()
        cancelled_at = clock.perf_counter()
        if not await ended_within(task, WATCH):
            await end_for_good(task, stop)
            raise AssertionError(
                f"run_every was cancelled while its first job ran, and kept going: it was still running "
                f"{WATCH:.2f} s after the cancel ({len(job.calls)} jobs started). A cancelled run_every "
                "should end at once, cancelled: no `except asyncio.CancelledError` around `await job()` "
                "that carries on."
            )
    if not task.cancelled():
        outcome = (
            f"returned {describe(task.result())}"
            if task.exception() is None
            else f"raised {task.exception()!r}"
        )
        raise AssertionError(
            f"run_every was cancelled while its first job ran, and {outcome} instead of ending "
            "cancelled. Catching CancelledError around `await job()` (to return the count so far) "
            "swallows the cancel: the caller who cancelled it is never told. Let CancelledError go "
            "on. (Stop lets a running job finish; a cancel ends the job and run_every both.)"
        )
    first = job.calls[0]
    if first.outcome == "returned" and ended_at and ended_at[0] >= first.end:
        # The job ran to its end and run_every ended after it: the cancel never reached the job. Only
        # then would a cancel swallowed around `await job()` go unseen (it came in the pause after).
        margins.over(
            ended_at[0] - cancelled_at,
            first.end - cancelled_at,
            "18 run_every: a cancel during the job ends run_every before the job's end",
        )
        raise AssertionError(
            f"run_every was cancelled {cancelled_at - first.start:.2f} s into its first job (of "
            f"{CANCELLED_JOB:.2f} s), and that job ran to its end: run_every ended only after it, "
            f"{ended_at[0] - cancelled_at:.2f} s after the cancel. A cancel ends the running job and "
            "run_every both, at once: let it reach `await job()` (no `asyncio.shield` around the job, no "
            "`except asyncio.CancelledError` that waits for it). A busy machine can delay a cancel "
            "that long too: the test is run again."
        )


@pytest.mark.task(2)
async def test_a_job_that_raises_ends_run_every_with_its_error(ex, rng):
    interval = new_interval(rng)
    failing = rng.randint(1, 3)  # the job number that raises
    error = JobFailed(f"job number {failing} failed: the disk is full")
    numbers = itertools.count(1)
    job = FakeService("job", delay=JOB, fail=lambda: error if next(numbers) == failing else None)
    stop = asyncio.Event()  # never set: only the error may end run_every

    with frozen_loop_breaker(ex, STOP_FROZEN):
        task = asyncio.create_task(ex.run_every(job, interval, stop), name="run_every")
        # Job number `failing` ends after this long, and run_every with it.
        ends = failing * JOB + (failing - 1) * interval
        with stopwatch() as run:
            ended = await ended_within(task, ends + WATCH)
        if not ended:
            after = len(job.calls) - failing
            await end_for_good(task, stop)
            if after <= 0:
                # No job after the failing one: a busy machine may have run it all late (correct code
                # ends within milliseconds of the error), or the code waits on after the error.
                margins.gave_up(run.elapsed, ends + WATCH, "18 run_every: ends < WATCH after a job raises")
                raise AssertionError(
                    f"job number {failing} was due to raise {error!r} {ends:.2f} s after run_every began; "
                    f"{len(job.calls)} jobs had started, and run_every was still running {run.elapsed:.2f} s "
                    "after it began. An error of a job should end run_every at once and reach its caller: "
                    "no `try`/`except` around `await job()` that keeps run_every going or waiting."
                )
            raise AssertionError(
                f"job number {failing} raised {error!r}, but run_every carried on: {after} more jobs "
                f"started, and it was still running {run.elapsed:.2f} s after it began. An error of a "
                "job should end run_every and reach its caller: no `try`/`except` around `await job()` "
                "that goes on to the next job (a job that failed has not run)."
            )
    if task.cancelled() or task.exception() is None:
        outcome = "was cancelled" if task.cancelled() else f"returned {describe(task.result())}"
        raise AssertionError(
            f"job number {failing} raised {error!r}, and run_every {outcome} instead of raising it: "
            "let the job's error reach the caller"
        )
    if not holds(task.exception(), error):
        raise task.exception()
    assert_same(
        len(job.calls), failing, f"the number of jobs started, the last of them (number {failing}) raising"
    )


async def wait_for_targets(
    ex, wake_watch, loop_breaker, progress, targets, advances, quiet=STEP, gives_up=None
):
    """Start one wait_until per target; after `quiet` s, advance `progress` by each of
    `advances` in turn, STEP s apart, and give the waiters GRACE s more. With `gives_up`, one
    more task waits in wait_until(gives_up) and is cancelled just before the first advance.

    Fails when a waiter kept waking up in the quiet stretch before the first advance.
    Return, per waiter, (the number of advances begun, the time) when it returned, or None
    if it never did; the time each advance began; and when the test stopped waiting.
    """
    advanced_at = []
    woke = [None] * len(targets)
    quiet_until = None  # the end of the quiet stretch watched: the first advance, or the quitter's cancel

    async def waiter(n, target):
        await progress.wait_until(target)
        woke[n] = (len(advanced_at), clock.perf_counter())

    async with wake_watch(ex) as wakes, loop_breaker(ex, COUNT_FROZEN):
        named = {
            asyncio.create_task(waiter(n, target)): f"wait_until({target})"
            for n, target in enumerate(targets)
        }
        tasks = list(named)
        quitter = None if gives_up is None else asyncio.create_task(progress.wait_until(gives_up))
        started = clock.perf_counter()
        try:
            for number, count in enumerate(advances):
                if await pause_unless_failed(quiet if number == 0 else STEP, *tasks):
                    break  # a waiter raised: its error is the verdict (raised below)
                if quitter is not None and number == 0:
                    quiet_until = clock.perf_counter()  # what it does once cancelled is the test's doing
                    quitter.cancel()
                    await asyncio.gather(quitter, return_exceptions=True)
                advanced_at.append(clock.perf_counter())
                try:
                    await progress.advance(count)
                except Exception as error:
                    if quitter is None:
                        raise
                    raise AssertionError(
                        f"advance({count}) raised {error!r}. A task waiting in wait_until({gives_up}) "
                        "had been cancelled before it (it gave up waiting), and advance must still wake "
                        "every task that is waiting. A cancelled waiter's future is done already "
                        "(cancelled): setting its result raises. Forget the waiters that gave up, or "
                        "wait on an asyncio.Condition, which does that for you."
                    ) from error
            await asyncio.wait(tasks, timeout=GRACE)
            gave_up = clock.perf_counter()
        finally:
            for task in [*tasks, quitter] if quitter is not None else tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            if quitter is not None:
                await asyncio.gather(quitter, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            raise result
    quiet_until = quiet_until or advanced_at[0]
    assert_slept(
        wakes,
        started,
        quiet_until,
        named,
        f"while the count stayed at 0 for {quiet_until - started:.2f} s",
        COUNT_POLLED,
        "18 wait_until: wake-ups while the count is unchanged < WOKEN",
        "wait_until",
    )
    # However a thread of its own waits between its checks (a lock's timed acquire: a red team's,
    # which no timer of the loop's showed), it is at work while nothing it waits for changes.
    assert_no_thread_at_work(
        wakes,
        started,
        quiet_until,
        f"while the count stayed at 0 for {quiet_until - started:.2f} s",
        "Waiting for the count needs no thread: advance runs on the event loop, and can wake the waiters",
        COUNT_POLLED["fix"],
    )
    assert_loop_ran(
        wakes,
        started,
        quiet_until,
        "wait_until",
        f"while the count stayed at 0 for {quiet_until - started:.2f} s",
    )
    return woke, advanced_at, gave_up


def assert_woke_on_time(targets, advances, woke, advanced_at, gave_up):
    """Each waiter returned right after the advance that reached its target: not before, not later.

    Returning late, or never, is a failure on time: correct code does it only when it runs late
    (its task waits for the loop, or in judge mode for the other process). A waiter that is never
    woken (a Condition's `notify()`, or one future kept per target for several waiters), or wakes
    only at a later advance, is late every time.
    """
    counts = list(itertools.accumulate(advances))  # the counts the test's advances made
    for target, wake in zip(targets, woke, strict=True):
        due = next(n for n in range(1, len(advances) + 1) if sum(advances[:n]) >= target)
        reached = sum(advances[:due])
        # Only the waiters whose target the count jumped over were left waiting: it wakes a
        # waiter when the count equals its target, not once it is at least the target.
        if (
            wake is None
            and target not in counts
            and all(w is not None for t, w in zip(targets, woke, strict=True) if t in counts)
        ):
            margins.over(
                gave_up - advanced_at[due - 1],
                LATE,
                "18 wait_until: returns < LATE after the count is reached",
            )
            raise AssertionError(
                JUMPED_OVER.format(
                    target=target, before=reached - advances[due - 1], reached=reached, end=counts[-1]
                )
            )
        if wake is None:
            # Still waiting GRACE s after the last advance, at least that late.
            margins.over(
                gave_up - advanced_at[due - 1],
                LATE,
                "18 wait_until: returns < LATE after the count is reached",
            )
            same = [w for t, w in zip(targets, woke, strict=True) if t == target]
            returned = len(same) - same.count(None)
            who = (
                f"wait_until({target}) never returned"
                if len(same) == 1
                else f"{len(same)} tasks waited in wait_until({target}) and "
                + (f"only {returned} of them returned" if returned else "none of them returned")
            )
            raise AssertionError(
                f"{who}, though the count reached {reached} (and {sum(advances)} in the end). {NOT_WOKEN}"
            )
        begun, at = wake
        if begun < due:
            raise AssertionError(
                f"wait_until({target}) returned when the count was only {sum(advances[:begun])}: "
                "being woken up does not mean the target is reached. Check the count again each time "
                "you wake (`cond.wait_for(lambda: ...)` does that for you)."
            )
        lag = at - advanced_at[due - 1]
        late = margins.over(lag, LATE, "18 wait_until: returns < LATE after the count is reached")
        if begun > due:
            # It returned after the next advance began (STEP < LATE after this one).
            late = (
                margins.over(
                    lag,
                    advanced_at[due] - advanced_at[due - 1],
                    "18 wait_until: returns before the next advance begins",
                )
                or late
            )
        if late:
            raise AssertionError(
                f"wait_until({target}) returned {lag:.2f} s after the count reached {reached}; it should "
                f"return at once. {WOKEN_LATE}"
            )


@pytest.mark.task(3)
async def test_each_waiter_sleeps_until_its_target_is_reached(ex, wake_watch, loop_breaker, rng):
    targets = rng.sample(range(1, STEPS + 1), 4)
    advances = [1] * STEPS
    progress = ex.Progress()

    woke, advanced_at, gave_up = await wait_for_targets(
        ex, wake_watch, loop_breaker, progress, targets, advances, quiet=rng.uniform(*QUIET)
    )

    assert_woke_on_time(targets, advances, woke, advanced_at, gave_up)


@pytest.mark.task(3)
async def test_one_advance_wakes_every_waiter_it_satisfies(ex, wake_watch, loop_breaker, rng):
    target = rng.randint(2, 4)
    targets = [target] * 3 + [rng.randint(1, target - 1), target + 2]
    rng.shuffle(targets)
    advances = [1] * (target - 1) + [1, 1, 1]
    progress = ex.Progress()

    # One more waiter for `target` gives up (it is cancelled) before the first advance: the others
    # are still woken.
    woke, advanced_at, gave_up = await wait_for_targets(
        ex, wake_watch, loop_breaker, progress, targets, advances, gives_up=target
    )

    assert_woke_on_time(targets, advances, woke, advanced_at, gave_up)


@pytest.mark.task(3)
async def test_a_waiter_waits_for_its_target_without_a_time_limit_of_its_own(
    ex, wake_watch, loop_breaker, rng
):
    # Its own timers are judged by what they do as the count reaches the target (kata.testing.
    # own_timers): a time limit of its own (`asyncio.timeout(30)` around the wait) gives up on a
    # slow count, a poll of the count never sees it reached; a timer that only logs is fine.
    target = rng.randint(1, 3)
    progress = ex.Progress()
    reached = ("the count", "while it was below the target", "the count reached the target")
    async with wake_watch(ex) as wakes, loop_breaker(ex, COUNT_FROZEN):
        with OwnTimersProbe(wakes, "wait_until", waiting_for=reached) as timers:
            task = asyncio.create_task(progress.wait_until(target))
            if target > 1:
                await progress.advance(target - 1)
            await pause_unless_failed(STEP, task)
            await timers.reached_the_end()
            await progress.advance(1)
            await timers.awaited(task, fix=COUNT_POLLED["fix"])


@pytest.mark.task(3)
async def test_a_big_advance_wakes_every_target_it_passes(ex, wake_watch, loop_breaker, rng):
    jump = rng.randint(3, 6)
    targets = [jump - 1, jump, jump + 1]
    advances = [jump, 1]
    progress = ex.Progress()

    woke, advanced_at, gave_up = await wait_for_targets(
        ex, wake_watch, loop_breaker, progress, targets, advances
    )

    assert_woke_on_time(targets, advances, woke, advanced_at, gave_up)
    assert_same(progress.done, jump + 1, f"progress.done after advance({jump}) and advance()")


@pytest.mark.task(3)
async def test_advance_has_done_its_work_when_it_returns(ex, rng, leftovers, loop_breaker):
    # Learner trial AA: advance added to the count and left the wake-up to a task of its own, never
    # awaited; the waiters woke a step later all the same, and every other test passed.
    progress = ex.Progress()
    target = rng.randint(20, 30)
    count = rng.randint(1, 5)
    waiter = None
    try:
        async with loop_breaker(ex, COUNT_FROZEN):  # a wait_until that spins with no await is told so
            waiter = asyncio.create_task(progress.wait_until(target))
            await asyncio.sleep(STEP)  # it is waiting
            before = leftovers.mark()
            await progress.advance(count)
            left = leftovers.at_return(before)
        if left:
            await leftovers.stop(before)
            names = ", ".join(f"{task.name}()" for task in left)
            raise AssertionError(
                f"advance({count}) returned while {'a task' if len(left) == 1 else 'tasks'} it started, "
                f"{names}, {'was' if len(left) == 1 else 'were'} still running, with a task waiting in "
                f"wait_until({target}): advance's work, adding to the count and waking the waiters, "
                "should be done when it returns. Do it in advance itself (`async with self.changed:` "
                "add to the count, then `self.changed.notify_all()`), not in a task of its own, which "
                "runs after advance's caller has moved on, and whose errors nobody sees."
            )
    finally:
        if waiter is not None:
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)


@pytest.mark.task(3)
async def test_a_target_already_reached_returns_at_once(ex, rng):
    progress = ex.Progress()
    count = rng.randint(3, 9)
    await progress.advance(count)

    for target in (0, count - 1, count):
        with frozen_loop_breaker(ex, COUNT_FROZEN):
            async with hang_guard(
                AT_ONCE,
                "18 wait_until: returns < AT_ONCE when the target is already reached",
                f"wait_until({target}) kept waiting although the count was already {count}: check the "
                "count before you wait (`cond.wait_for(lambda: ...)` checks first, then waits)",
            ):
                await progress.wait_until(target)


@pytest.mark.task(3)
async def test_each_progress_counts_and_wakes_only_its_own_waiters(ex, wake_watch, loop_breaker, rng):
    mine, other = ex.Progress(), ex.Progress()
    target = rng.randint(2, 4)
    others = rng.randint(3, 5)  # advances of the other Progress, STEP s apart, while mine's waiters wait
    returned = []

    async def waiter(n):
        await mine.wait_until(target)
        returned.append(n)

    async with wake_watch(ex) as wakes, loop_breaker(ex, COUNT_FROZEN):
        named = {asyncio.create_task(waiter(n)): f"wait_until({target})" for n in range(3)}
        tasks = list(named)
        try:
            started = clock.perf_counter()
            for _ in range(others):
                if await pause_unless_failed(STEP, *tasks):
                    break  # a waiter raised: its error is the verdict (raised below)
                await other.advance()
            await pause_unless_failed(STEP, *tasks)
            quiet_until = clock.perf_counter()
            early = list(returned)
            await mine.advance(target)
            await asyncio.wait(tasks, timeout=GRACE)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            raise result
    story = (
        f"two Progress objects, mine and other: while 3 tasks waited in mine.wait_until({target}), "
        f"other.advance() was called {others} times"
    )
    shared = (
        "The two share what they keep: made in the class body (a Condition, an Event or a dict of "
        "futures under `class Progress:`), it is one for every Progress, and an asyncio object is "
        "bound to the first event loop that waits on it, so a Progress used under a second "
        "asyncio.run fails. Make each Progress's own in __init__: `self.changed = "
        "asyncio.Condition()`, `self.waiters = {}`."
    )
    if early:
        raise AssertionError(
            f"{story}, and {len(early)} of them returned though mine was never advanced. {shared}"
        )
    busiest = wakes.busiest(started, quiet_until)
    moments = busiest[1] if busiest else []
    if margins.over(
        len(moments),
        WOKEN,
        "18 wait_until: wake-ups while another Progress advances < WOKEN",
        unit="wake-ups",
    ):
        who = who_woke(busiest[0], [busiest[0]], named, "wait_until")
        # Woken by other's advances, or by a timer of its own (a sleep or a timeout: it polls).
        timers = alive_between(wakes, started, quiet_until, threads=False)
        if timers:
            raise AssertionError(
                f"{story}, and {who} woke up {len(moments)} times, on a timer of its own "
                f"({timers[0].where()}), whether other advanced or not: it checks the count again and "
                "again (a sleep or a timeout in a loop) instead of sleeping until mine's count changes. "
                f"{COUNT_POLLED['fix']}"
            )
        raise AssertionError(
            f"{story}, and {who} woke up {len(moments)} times: other's advances woke mine's "
            f"waiters, though mine's count never changed. {shared}"
        )
    assert_loop_ran(wakes, started, quiet_until, "wait_until", "while only another Progress advanced")
    if len(returned) < len(tasks):
        raise AssertionError(
            f"{story}; then mine.advance({target}) was called, and only {len(returned)} of the 3 "
            f"waiters returned within {GRACE:.2f} s, though mine's count reached {target}. {NOT_WOKEN}"
        )
    assert_same(mine.done, target, f"mine.done after mine.advance({target})")
    assert_same(other.done, others, f"other.done after other.advance() {others} times")


@pytest.mark.task(3)
async def test_a_cancelled_wait_until_ends_cancelled_with_nothing_left_running(
    ex, rng, loop_breaker, leftovers
):
    # A caller that gives up waiting (a timeout around wait_until) cancels it: it ends cancelled,
    # with nothing it started still running. A helper task waited for with `asyncio.wait`, with no
    # cleanup, is left waiting on the Progress when the cancel comes during the wait.
    progress = ex.Progress()
    count = rng.randint(0, 3)
    if count:
        await progress.advance(count)
    target = count + rng.randint(2, 4)

    async with loop_breaker(ex, COUNT_FROZEN):
        before = leftovers.mark()
        calling = Run(progress.wait_until(target), snapshot=lambda: leftovers.at_return(before))
        await let_the_code_run(MOMENT)
        calling.cancel(f"while it waited, the count at {count} and its target {target}")
        finished = await calling.finish(HANG)
    left = None
    if not finished:
        await calling.stop()
    if calling.left:
        await leftovers.stop(before)
        stopping = [f"{task.name}()" for task in calling.left if task.cancelling]
        left = LeftRunning(
            "task", stopping, [f"{task.name}()" for task in calling.left if not task.cancelling]
        )
    assert_ended_cancelled(
        calling,
        f"wait_until({target})",
        unreached=f"though the count was {count}, short of its target {target}, and nothing advanced it",
        started="the tasks it started",
        left=left,
        stop_advice="Whatever way wait_until ends, a cancel from its caller included, a task it started "
        "must be cancelled and have stopped. Wait in wait_until itself, with no task of its own "
        "(`async with cond:` and `await cond.wait_for(...)`); or, awaiting a task with `asyncio.wait`, "
        "cancel it in a `finally:` block and then `await asyncio.gather(task, return_exceptions=True)`.",
    )
