"""Exercise 12: a cancelled task cleans up, says so, stops for real, and shielded work finishes."""

import asyncio
import itertools
from dataclasses import dataclass

import pytest

from kata.testing import FakeService, assert_call_count, assert_same, clock, describe, margins, stopwatch
from kata.testing.cancelling import WAIT, Run, assert_ended_after_the_cancel, assert_ended_cancelled, settle
from kata.testing.errors import Aborted
from kata.testing.letting_run import let_the_code_run
from kata.testing.own_timers import OwnTimersProbe

DELAY = 0.02  # acquiring and releasing a fake connection each take this long
# An acquire or a release a test cancels the code in goes on until the cancellation has reached it,
# or the code's call has ended without it (a shielded acquire), at most this long: in judge mode the
# cancellation crosses from the other process, and on a busy machine it came after a DELAY-long
# acquire had ended, so code that swallows a cancelled acquire passed (self-check, 2026-12-04).
HOLD = 1.0
JOB = 0.5  # a job long enough to be cancelled while it runs
SAVE = 0.2  # a save long enough to be cancelled halfway
STEP = 0.005
LATE = 0.3  # how long after a timeout's limit the run may end (scheduling noise is < 0.05 s)

# Here the learner catches the CancelledError to tidy up and report: what to do instead of ending
# without it.
RAISE_IT_AGAIN = (
    "If you catch asyncio.CancelledError (or BaseException, or use a bare `except:`), `raise` it again "
    "once you have tidied up (a bare `raise` in the except block); and never `return` from a `finally:` "
    "block, which throws away whatever was on its way out."
)


@dataclass(frozen=True)
class Moment:
    """Where a test cancels the learner's function: `during` says when, `missed` what it
    skipped when it ended before that moment came."""

    during: str
    missed: str


JOB_RUNS = Moment("while the job ran", "without waiting for the job")
ACQUIRING = Moment(
    "while `await pool.acquire()` was waiting for a connection", "without calling `await pool.acquire()`"
)
RELEASING = Moment(
    "while `await pool.release(conn)` was giving the connection back",
    "before `await pool.release(conn)` had begun to give the connection back",
)
SAVING = Moment("while the save ran", "without waiting for the save")


async def wait_until(condition, seconds=WAIT):
    """True once condition() holds, False if it still does not after `seconds` (by the clock: a
    sleep of STEP may end at once where asyncio's clock moves in 15.6 ms ticks, as on Windows)."""
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(STEP)
    return condition()


async def cancel_midway(run, what, moment, longest):
    """Wait until `run` has ended; a fake's hook cancels it the moment the work is under way.

    A learner's own error ends the test as it is (a stub: "not written yet").
    """
    if not await run.finish(longest):
        await run.stop()
    assert_ended_after_the_cancel(run, what, unreached=moment.missed)


# Task 1 -------------------------------------------------------------------------------


class FakeConnection:
    """A stand-in for a database connection: only its number matters."""

    def __init__(self, number):
        self.number = number

    def __repr__(self):
        return f"<connection #{self.number}>"


class FakePool:
    """Lends out fake connections; each step is written to `log`.

    `on_acquire` and `on_release`, when set, are called the moment an acquire or a release
    begins. As in a real pool, a connection given back is back at once: a cancellation during
    the rest of `release` cannot undo it, and a cancelled `acquire` lends nothing.
    """

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ("acquire", "release")

    def __init__(self, rng):
        self.log = []
        self.lent = []
        self.refused = []  # what release() was given that the pool had not lent out
        self.busy = 0  # acquires and releases under way
        self.on_acquire = self.on_release = None
        self.held_for = None  # the task of the code's call a hook cancels: see HOLD
        self.cancel_late = False  # a step held for a cancellation that had not come HOLD s later
        self.probe = None  # kata.testing.own_timers: each step, its delay over, waits for it
        self.release_error = None  # when set, every release raises it after DELAY: the connection is not back
        self.failed_releases = []  # the connections whose release raised release_error
        self._numbers = iter(rng.sample(range(100, 1000), 10))

    async def _take_time(self, hooked):
        """A step's own time: DELAY; where a hook cancels the code, until the cancellation arrives
        here (a CancelledError out of this await) or the code's call has ended, at most HOLD s."""
        await asyncio.sleep(DELAY)
        if self.probe is not None:
            await self.probe.reached_the_end()
        if hooked and self.held_for is not None and not self.held_for.done():
            _, pending = await asyncio.wait({self.held_for}, timeout=HOLD)
            self.cancel_late = self.cancel_late or bool(pending)

    async def acquire(self):
        self.busy += 1
        try:
            if self.on_acquire is not None:
                self.on_acquire()
            await self._take_time(self.on_acquire is not None)
            conn = FakeConnection(next(self._numbers))
            self.lent.append(conn)
            self.log.append(f"acquire #{conn.number}")
            return conn
        finally:
            self.busy -= 1

    async def release(self, conn):
        if not any(conn is lent for lent in self.lent):
            self.refused.append(conn)
            raise AssertionError(
                f"pool.release() was given {describe(conn)}, which the pool has not lent out (never "
                "acquired, or already released): release the very connection that "
                "`await pool.acquire()` returned, once."
            )
        if self.release_error is not None:
            await asyncio.sleep(DELAY)
            self.failed_releases.append(conn)
            raise self.release_error
        self.lent = [lent for lent in self.lent if lent is not conn]
        self.log.append(f"release #{conn.number}")
        self.busy += 1
        try:
            if self.on_release is not None:
                self.on_release()
            await self._take_time(self.on_release is not None)
        finally:
            self.busy -= 1


