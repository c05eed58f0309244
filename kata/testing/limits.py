"""Time limits the learner's code made up: a timer it set to give up waiting.

A docstring that gives no time limit asks for the answer however long it takes. Code that waits
with `asyncio.wait(tasks, timeout=1.5)`, `asyncio.wait_for(queue.join(), 2)`, `asyncio.timeout(..)`
or a `loop.call_later(...)` that cancels passes every test that ends before its limit, and no
test should wait past it (every learner would pay that wait on every check). So the limit is
observed, not reached: kata.testing.waiting.WakeWatch, given the learner's file, notes each timer
whose scheduling stack goes from that file straight into asyncio (the fakes' and the tests' own
timers go through the kata's files, and `asyncio.sleep` is a pause, not a limit). In judge mode the
sandbox notes them on its loop and reports them: the learner's process's word, which can only
fail a test.

    async with wake_watch(ex) as wakes:
        result = await ex.first_response(fetch, mirrors)
    ...  # the test's own checks first
    assert_no_limit_of_its_own(wakes, lambda limit: f"first_response set {limit.said()}: ...")
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from kata import where
from kata.testing import clock, margins

# Shorter timers are not limits these tests could let pass: a run of the kata's tests waits
# longer than that, so the limit is reached and the answer fails anyway, or they poll (a mistake
# of its own, with its own words).
MIN_LIMIT = 0.2
MAX_REPORTED = 50
# The pauses a watch keeps (its latest; a poll makes one a period) and the sandbox reports: enough
# for a poll every 3 ms through the longest stretch a test looks at (kata.testing.cancelling).
MAX_PAUSES = 200
# The timed waits of the code's own threads whose time ran out that a watch keeps, the latest
# (kata.testing.sleep_watch.ThreadTimers.ran_out), and the sandbox reports.
RAN_OUT_IN_THREADS = 8

# How the learner wrote it, by the asyncio function their line called (the outermost asyncio
# frame under it); `{}` is the delay.
_HOW = {
    "wait": "asyncio.wait(..., timeout={})",
    "wait_for": "asyncio.wait_for(..., {})",
    "as_completed": "asyncio.as_completed(..., timeout={})",
    "call_later": "loop.call_later({}, ...)",
}
_PAUSES = {"sleep"}  # asyncio.sleep (a library's too): a pause, not a limit (but a timer all the same)


Site = tuple[str, int, str]  # a place in the learner's code: file, line, function


# How far below what the code wrote a timer's delay, as read when the loop schedules it, may be
# (the time the code took from writing it to scheduling it), as a share of it.
LAG = 0.002


def shown_seconds(delay: float) -> str:
    """A timer's delay as the code wrote it (`5`, not `4.999`): read when the loop schedules the
    timer, it is less by the time the code took to get there (an `asyncio.timeout(5)` made, then
    entered through an AsyncExitStack: a loaded CI run read 4.999, and the message named a limit
    the code never wrote). The roundest number within LAG of it; a poll's 0.005 stays 0.005."""
    for digits in range(3):
        rounded = round(delay, digits)
        if rounded > 0 and abs(delay - rounded) <= rounded * LAG:
            return f"{rounded:g}"
    return f"{round(delay, 3):g}"


def site_of(frame: FrameType) -> Site:
    return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name


# A timer set a little after the moment a test gave a time limit is that limit all the same.
GIVEN_ROOM = 0.25
# A wait made of PIECED timers or more, each set as the one before ran out (a loop of short
# sleeps until a clock says enough), is no one wait: each piece adds the loop's lateness, and on a
# busy machine a clock-ended loop asks for fewer pieces, which can add up to the time the docstring
# gives (18's pause by 10 ms sleeps until `interval + 0.03`: 15 sleeps of 0.01 s, asked 0.15 s,
# took 0.18 s, and passed in a CI at a load of 24). Such a run lasts a wait only if it took no
# more than PIECED_ROOM beyond what it asked, its last timer's own lateness aside (one timer's).
PIECED = 3
PIECED_ROOM = 0.01
# A sleep raced against the work as its time limit lasts that limit, or the time left of it.
RACED_ROOM = 0.05