class FakeJob:
    """A job that uses the connection it is given for `delay` seconds, then returns or raises.

    `on_start`, when set, is called the moment the job starts.
    """

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ()

    def __init__(self, pool, delay, value=None, error=None):
        self.pool, self.delay, self.value, self.error = pool, delay, value, error
        self.on_start = None
        self.probe = None  # kata.testing.own_timers: the job, its delay over, waits for it
        self.name, self.calls = "job", []

    async def __call__(self, conn):
        if type(conn) is not FakeConnection:
            raise AssertionError(
                f"job should be given the connection that `await pool.acquire()` returned, "
                f"found {describe(conn)}"
            )
        self.pool.log.append(f"job uses #{conn.number}")
        if self.on_start is not None:
            self.on_start()
        await asyncio.sleep(self.delay)
        if self.probe is not None:
            await self.probe.reached_the_end()
        if self.error is not None:
            raise self.error
        return self.value


def assert_steps(pool, expected, why):
    if pool.log != expected:
        raise AssertionError(
            f"the steps should be: {', '.join(expected)}; found: {', '.join(pool.log) or 'nothing'}. {why}"
        )


RELEASED_LATE = (
    "run_job {ended} before the connection was back: the release ran only afterwards, as a task "
    "nobody waited for (`asyncio.ensure_future(pool.release(conn))` or `create_task` in the "
    "`finally:` block). The `finally:` block is the right place; the missing piece is the `await`: "
    "write `await pool.release(conn)` there, so that run_job ends only once the connection is back."
)


async def assert_released_by_return(pool, expected, ended, why):
    """assert_steps, on the steps as they were when run_job ended; when the release came only
    after it ended (started, not awaited), say that instead."""
    at_return = list(pool.log)
    if at_return == expected:
        return
    # A release left to run as a task of its own reaches the pool only after run_job has ended
    # (in judge mode, after a crossing): correct code never comes here, so the wait costs it nothing.
    await settle()
    await wait_until(lambda: len(pool.log) >= len(expected) and pool.busy == 0, 0.5)
    if at_return == expected[:-1] and pool.log == expected:
        raise AssertionError(RELEASED_LATE.format(ended=ended))
    pool.log = at_return
    assert_steps(pool, expected, why)


def conn_number(pool):
    """The number of the connection the pool lent first (the log's first entry)."""
    return pool.log[0].removeprefix("acquire #") if pool.log else "?"


@pytest.mark.task(1)
async def test_returns_what_the_job_returned_and_gives_the_connection_back(ex, rng, wake_watch):
    pool = FakePool(rng)
    value = {"rows": rng.randrange(1000)}
    job = FakeJob(pool, 0.05, value=value)

    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "run_job", job) as timers:
            job.probe = timers
            result = await timers.awaited(asyncio.create_task(ex.run_job(pool, job)), value, fix=AWAIT_IT)

    number = conn_number(pool)
    await assert_released_by_return(
        pool,
        [f"acquire #{number}", f"job uses #{number}", f"release #{number}"],
        f"returned {describe(result)}",
        "Acquire, run the job with that connection, then `await pool.release(conn)`.",
    )
    assert_same(result, value, "run_job's result (what the job returned)")


@pytest.mark.task(1)
async def test_waits_for_the_pool_however_long_it_takes_to_acquire_and_to_release(ex, rng, wake_watch):
    # A pool with no free connection yet makes acquire wait, and a busy one is slow to take a
    # connection back: a time limit of its own on either step (`wait_for(pool.acquire(), 5)`,
    # `wait_for(pool.release(conn), 5)`) gives up on a pool that was only slow, and leaks the
    # connection or raises. No test waits that long, so each step of the pool is held at its end
    # while the code's timers run out (kata.testing.own_timers): a limit gives up, a log does not.
    pool = FakePool(rng)
    value = {"rows": rng.randrange(1000)}
    job = FakeJob(pool, DELAY, value=value)

    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "run_job", pool, named="the pool") as timers:
            pool.probe = timers
            fix = (
                "Await the pool itself, however long it takes: `conn = await pool.acquire()`, and "
                "`await pool.release(conn)` in the `finally:` block."
            )
            result = await timers.awaited(asyncio.create_task(ex.run_job(pool, job)), value, fix=fix)

    number = conn_number(pool)
    await assert_released_by_return(
        pool,
        [f"acquire #{number}", f"job uses #{number}", f"release #{number}"],
        f"returned {describe(result)}",
        "Acquire, run the job with that connection, then `await pool.release(conn)`, each however "
        "long the pool takes: the docstring gives no time limit.",
    )
    assert_same(result, value, "run_job's result (what the job returned)")


@pytest.mark.task(1)
async def test_a_failing_job_gives_the_connection_back_and_its_error_goes_on(ex, rng):
    pool = FakePool(rng)
    error = ValueError(f"row {rng.randrange(1000)} is broken")
    job = FakeJob(pool, 0.05, error=error)

    try:
        result = await ex.run_job(pool, job)
    except ValueError as raised:
        if raised is not error:
            raise AssertionError(
                f"run_job should let the job's error {error!r} through, found {raised!r}"
            ) from None
    else:
        raise AssertionError(
            f"the job raised {error!r}, and run_job returned {describe(result)}: let the error reach "
            "the caller. A `finally:` block does not stop it, unless it has a `return`, which throws "
            "the error away: return after the `try` statement, not inside `finally:`."
        )

    number = conn_number(pool)
    await assert_released_by_return(
        pool,
        [f"acquire #{number}", f"job uses #{number}", f"release #{number}"],
        f"raised {error!r}",
        f"The job raised {error!r}: the connection must be given back all the same. "
        "Release it in a `finally:` block, which runs however the job ends.",
    )


@pytest.mark.task(1)
async def test_a_job_that_raises_a_baseexception_gives_the_connection_back_and_it_goes_on(ex, rng):
    # "however the job ends": not only Exception and CancelledError (a red team's answer gave the
    # connection back under `except (Exception, asyncio.CancelledError):`, and passed).
    pool = FakePool(rng)
    error = Aborted(f"job {rng.randrange(1000)} was told to stop")
    job = FakeJob(pool, 0.05, error=error)

    try:
        result = await ex.run_job(pool, job)
    except Aborted as raised:
        if raised is not error:
            raise AssertionError(
                f"run_job should let the job's error {error!r} through, found {raised!r}"
            ) from None
    else:
        raise AssertionError(
            f"the job raised {error!r}, and run_job returned {describe(result)}: let the error reach "
            "the caller, whatever its class (a `finally:` block does that by itself)."
        )

    number = conn_number(pool)
    await assert_released_by_return(
        pool,
        [f"acquire #{number}", f"job uses #{number}", f"release #{number}"],
        f"raised {error!r}",
        f"The job raised {error!r}, a BaseException that is not an Exception (as SystemExit and "
        "KeyboardInterrupt are), and the connection was not given back: `except Exception` (even with "
        "asyncio.CancelledError beside it) does not catch it. The connection goes back however the job "
        "ends: release it in a `finally:` block, which runs for every exception.",
    )


@pytest.mark.task(1)
async def test_a_release_that_fails_raises_its_error(ex, rng):
    # A red team's run_job put `try: ... except Exception: pass` around the release, and passed:
    # no other test's pool ever fails to take a connection back.
    pool = FakePool(rng)
    error = ConnectionError(f"pool {rng.randrange(100, 1000)} lost the connection it was given back")
    pool.release_error = error
    value = {"rows": rng.randrange(1000)}
    job = FakeJob(pool, 0.05, value=value)

    try:
        result = await ex.run_job(pool, job)
    except ConnectionError as raised:
        if raised is error:
            return
        raise AssertionError(
            f"`await pool.release(conn)` raised {error!r}, and run_job raised {raised!r} instead, a "
            "different error: let release's own error go on unchanged, so that code around run_job "
            "sees what really went wrong."
        ) from None
    if not pool.failed_releases:
        raise AssertionError(
            f"the pool's release was set to fail with {error!r}, but run_job returned "
            f"{describe(result)} before `await pool.release(conn)` had answered, so its error could not "
            "reach the caller. Write `await pool.release(conn)` in the `finally:` block, so that run_job "
            "ends only once the pool has answered."
        )
    raise AssertionError(
        f"the job returned, then `await pool.release(conn)` raised {error!r}, and run_job returned "
        f"{describe(result)} as if all was well: the error was swallowed. The connection was not given "
        "back, and nobody hears of it: the caller goes on, while the pool loses a connection each "
        "time. Let release's error go on: no `try`/`except` around `await pool.release(conn)` that "
        "drops it."
    )