@dataclass(eq=False)
class Limit:
    delay: float  # seconds from when it was set
    how: str  # as the learner wrote it, e.g. "asyncio.wait(..., timeout=1.5)"
    file: str  # the learner's file's name alone
    line: int
    function: str
    at: float = 0.0  # kata clock, when it was set
    fired: bool = False
    cancelled: bool = False
    handle: asyncio.TimerHandle | None = None
    pause: bool = False  # asyncio.sleep: a pause, not a limit (`assert_no_limit_of_its_own`)
    ended: float | None = None  # kata clock, when it fired or was cancelled (None: still pending)
    thread: bool = False  # work a thread does for the learner's file (kata.testing.waiting), not a timer
    call_later: bool = False  # set by asyncio's loop.call_later: a callback the loop runs later (keeps_time)
    task: int = 0  # which watched task set it (an id; 0: none known): to tell one task's waits in turn

    @classmethod
    def set_by(cls, site: Site, below: FrameType | None, delay: float) -> Limit:
        """The timer the learner's code at `site` set by calling asyncio's `below` (None: loop.call_at
        itself), or started a task that did (`asyncio.create_task(asyncio.sleep(3))`): a limit, or
        a pause (asyncio.sleep)."""
        called = below.f_code.co_name if below is not None else "call_at"
        seconds = shown_seconds(delay)
        file, line, function = site
        pause = called in _PAUSES
        library = None  # a library's call other than asyncio's (anyio.fail_after)
        call_later = False
        if below is not None and not below.f_code.co_filename.startswith(where.ASYNCIO_FOLDER):
            library = str(below.f_globals.get("__name__", "")).split(".")[0] or "a library"
        if library is not None:
            how = f"{library}.{called}({seconds})"
        elif pause:
            how = f"asyncio.sleep({seconds})"
        elif below is not None and os.path.basename(below.f_code.co_filename) == "timeouts.py":
            how = f"asyncio.timeout({seconds})"
        elif called == "call_at":
            how = "loop.call_at(...)"
        else:
            how = _HOW.get(called, f"asyncio.{called}(...)").format(seconds)
            call_later = called == "call_later"
        at = clock.perf_counter()
        return cls(delay, how, os.path.basename(file), line, function, at, pause=pause, call_later=call_later)

    def said(self) -> str:
        """`a time limit of 1.50 s of its own (asyncio.wait(..., timeout=1.5) at 14_as_completed.py:39)`"""
        if not self.line:  # noted by the judge (kata.judge.lent_timers)
            return f"a time limit of {self.delay:.2f} s of its own ({self.where()})"
        return f"a time limit of {self.delay:.2f} s of its own ({self.how} at {self.file}:{self.line})"

    def where(self) -> str:
        """`asyncio.sleep(3) at 05_errors.py:44, in fetch_all_or_nothing`; a timer the judge noted
        in a call it served for the learner's process has no line (kata.judge.lent_timers)."""
        if not self.line:
            return f"{self.how}, passed by {self.file} to a request on the session it was given"
        return f"{self.how} at {self.file}:{self.line}, in {self.function}"

    def given(self, up_to: float | None, pauses: bool = False) -> bool:
        """Whether it is the time limit a docstring gives (`up_to` s, None: none is given): a limit
        of no longer than that, with room for the time its setting took. A sleep is not, unless
        the docstring's rule is made of them (`pauses`: 21's rate limiter sleeps until a place frees)
        or it lasts that limit itself (a race of the work against `asyncio.sleep(limit)`: 11); nor
        is a `call_later`, unless it lasts the limit."""
        if up_to is None:
            return False
        if self.keeps_time and not (pauses and self.pause):
            # A sleep or a call_later of its own is that limit only when it lasts it (a race of the
            # work against `asyncio.sleep(limit)`, `call_later(limit, task.cancel)`): a shorter one
            # is a heartbeat's or a poll's, which the probe judges (it spared a poll by call_later).
            return up_to - RACED_ROOM <= self.delay <= up_to + RACED_ROOM
        return self.delay <= up_to + GIVEN_ROOM

    @property
    def keeps_time(self) -> bool:
        """Whether it is how a heartbeat or a progress log keeps its time: a pause (asyncio.sleep) or
        a callback the loop runs later (`loop.call_later`). A wait's timeout (`asyncio.wait(...,
        timeout=0.05)`, `wait_for`, `asyncio.timeout`) limits a wait for something: in a loop, it is
        how a poll checks on it again and again (kata.testing.waiting.Watched.timed)."""
        return self.pause or self.call_later

    def alive(self, since: float, until: float) -> bool:
        """Whether it was set before `until` and still pending after `since` (kata clock)."""
        return self.at < until and (self.ended is None or self.ended > since)

    def report(self) -> tuple:
        cancelled = self.cancelled or (self.handle is not None and self.handle.cancelled() and not self.fired)
        fields = (self.delay, self.how, self.file, self.line, self.function, self.at, self.fired, cancelled)
        return (*fields, self.pause, self.ended, self.thread, self.call_later, self.task)