async def cancel_run_job(ex, rng, moment):
    """Run run_job, cancel it at `moment` (JOB_RUNS, ACQUIRING or RELEASING); return it and
    the pool once both have settled."""
    pool = FakePool(rng)
    job = FakeJob(pool, DELAY if moment is RELEASING else JOB, value="never")
    run = Run(ex.run_job(pool, job), snapshot=lambda: list(pool.log))  # the steps as it ended
    lent_before = []  # the connections lent before run_job was cancelled

    def cancel():
        if run.moment is None:
            lent_before.extend(pool.lent)
        run.cancel(moment.during)

    if moment is ACQUIRING:
        pool.on_acquire = cancel
    elif moment is RELEASING:
        pool.on_release = cancel
    else:
        job.on_start = cancel
    pool.held_for = run.task
    await cancel_midway(run, "run_job", moment, longest=JOB + HOLD + WAIT)
    if pool.cancel_late:
        margins.cut_off("12 run_job: the cancellation reaches the held acquire or release < HOLD")
        raise AssertionError(
            f"this test cancelled run_job {moment.during}, and the cancellation had not reached it "
            f"{HOLD:.1f} s later, though run_job was still running: a busy machine can delay it "
            "this much, so the test is run again."
        )
    # An acquire or a release that goes on by itself (shielded, or a task of its own) must have
    # ended before the pool is judged.
    await settle()
    await wait_until(lambda: pool.busy == 0)
    return run, pool, lent_before


def assert_connections_back_once(run, pool, lent_before, moment):
    """Every connection lent went back, once; nothing else was given back."""
    if pool.refused:
        given = pool.refused[0]
        if given is None and not pool.log:
            raise AssertionError(
                f"run_job was cancelled {moment.during}, and then called `pool.release(None)`: no "
                "connection had been acquired, so there was nothing to give back. Call "
                "`conn = await pool.acquire()` before the `try:` whose `finally:` releases it: the "
                "`finally:` then runs only once there is a connection."
            )
        raise AssertionError(
            f"run_job was cancelled {moment.during}, and then called `pool.release()` with "
            f"{describe(given)}, which the pool had not lent out (never acquired, or already given "
            "back): give back the connection `await pool.acquire()` returned, exactly once."
        )
    for conn in pool.lent:
        if any(conn is lent for lent in lent_before):
            raise AssertionError(
                f"run_job was cancelled {moment.during}, and it {run.ending()}, but {conn!r} was "
                "never given back to the pool. Release it in a `finally:` block, which runs "
                "however run_job ends, a cancellation included."
            )
        raise AssertionError(
            f"run_job was cancelled {moment.during}, and it {run.ending()}, but the acquire went on "
            f"without it: the pool lent {conn!r} afterwards, and nobody gave it back. Let the "
            "cancellation stop the acquire (don't shield it): a cancelled acquire lends nothing."
        )


def assert_cancellation_went_on(run, moment):
    """run_job ended cancelled, wherever the cancellation landed."""
    if isinstance(run.error, UnboundLocalError | NameError):
        raise AssertionError(
            f"run_job was cancelled {moment.during}, and it ended with {run.error!r} instead of "
            "CancelledError: the cancellation was lost on the way. A cancelled `await "
            "pool.acquire()` gives you no connection: nothing to run the job with, nothing to "
            "release. Call `conn = await pool.acquire()` before the `try:` whose `finally:` "
            "releases it, and let the CancelledError go on (don't catch it around the acquire)."
        )
    assert_ended_cancelled(run, "run_job", unreached=moment.missed, remedy=RAISE_IT_AGAIN)


@pytest.mark.task(1)
async def test_a_cancelled_job_gives_the_connection_back(ex, rng):
    run, pool, _ = await cancel_run_job(ex, rng, JOB_RUNS)

    number = conn_number(pool)
    expected = [f"acquire #{number}", f"job uses #{number}", f"release #{number}"]
    # Back by the time run_job ended: a release left to a task of its own on a cancel (a learner
    # trial's `asyncio.ensure_future(pool.release(conn))`) came only after, once the test settled.
    if run.left == expected[:-1] and pool.log == expected:
        raise AssertionError(RELEASED_LATE.format(ended="ended cancelled"))
    assert_steps(
        pool,
        expected,
        "The task was cancelled while the job ran, and the connection must be given back all the "
        "same. Cancellation arrives as asyncio.CancelledError at the await where the job is paused: "
        "the lines after that await never run, and `except Exception` does not catch it (it is a "
        "BaseException). Release in a `finally:` block, which runs in every case.",
    )


@pytest.mark.task(1)
async def test_the_cancellation_reaches_the_caller(ex, rng):
    # Wherever it lands: while acquiring, while the job runs, while releasing.
    for moment in (JOB_RUNS, ACQUIRING, RELEASING):
        run, pool, lent_before = await cancel_run_job(ex, rng, moment)

        assert_connections_back_once(run, pool, lent_before, moment)
        assert_cancellation_went_on(run, moment)


# Task 2 -------------------------------------------------------------------------------


AWAIT_IT = "Await the job without a timeout (`return await job(conn)`), however long it takes."


def make_job(rng, delay, error=None):
    value = f"result-{rng.randrange(1000)}"
    fail = (lambda: error) if error is not None else None
    return value, FakeService("job", delay=delay, reply=lambda: value, fail=fail)


async def cancel_run_and_report(ex, job, reports):
    """Run run_and_report, cancel it the moment the job starts; return it once it has ended."""
    run = Run(ex.run_and_report(job, reports.append))
    job.on_start = lambda _call: run.cancel(JOB_RUNS.during)
    await cancel_midway(run, "run_and_report", JOB_RUNS, longest=JOB + WAIT)
    return run


def assert_reports(reports, expected, why):
    if reports != expected:
        found = ", ".join(repr(r) for r in reports) or "nothing"
        raise AssertionError(
            f"report should have been called with {expected[0]!r} once, found: {found}. {why}"
        )


@pytest.mark.task(2)
async def test_a_job_that_returns_reports_done(ex, rng, wake_watch):
    value, job = make_job(rng, 0.05)
    reports = []

    # A limit of its own (`async with asyncio.timeout(5):` around the job) reports "failed" for a
    # job that was only slow; no test waits that long, so the test makes its timers run out as the
    # job ends (kata.testing.own_timers): a limit gives up, a timer that only logs does not.
    at_return = []  # what it had reported the instant it returned

    async def run():
        result = await ex.run_and_report(job, reports.append)
        at_return.extend(reports)
        return result

    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "run_and_report", job) as timers:
            task = asyncio.create_task(run())
            result = await timers.awaited(task, value, fix=AWAIT_IT, complete=lambda _: reports == ["done"])

    assert_same(result, value, "run_and_report's result (what the job returned)")
    assert_reports(reports, ["done"], "The job returned normally.")
    if not at_return:
        raise reported_after_the_return("the job returned normally", reports)


def reported_after_the_return(what, reports):
    """The failure of run_and_report that returned first and reported later (learner trial AA:
    `loop.call_soon(report, "done")`)."""
    return AssertionError(
        f"{what}, and run_and_report returned before it reported {', '.join(map(repr, reports))}: the "
        "report came later (a callback from `call_soon`, or a task of its own), when its caller may "
        "have moved on. Call `report(...)` in run_and_report itself, before it returns."
    )


@pytest.mark.task(2)
@pytest.mark.parametrize("value", [None, 0, ""], ids=["none", "zero", "empty_str"])
async def test_a_job_that_returns_nothing_much_reports_done_too(ex, value):
    job = FakeService("job", delay=0.05, reply=lambda: value)
    reports = []

    result = await ex.run_and_report(job, reports.append)

    if not reports:
        await let_the_code_run()  # a report it left for later (call_soon, a task) comes now
        if reports:
            raise reported_after_the_return(f"the job returned {value!r}", reports)
        raise AssertionError(
            f"the job returned {value!r}, and run_and_report reported nothing: {value!r} is what the job "
            'returned, and a job that returned is done, whatever it returned. Report "done" once '
            "`await job()` has returned, with no test of its value (`if result:` or `if result is not "
            "None:` skips this job)."
        )
    assert_reports(reports, ["done"], f"The job returned {value!r}.")
    assert_same(result, value, "run_and_report's result (what the job returned)")


@pytest.mark.task(2)
async def test_a_job_that_raises_reports_failed_and_the_error_goes_on(ex, rng):
    error = ConnectionError(f"server {rng.randrange(1000)} went away")
    _, job = make_job(rng, 0.05, error=error)
    reports = []

    try:
        result = await ex.run_and_report(job, reports.append)
    except ConnectionError as raised:
        if raised is not error:
            raise AssertionError(
                f"run_and_report should let the job's error {error!r} through, found {raised!r}"
            ) from None
    else:
        raise AssertionError(
            f"the job raised {error!r}, and run_and_report returned {describe(result)}: after "
            "reporting, let the error go on (a bare `raise` in the except block)."
        )
    assert_reports(reports, ["failed"], f"The job raised {error!r}.")


class LedgerError(Exception):
    """An error class of the job's own (an application's, a library's): no list of classes names it."""


def job_errors(rng):
    """Exceptions of classes a list of the usual ones leaves out, one of each every run."""
    n = rng.randrange(1000)
    return {
        "zero_division": ZeroDivisionError(f"row {n}: division by zero"),
        "own_class": LedgerError(f"ledger {n} does not balance"),
        "exception_group": ExceptionGroup(
            f"2 steps of job {n} failed", [ValueError(f"step {n} is broken"), KeyError(f"key {n}")]
        ),
        "not_an_exception": Aborted(f"job {n} was told to stop"),
    }