# Two timers of one place in the code, the second set within this long of the first's end: one chain.
CHAINED = 0.001


def chained(limits: list[Limit]) -> list[Limit]:
    """`limits` with each chain of timers set at one place, each set as the one before it ended (a
    poll by `loop.call_later(0, check)`: thousands) as one timer, pending from the first's setting
    to the last's end, with the longest delay among them: pending where one of them was, no longer."""
    merged: list[Limit] = []
    last: dict[tuple, Limit] = {}
    for limit in limits:
        site = (limit.how, limit.file, limit.line, limit.function, limit.thread)
        before = last.get(site)
        # Set as the one before it ended, not while it was pending: timers that overlap (a
        # timeout per call of a batch, at one line) are each their own (which of them ran out
        # is what a test reads: 11's batch lost its one that ran out, merged with the others).
        if before is not None and before.ended is not None and 0 <= limit.at - before.ended <= CHAINED:
            before.delay = max(before.delay, limit.delay)
            before.ended, before.fired, before.cancelled = limit.ended, limit.fired, limit.cancelled
            before.handle = limit.handle
            continue
        copy = dataclasses.replace(limit)
        merged.append(copy)
        last[site] = copy
    return merged


def reported(watch: Any) -> list[tuple]:
    """A WakeWatch's limits (the first and the latest) and pauses (the latest) as plain values,
    for the sandbox's report (judge mode), each chain of timers as one (`chained`): a poll by
    `loop.call_later(0, check)` sets thousands, and a test asks which were pending in its stretch,
    as it does in one process, where it sees them all."""
    timers = getattr(watch, "limits", [])
    limits = chained([limit for limit in timers if not limit.pause])
    if len(limits) > MAX_REPORTED:
        limits = limits[: MAX_REPORTED // 2] + limits[-(MAX_REPORTED - MAX_REPORTED // 2) :]
    pending = [limit for limit in timers if limit.pause and limit.ended is None][: MAX_PAUSES // 2]
    ran_out = [limit for limit in timers if ran_out_in_a_thread(limit)]
    ended = _ended_pauses(timers)
    kept = [*limits, *pending, *ended[-MAX_PAUSES // 2 :], *ran_out[-RAN_OUT_IN_THREADS:]]
    return [limit.report() for limit in kept]


def ran_out_in_a_thread(limit: Limit) -> bool:
    """Whether `limit` is a thread's timer that ran out: a timed wait of a thread of the code's own
    (a WakeWatch notes them as it ends), a `threading.Timer` the file started, or a thread handed
    `time.sleep` alone; not a thread's other work (which is never `fired`)."""
    return limit.thread and limit.fired


def from_report(report: Any) -> list[Limit]:
    """The sandbox's report as Limits (bounded; nonsense dropped: it is the learner's process)."""
    limits = []
    for entry in report[: MAX_REPORTED + MAX_PAUSES + RAN_OUT_IN_THREADS] if isinstance(report, list) else []:
        if not (isinstance(entry, tuple | list) and len(entry) == 13):
            continue
        delay, how, file, line, function, at, fired, cancelled, pause, ended, thread, call_later, task = entry
        numbers = type(delay) is float and type(at) is float and type(line) is int and type(task) is int
        texts = all(type(t) is str for t in (how, file, function))
        flags = all(type(flag) is bool for flag in (fired, cancelled, pause, thread, call_later))
        if numbers and texts and flags and (ended is None or type(ended) is float):
            limit = Limit(delay, how[:200], file[:200], line, function[:100], at, fired, cancelled)
            limit.pause, limit.ended, limit.thread, limit.call_later = pause, ended, thread, call_later
            limit.task = task
            limits.append(limit)
    return limits


def alive_between(
    watch: Any, since: float, until: float, *, threads: bool = True, only_threads: bool = False
) -> list[Limit]:
    """The timers the learner's code set (pauses included) that were pending at some moment
    between `since` and `until` (kata clock), and with `threads` the work threads did for it then,
    as `watch` (a WakeWatch given their file, or the sandbox's) saw them: while nothing changes,
    code that waits on what it waits for needs none. `only_threads`: the threads' work alone
    (where the timers are judged by what they do: kata.testing.own_timers)."""
    timers = getattr(watch, "limits", [])
    return [
        timer
        for timer in timers
        if timer.alive(since, until) and (threads or not timer.thread) and (timer.thread or not only_threads)
    ]


def assert_no_limit_of_its_own(watch: Any, explain: Callable[[Limit], str]) -> None:
    """Fail with `explain(limit)` for the first time limit of MIN_LIMIT s or more the learner's
    code set while `watch` was on (a WakeWatch given their file, or the sandbox's)."""
    limits = [limit for limit in getattr(watch, "limits", []) if not limit.pause and limit.delay >= MIN_LIMIT]
    if limits:
        raise AssertionError(explain(limits[0]))


def timer_setter(caller: FrameType | None) -> FrameType | None:
    """Who set a timer: the first frame outside asyncio from `caller` (the caller of `loop.call_at`)
    outwards (asyncio.sleep, asyncio.timeout and call_later are asyncio's own)."""
    while caller is not None and caller.f_code.co_filename.startswith(where.ASYNCIO_FOLDER):
        caller = caller.f_back
    return caller


# A timer's length is what the code asked for, to the microsecond, whatever the load: one that gave
# up with a timer longer than the docstring's limit by more than this added time to it (a learner
# trial's `asyncio.timeout(limit + 0.05)` passed every test of the time alone in 11).
ADDED_ROOM = 0.002


def assert_no_time_added(
    watch: Any,
    limit: float,
    function: str,
    fix: str,
    check: str,
    *,
    given: str = "a limit",
    so: str = "so an answer that comes in between is kept though it is slower than the limit",
    once: bool = True,
    from_the_start: bool = True,
    heartbeats: bool = True,
) -> None:
    """Fail if the learner's code (its timers as `watch` saw them) waited on a timer of its own
    that ran out and was longer than `limit`, the time its docstring gives it (`given`: a limit, an
    interval; `so`: what that costs), or, with `once` (a limit, which runs out once), on a timer it
    set once the limit's own had run out (a second chance). Those that also keep a heartbeat's time
    (a sleep, a `loop.call_later`, a thread's `threading.Timer` or `time.sleep`) count only when no
    timer of the limit itself ran out; a wait's timeout (`asyncio.timeout`, `wait_for`,
    `asyncio.wait(..., timeout=...)`, a ClientTimeout) longer than the limit whatever else ran out.
    `fix` says how to pass the limit on; `check` names the second case, a failure on time
    (margins.outlasted). With `from_the_start` (a limit, a reminder's delay: not an interval, which
    counts from the end of a job), a timer that ran out in the task that then set the timer of the
    given time, before it set it, started that clock late: time added at the start.
    `heartbeats=False`: no timer is a heartbeat's, where the time given is the whole lesson (04's
    delays and interval: each timer that ran out is one of them)."""
    ran_out = [t for t in getattr(watch, "limits", []) if t.fired]
    the_limit = [t for t in ran_out if limit - RACED_ROOM <= t.delay <= limit + ADDED_ROOM]
    let_off = heartbeats and bool(the_limit)  # a heartbeat's kind of timer, beside the limit's own
    longer = [t for t in ran_out if t.delay > limit + ADDED_ROOM and not (t.keeps_time and let_off)]
    if longer:
        raise AssertionError(
            f"{function} was given {given} of {limit:.2f} s, and waited on a longer timer of its own "
            f"that ran out: {longer[0].where()} ({longer[0].delay - limit:.2f} s added), {so}. {fix}"
        )
    before = _waited_before(ran_out, the_limit) if from_the_start else []
    if before:
        first, then = before[0]
        raise AssertionError(
            f"{function} was given {given} of {limit:.2f} s, and before it set that timer ({then.where()}) "
            f"it waited {first.delay:.2f} s on another of its own that ran out ({first.where()}): the "
            f"time is counted from the start, {so}. {fix}"
        )
    up = min((t.ended for t in the_limit if t.ended is not None), default=None)
    # A thread's timed waits go on beside the loop (a heartbeat thread's sleeps may run out while
    # the code stops its call, and until the test's watch ends): the loop's timers alone.
    after = [
        t for t in ran_out if once and up is not None and t.at >= up and t.ended is not None and not t.thread
    ]
    if after:
        # Only a loop kept from its core for that timer's length does it to correct code (a
        # heartbeat's sleep, set as the limit ran out): a failure on time, run again.
        margins.outlasted(check)
        raise AssertionError(
            f"{function}'s limit of {limit:.2f} s ran out ({the_limit[0].where()}), and it then waited "
            f"{after[0].delay:.2f} s more on {after[0].where()}, before giving up: an answer that comes "
            "in that time is kept though it is slower than the limit. When the limit is up, stop "
            "waiting at once, with no second chance."
        )


def _waited_before(ran_out: list[Limit], the_limit: list[Limit]) -> list[tuple[Limit, Limit]]:
    """Each loop timer that ran out before a timer of the given time was set in the same task
    (known: `task`), with that timer: a wait the code made before it started the clock. Correct
    code sets the clock in its first step, before any timer of its own can have run out."""
    found = []
    for then in the_limit:
        if then.thread or not then.task:
            continue
        for first in ran_out:
            same_task = first.task == then.task and not first.thread and first is not then
            if same_task and first.ended is not None and first.ended <= then.at and first.delay > ADDED_ROOM:
                found.append((first, then))
    return found


def waits_in_turn(watch: Any, since: float, until: float) -> list[list[Limit]]:
    """The timers of the learner's code that ran out after `since` and by `until` (kata clock: a
    gap between two calls, say), as the waits each of its tasks made one after the
    other: per task, the run of its timers, each set once the one before it had ended, that lasts
    longest by what they asked for (a thread it set sleeping, `asyncio.to_thread(time.sleep, x)`,
    among them); a thread's own timed wait, or a timer set outside any task, a run of its own.
    A wait in two steps (`sleep(backoff)`, then `sleep(0.04)`) is one run of both; a timer that
    only logs, set while the wait was on, is not in its run; a heartbeat task's run is its own."""
    timers = getattr(watch, "limits", [])
    # Whenever set: a timer pending as the gap began that ran out in it (a poll of the call before
    # it, whose look comes a step late, in one process as across two, where the loop learns of
    # the call's end later) held the wait back as much as one set in it.
    ran_out = [t for t in timers if t.fired and t.ended is not None and since < t.ended <= until]
    by_task: dict[int, list[Limit]] = {}
    runs: list[list[Limit]] = []
    for timer in ran_out:
        if not timer.task:
            runs.append([timer])
        else:
            by_task.setdefault(timer.task, []).append(timer)
    return runs + [_longest_run(of_one_task) for of_one_task in by_task.values()]


def _longest_run(timers: list[Limit]) -> list[Limit]:
    """Of one task's timers, those one after another (each set once the one before had ended)
    that add up to the longest time asked for (weighted interval scheduling)."""
    ordered = sorted(timers, key=lambda t: t.ended or 0.0)
    best: list[tuple[float, list[Limit]]] = []  # best[i]: the longest run ending with ordered[i] or before
    for i, timer in enumerate(ordered):
        before = [j for j in range(i) if (ordered[j].ended or 0.0) <= timer.at]
        earlier = best[before[-1]] if before else (0.0, [])
        with_it = (earlier[0] + timer.delay, [*earlier[1], timer])
        without = best[i - 1] if i else (0.0, [])
        best.append(with_it if with_it[0] > without[0] else without)
    return best[-1][1] if best else []


def _ended_pauses(timers: list[Limit]) -> list[Limit]:
    return [t for t in timers if t.pause and t.ended is not None and not ran_out_in_a_thread(t)]


def pauses_in_full_from(timers: list[Limit]) -> float:
    """From when (kata clock) `timers` hold every pause that ended, in one process as in the
    sandbox's report (`reported`: the latest MAX_PAUSES // 2 of them): a check of the waits in a
    stretch before that would read a part of them in judge mode (a heartbeat's 10 ms sleeps
    beside 19's three retries pushed a wait out of it), so it reads none, in both modes."""
    ended = _ended_pauses(timers)
    return ended[-(MAX_PAUSES // 2)].at if len(ended) >= MAX_PAUSES // 2 else float("-inf")


def _as_asked(run: list[Limit]) -> bool:
    """Whether every timer of `run` is noted with the delay the code asked for, exactly: a sleep
    (a thread's too), a `call_later`, `asyncio.wait`'s timeout and `wait_for`'s (its `timeout`
    read where it set its timer, on every Python: kata.testing.waiting._asked_for). One set by
    `loop.call_at` otherwise (`asyncio.timeout`, `timeout_at`, anyio's scopes) is noted as the
    time left until it is due, read as it is set: on a busy machine, later than the code read
    its clock, so shorter than it asked for."""
    return all(
        t.pause
        or t.call_later
        or t.thread
        or t.how.startswith("asyncio.wait(")
        or t.how.startswith("asyncio.wait_for(")
        for t in run
    )


def _lasts(run: list[Limit], want: float) -> bool:
    """Whether `run` waited `want` s, as exactly as it is noted: to ADDED_ROOM, or, noted as the
    time left when set (`_as_asked`), up to RACED_ROOM less."""
    low = want - (ADDED_ROOM if _as_asked(run) else RACED_ROOM)
    return low <= run_length(run) <= want + ADDED_ROOM


def _took(run: list[Limit]) -> float:
    """The seconds from when the run's first timer was set until its last ran out (kata clock)."""
    return (run[-1].ended or run[-1].at) - run[0].at


def _added_in_pieces(run: list[Limit]) -> float:
    """What a run took beyond what it asked for (`run_length`), but its last timer's lateness: the
    loop's delays between its pieces (PIECED), which one timer would not have had."""
    last = run[-1]
    last_late = max(0.0, (last.ended or last.at) - (last.at + last.delay))
    return _took(run) - run_length(run) - last_late


def run_length(run: list[Limit]) -> float:
    """The seconds a run of timers asked for, one after the other."""
    return sum(t.delay for t in run)


def run_said(run: list[Limit]) -> str:
    """`asyncio.sleep(0.05) at 22_capstone.py:42, in fetch_links_retrying, then asyncio.sleep(0.04)
    at ...`; a timer of one place set again and again, once (`..., 17 times in turn`)."""
    said: list[tuple[str, int]] = []
    for timer in run:
        where_it_is = timer.where()
        if said and said[-1][0] == where_it_is:
            said[-1] = (where_it_is, said[-1][1] + 1)
        else:
            said.append((where_it_is, 1))
    return ", then ".join(w if n == 1 else f"{w}, {n} times in turn" for w, n in said)


def assert_waited_exactly(
    watch: Any, since: float, until: float, want: float, say: Callable[[float, str], str]
) -> None:
    """Fail with `say(seconds, timers)` (what it waited, and on which) unless the learner's code,
    between `since` and `until` (a wait the docstring gives as `want` s), waited exactly that on
    timers of its own, one after another in one task (`waits_in_turn`), to ADDED_ROOM: a run of
    them longer than that is time added, whatever keeps it (a `call_later` at 1.2 times, a second
    sleep after the first), unless another run lasts `want` (`_lasts`: the wait itself; the longer
    one is a heartbeat's, on a busy machine); the run that ended last, noted as asked
    (`_as_asked`) and shorter, took time away (a failure on time where its timer, set late, was
    aimed at the wait's end: a deadline). Code that waits on no timer of its own (a clock it
    reads) is left to the test's bounds on the gap."""
    if since < pauses_in_full_from(getattr(watch, "limits", [])):
        return  # the report of a watch in another process holds the latest pauses alone
    runs = [run for run in waits_in_turn(watch, since, until) if run]
    if not runs or any(_lasts(run, want) and len(run) < PIECED for run in runs):
        return
    pieced = [run for run in runs if _lasts(run, want)]
    for run in pieced:
        if _added_in_pieces(run) > PIECED_ROOM:
            raise AssertionError(say(_took(run), run_said(run)))
    if pieced:
        return
    # The run that ended last, as the stretch ended, is the wait's (a heartbeat's or another
    # task's ended before it): noted as asked and shorter, it took time away.
    last = max(runs, key=lambda r: r[-1].ended or 0.0)
    shorter = _as_asked(last) and run_length(last) < want - ADDED_ROOM
    longer = [run for run in runs if run_length(run) > want + ADDED_ROOM]
    if longer:
        # Named: the longer run begun first once the gap began (the wait's, begun as the call
        # before it ended; a heartbeat's, or another task's waits, begin somewhere inside it).
        run = min(longer, key=lambda r: r[0].at)
        raise AssertionError(say(run_length(run), run_said(run)))
    if shorter:
        if last[-1].at + last[-1].delay >= since + want - ADDED_ROOM:
            # Aimed at the wait's end all the same: set late, by what it asked less (code that
            # sleeps to a deadline, `sleep(start + delay - loop.time())`, whose loop a busy machine
            # held 9 ms before it set its timer: an ok variant of 04, failed so in a CI). A failure
            # on time: run again, a timer short by design comes short again.
            margins.cut_off(f"a wait of {want:.3f} s, its timer set late and aimed at its end")
        raise AssertionError(say(run_length(last), run_said(last)))


def assert_each_wait_exact(
    watch: Any,
    calls: Iterable[Any],
    want: float | Callable[[int], float],
    say: Callable[[float, str, int], str],
) -> None:
    """`assert_waited_exactly` between each two calls in turn: from the end of the earlier to the
    start of the later (a check and the next, a job's end and the next job, a try and the next),
    where both are known. The n-th wait (from 0) is `want(n)` s, or `want` for every one, and a
    failure says `say(seconds, timers, n)`."""
    for n, (earlier, later) in enumerate(itertools.pairwise(calls)):
        if earlier.end is None or later.start is None:
            continue
        wanted = want(n) if callable(want) else want

        def said(seconds: float, timers: str, n: int = n) -> str:
            return say(seconds, timers, n)

        assert_waited_exactly(watch, earlier.end, later.start, wanted, said)