@pytest.mark.task(2)
@pytest.mark.parametrize("kind", ["zero_division", "own_class", "exception_group", "not_an_exception"])
async def test_a_job_that_raises_any_exception_reports_failed(ex, rng, kind):
    # A red team's answer reported "failed" only under `except (ConnectionError, OSError, ValueError,
    # RuntimeError, LookupError, TypeError):`, and passed: the other test's job raises ConnectionError.
    # Learner trial AA's reported "cancelled" for a BaseException that is not an Exception (its status
    # began as "cancelled", and only `except Exception:` changed it), and passed.
    error = job_errors(rng)[kind]
    _, job = make_job(rng, 0.05, error=error)
    reports = []

    try:
        result = await ex.run_and_report(job, reports.append)
    except type(error) as raised:
        if raised is not error:
            raise AssertionError(
                f"run_and_report should let the job's error {error!r} through, found {raised!r}"
            ) from None
    else:
        raise AssertionError(
            f"the job raised {error!r}, and run_and_report returned {describe(result)}: after "
            "reporting, let the error go on (a bare `raise` in the except block)."
        )
    base = (
        ""
        if isinstance(error, Exception)
        else ", a BaseException that is not an Exception (as KeyboardInterrupt is)"
    )
    if not reports:
        raise AssertionError(
            f'the job raised {error!r}{base}, and run_and_report reported nothing. Report "failed" for '
            "every exception the job raises, whatever its class, not only for a list of the classes "
            "you expect: after `except asyncio.CancelledError:` (a cancel of its own task), an `except "
            "BaseException:` catches every other (`except Exception:` misses those that are not Exceptions)."
        )
    if reports == ["cancelled"]:
        raise AssertionError(
            f"the job itself raised {error!r}{base}, and run_and_report reported 'cancelled': nobody "
            "cancelled the task running run_and_report, the job failed. Only asyncio.CancelledError "
            "says that its own task was cancelled: report 'cancelled' in `except asyncio.CancelledError:` "
            "alone, and 'failed' for every other exception, whatever its class (`except BaseException:` "
            "after it)."
        )
    assert_reports(reports, ["failed"], f"The job raised {error!r}{base}.")


@pytest.mark.task(2)
async def test_a_job_that_raises_timeouterror_reports_failed_not_cancelled(ex, rng):
    # The job's own TimeoutError (a request of its that timed out) is a failure: nobody cancelled
    # run_and_report. A red team's answer caught `(asyncio.CancelledError, TimeoutError)` together
    # to report "cancelled", and passed.
    error = TimeoutError(f"server {rng.randrange(1000)} did not answer in time")
    _, job = make_job(rng, 0.05, error=error)
    reports = []

    try:
        result = await ex.run_and_report(job, reports.append)
    except TimeoutError as raised:
        if raised is not error:
            raise AssertionError(
                f"run_and_report should let the job's error {error!r} through, found {raised!r}"
            ) from None
    else:
        raise AssertionError(
            f"the job raised {error!r}, and run_and_report returned {describe(result)}: after "
            "reporting, let the error go on (a bare `raise` in the except block)."
        )
    if reports == ["cancelled"]:
        raise AssertionError(
            f"the job raised {error!r} itself, and run_and_report reported 'cancelled': nobody "
            "cancelled the task running run_and_report, the job failed. A TimeoutError is an "
            "exception like any other: report 'failed' for it. Only asyncio.CancelledError says that "
            "run_and_report's own task was cancelled (an `asyncio.timeout` around run_and_report "
            "turns it into TimeoutError only outside, once run_and_report has stopped): catch "
            "asyncio.CancelledError alone to report 'cancelled'."
        )
    assert_reports(reports, ["failed"], f"The job raised {error!r}.")


@pytest.mark.task(2)
async def test_a_cancelled_job_reports_cancelled(ex, rng):
    _, job = make_job(rng, JOB)
    reports = []

    await cancel_run_and_report(ex, job, reports)

    if not reports:
        raise AssertionError(
            "the task was cancelled while the job ran, and nothing was reported. Cancellation "
            "arrives as asyncio.CancelledError, which is not an Exception (it is a BaseException, "
            "since Python 3.8), so `except Exception` does not see it: add "
            "`except asyncio.CancelledError:` for it."
        )
    if reports == ["failed"]:
        raise AssertionError(
            "the task was cancelled while the job ran, and you reported 'failed'. `except "
            "BaseException` (or a bare `except:`) catches the CancelledError too: catch "
            "asyncio.CancelledError in its own except block, and report 'cancelled' there."
        )
    assert_reports(reports, ["cancelled"], "The task was cancelled while the job ran.")


@pytest.mark.task(2)
async def test_a_cancelled_run_ends_cancelled(ex, rng):
    _, job = make_job(rng, JOB)
    reports = []

    run = await cancel_run_and_report(ex, job, reports)

    assert_ended_cancelled(run, "run_and_report", unreached=JOB_RUNS.missed, remedy=RAISE_IT_AGAIN)


@pytest.mark.task(2)
async def test_a_timeout_around_it_still_works(ex, rng):
    _, job = make_job(rng, JOB)
    reports = []
    limit = 0.1

    with stopwatch() as run:
        try:
            async with asyncio.timeout(limit):
                result = await ex.run_and_report(job, reports.append)
        except TimeoutError:
            timed_out = True
        else:
            timed_out = False

    if not timed_out:
        raise AssertionError(
            f"`async with asyncio.timeout({limit}):` around run_and_report should raise TimeoutError "
            f"(the job takes {JOB:.2f} s), but run_and_report returned {describe(result)}. A timeout "
            "works by cancelling the task: run_and_report caught that CancelledError and carried on, "
            "so the timeout never saw it. Report, then `raise` it again."
        )
    if margins.over(run.elapsed, limit + LATE, "12 run_and_report: stops < limit + LATE once timed out"):
        raise AssertionError(
            f"the timeout of {limit:.2f} s fired, but only after {run.elapsed:.2f} s: once cancelled, "
            "stop at once."
        )


# Task 3 -------------------------------------------------------------------------------


def make_save(rng):
    order = {"id": rng.randrange(1000, 10000), "total": rng.randrange(100, 10000)}
    receipt = f"receipt-{order['id']}"
    return order, receipt, FakeService("save", delay=SAVE, reply=lambda _order: receipt)


async def cancel_during_the_save(ex, save, order):
    """Cancel save_order the moment the save starts; return it once both have ended."""
    run = Run(ex.save_order(save, order))
    save.on_start = lambda _call: run.cancel(SAVING.during)
    await cancel_midway(run, "save_order", SAVING, longest=SAVE + WAIT)
    # A shielded save goes on after save_order has stopped: wait for it to end.
    if not await wait_until(lambda: all(call.end is not None for call in save.calls), SAVE + WAIT):
        raise AssertionError(f"the save was still running {SAVE + WAIT:.1f} s after it started.")
    return run


@pytest.mark.task(3)
async def test_returns_what_save_returned(ex, rng, wake_watch):
    order, receipt, save = make_save(rng)

    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "save_order", save) as timers:
            task = asyncio.create_task(ex.save_order(save, order))
            result = await timers.awaited(task, receipt, fix="Await the save without a timeout.")

    assert_call_count(save, 1, "an order is saved once")
    assert_same(result, receipt, "save_order's result (what save returned)")


@pytest.mark.task(3)
async def test_every_call_stores_its_order(ex, rng):
    # The same order twice, each time with a save of its own and a receipt of its own: "run only
    # once" is about one call (no second save after a cancel), not about every call ever made, and
    # an order kept in the module from an earlier call (a cache of receipts) is not stored again.
    order = {"id": rng.randrange(1000, 10000), "total": rng.randrange(100, 10000)}
    for attempt in (1, 2):
        receipt = f"receipt-{order['id']}-{attempt}"
        save = FakeService("save", delay=0.02, reply=lambda _order, receipt=receipt: receipt)

        result = await ex.save_order(save, dict(order))

        if attempt > 1 and not save.calls:
            raise AssertionError(
                f"save_order was called a second time for the order {describe(order)}, with another "
                f"save, and returned {describe(result)} without calling that save: it kept what an "
                "earlier call did. Every call stores its order with `await save(order)`, with the save "
                'it is given; "run only once" means one save per call (none again after a cancel), '
                "not one per order ever: keep nothing in the module between calls."
            )
        assert_call_count(save, 1, f"call {attempt} of save_order stores its order once")
        assert_same(result, receipt, f"save_order's result at call {attempt} (what its save returned)")


@pytest.mark.task(3)
async def test_two_calls_at_once_with_the_same_order_save_it_twice(ex, rng):
    # Two callers store the same order at the same moment (a retry racing its original, two
    # tills): each call stores it with a save of its own, and returns that save's own receipt.
    # Calls that share a save already under way for an equal order save it once.
    order = {"id": rng.randrange(1000, 10000), "total": rng.randrange(100, 10000)}
    numbers = itertools.count(1)
    save = FakeService("save", delay=0.05, reply=lambda _order: f"receipt-{order['id']}-{next(numbers)}")

    results = await asyncio.gather(ex.save_order(save, order), ex.save_order(save, order))

    if len(save.calls) < 2:
        raise AssertionError(
            f"save_order was called twice at once for the order {describe(order)}, and save ran "
            f"{'only once' if save.calls else 'never'}: the second call shared the save already under "
            f"way instead of storing the order itself, and both returned {describe(results)}. Every call "
            'stores its order with `await save(order)`, and returns what its own save returned; "run only '
            'once" means one save per call (none again after a cancel), not one at a time per order: '
            "keep no saves in the module for later calls to share."
        )
    assert_call_count(save, 2, "each of the two calls of save_order stores its order once")
    receipts = [f"receipt-{order['id']}-{n}" for n in (1, 2)]
    assert_same(sorted(results, key=str), receipts, "the receipts of the two calls, sorted,")


@pytest.mark.task(3)
async def test_a_failing_save_raises_its_error_and_is_not_run_again(ex, rng):
    # Red team answers returned None when the save raised, or ran it a second time, and passed: no
    # other test's save fails.
    order = {"id": rng.randrange(1000, 10000), "total": rng.randrange(100, 10000)}
    error = ConnectionError(f"the database went away while storing order {order['id']}")
    save = FakeService("save", delay=0.05, fail=lambda _order: error)

    try:
        result = await ex.save_order(save, order)
    except ConnectionError as raised:
        caught, result = raised, None
    else:
        caught = None

    if len(save.calls) > 1:
        raise AssertionError(
            f"the save raised {error!r}, and save_order ran it again: save was called "
            f'{len(save.calls)} times for one order. "Run only once" holds when the save fails too: '
            "a failed save may have stored part of the order, or all of it (only its answer was lost), "
            "and whether to try again is the caller's choice. Let the error reach the caller, with no "
            "second `save(order)`."
        )
    if caught is None:
        raise AssertionError(
            f"the save raised {error!r}, and save_order returned {describe(result)}: save_order returns "
            "what save returned, and this save returned nothing, it failed. Let its error reach the "
            "caller (no `except` around `await asyncio.shield(save(order))` that returns instead): a "
            "caller given a value takes the order for stored."
        )
    if caught is not error:
        raise AssertionError(f"save_order should let the save's error {error!r} through, found {caught!r}")
    assert_call_count(save, 1, "an order is saved once, even when the save fails")


@pytest.mark.task(3)
async def test_a_cancelled_caller_does_not_cut_the_save_short(ex, rng, wake_watch):
    order, _, save = make_save(rng)

    async with wake_watch(ex) as wakes:
        # The save's end: the code's timers run out then (kata.testing.own_timers), and a limit
        # it set on the save once cancelled (`await asyncio.wait_for(saving, 1.0)`) cuts it off.
        with OwnTimersProbe(wakes, "save_order", save):
            await cancel_during_the_save(ex, save, order)

    if any(call.outcome == "cancelled" for call in save.calls):
        again = (
            f" Starting it over is no cure: save was called {len(save.calls)} times for one order."
            if len(save.calls) > 1
            else ""
        )
        raise AssertionError(
            "save_order was cancelled while the save ran, and the save was cut off "
            "halfway with it: awaiting a call (or its task) passes the cancellation on to it. "
            "Wrap the save in `asyncio.shield(...)`, so that cancelling save_order does not "
            "cancel the save: shield the call itself (`await asyncio.shield(save(order))`, not "
            "the result of awaiting it), and do not cancel the shielded task yourself afterwards "
            f"(in `except` or `finally:`).{again}"
        )
    assert_call_count(save, 1, "an order is saved once, even when the caller gives up")


@pytest.mark.task(3)
async def test_save_order_itself_ends_cancelled(ex, rng):
    order, _, save = make_save(rng)

    run = await cancel_during_the_save(ex, save, order)

    assert_ended_cancelled(run, "save_order", unreached=SAVING.missed, remedy=RAISE_IT_AGAIN)


# A caller may cancel twice: a timeout around save_order fires, then whoever awaits that gives up
# too. The second cancel comes AGAIN_AFTER s after the first, while a LONG_SAVE-long save still runs:
# code that waits for the save once cancelled still waits then (a correct one has long ended).
LONG_SAVE = 0.6
AGAIN_AFTER = 0.15


@pytest.mark.task(3)
async def test_a_second_cancel_does_not_cut_the_save_short_either(ex, rng):
    order, receipt, _ = make_save(rng)
    save = FakeService("save", delay=LONG_SAVE, reply=lambda _order: receipt)
    run = Run(ex.save_order(save, order))
    again = []

    async def cancel_again():
        await let_the_code_run(AGAIN_AFTER)
        run.cancel_again("while the save still ran")

    def cancel_twice(_call):
        run.cancel(SAVING.during)
        again.append(asyncio.create_task(cancel_again()))

    save.on_start = cancel_twice
    await cancel_midway(run, "save_order", SAVING, longest=LONG_SAVE + WAIT)
    await asyncio.gather(*again)
    if not await wait_until(lambda: all(call.end is not None for call in save.calls), LONG_SAVE + WAIT):
        raise AssertionError(f"the save was still running {LONG_SAVE + WAIT:.1f} s after it started.")

    if any(call.outcome == "cancelled" for call in save.calls):
        raise AssertionError(
            f"save_order was cancelled {run.moment}, and the save was cut off halfway by the "
            "second cancel. A caller may cancel more than once (a timeout fires, then its own caller "
            "gives up): after the first, save_order waited for the save by awaiting it (or its task) "
            "unshielded, and that await passed the second cancel on to the save. The save must run on "
            "to its end whatever happens to save_order: `return await asyncio.shield(save(order))` and "
            "nothing more (or, if you wait for the save once cancelled, wait through a shield, or with "
            "`asyncio.wait`, which never cancels what it waits for)."
        )
    assert_call_count(save, 1, "an order is saved once, however often the caller gives up")
    assert_ended_cancelled(run, "save_order", unreached=SAVING.missed, remedy=RAISE_IT_AGAIN)
