"""Exercise 12: a cancelled task cleans up, says so, stops for real, and shielded work finishes."""

import asyncio

import pytest

from kata.testing import FakeService, assert_call_count, assert_same, describe, margins, stopwatch

DELAY = 0.02  # acquiring and releasing a fake connection each take this long
JOB = 0.5  # a job long enough to be cancelled while it runs
SAVE = 0.2  # a save long enough to be cancelled halfway
PAUSE = 0.05  # how long after the work started the test cancels it
WAIT = 1.0  # the longest the test waits for something that should take a few ms
STEP = 0.005
LATE = 0.3  # how long after a timeout's limit the run may end (scheduling noise is < 0.05 s)

SWALLOWED = (
    "{what} was cancelled while {work} ran, but it returned {value} instead of stopping: "
    "it caught the CancelledError and carried on. Whoever cancelled it never learns that it "
    "stopped, and a timeout around it cannot work. If you catch asyncio.CancelledError (or "
    "BaseException, or use a bare `except:`), `raise` it again once you have tidied up."
)


async def wait_until(condition, seconds=WAIT):
    """True once condition() holds, False if it still does not after `seconds`."""
    for _ in range(round(seconds / STEP)):
        if condition():
            return True
        await asyncio.sleep(STEP)
    return condition()


async def cancel_midway(coro, started, what, work):
    """Run `coro` as a task, cancel it once `started()` is true, and return the task once it ended."""
    task = asyncio.create_task(coro)
    if not await wait_until(lambda: started() or task.done()):
        task.cancel()
        raise AssertionError(f"{what} did not start {work} within {WAIT:.1f} s.")
    if task.done():
        value = task.result()  # the learner's own error (a stub: "not written yet") goes on up
        raise AssertionError(f"{what} returned {describe(value)} without waiting for {work}.")
    await asyncio.sleep(PAUSE)
    task.cancel()
    if not await wait_until(task.done):
        task.cancel()
        raise AssertionError(
            f"{what} was still running {WAIT:.1f} s after it was cancelled: a cancelled task should "
            "stop at once (after a short cleanup)."
        )
    return task


def assert_ended_cancelled(task, what, work):
    """The task ended cancelled: it did not swallow the CancelledError nor turn it into an error."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        raise AssertionError(
            f"{what} was cancelled while {work} ran, but it ended with {error!r} instead of "
            "CancelledError: let the CancelledError go on (a bare `raise` in the except block)."
        )
    raise AssertionError(SWALLOWED.format(what=what, work=work, value=describe(task.result())))


# Task 1 -------------------------------------------------------------------------------


class FakeConnection:
    """A stand-in for a database connection: only its number matters."""

    def __init__(self, number):
        self.number = number

    def __repr__(self):
        return f"<connection #{self.number}>"


class FakePool:
    """Lends out fake connections; each finished step is written to `log`."""

    def __init__(self, rng):
        self.log = []
        self.lent = []
        self._numbers = iter(rng.sample(range(100, 1000), 10))

    async def acquire(self):
        await asyncio.sleep(DELAY)
        conn = FakeConnection(next(self._numbers))
        self.lent.append(conn)
        self.log.append(f"acquire #{conn.number}")
        return conn

    async def release(self, conn):
        if not any(conn is lent for lent in self.lent):
            raise AssertionError(
                f"pool.release() was given {describe(conn)}, which the pool has not lent out (never "
                "acquired, or already released): release the very connection that "
                "`await pool.acquire()` returned, once."
            )
        await asyncio.sleep(DELAY)
        self.lent = [lent for lent in self.lent if lent is not conn]
        self.log.append(f"release #{conn.number}")


class FakeJob:
    """A job that uses the connection it is given for `delay` seconds, then returns or raises."""

    def __init__(self, pool, delay, value=None, error=None):
        self.pool, self.delay, self.value, self.error = pool, delay, value, error
        self.started = False

    async def __call__(self, conn):
        if type(conn) is not FakeConnection:
            raise AssertionError(
                f"job should be given the connection that `await pool.acquire()` returned, "
                f"found {describe(conn)}"
            )
        self.started = True
        self.pool.log.append(f"job uses #{conn.number}")
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.value


def assert_steps(pool, expected, why):
    if pool.log != expected:
        raise AssertionError(
            f"the steps should be: {', '.join(expected)}; found: {', '.join(pool.log) or 'nothing'}. {why}"
        )


def conn_number(pool):
    """The number of the connection the pool lent first (the log's first entry)."""
    return pool.log[0].removeprefix("acquire #") if pool.log else "?"


@pytest.mark.task(1)
async def test_returns_what_the_job_returned_and_gives_the_connection_back(ex, rng):
    pool = FakePool(rng)
    value = {"rows": rng.randrange(1000)}
    job = FakeJob(pool, 0.05, value=value)

    result = await ex.run_job(pool, job)

    number = conn_number(pool)
    assert_steps(
        pool,
        [f"acquire #{number}", f"job uses #{number}", f"release #{number}"],
        "Acquire, run the job with that connection, then `await pool.release(conn)`.",
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
            "the caller (a `finally:` block does not stop it)."
        )

    number = conn_number(pool)
    assert_steps(
        pool,
        [f"acquire #{number}", f"job uses #{number}", f"release #{number}"],
        f"The job raised {error!r}: the connection must be given back all the same. "
        "Release it in a `finally:` block, which runs however the job ends.",
    )


@pytest.mark.task(1)
async def test_a_cancelled_job_gives_the_connection_back(ex, rng):
    pool = FakePool(rng)
    job = FakeJob(pool, JOB, value="never")

    task = await cancel_midway(ex.run_job(pool, job), lambda: job.started, "run_job", "the job")
    if not task.cancelled():
        task.exception()  # seen; whether it should have been cancelled is the next test's business

    number = conn_number(pool)
    assert_steps(
        pool,
        [f"acquire #{number}", f"job uses #{number}", f"release #{number}"],
        "The task was cancelled while the job ran, and the connection must be given back all the "
        "same. Cancellation arrives as asyncio.CancelledError at the await where the job is paused: "
        "the lines after that await never run, and `except Exception` does not catch it (it is a "
        "BaseException). Release in a `finally:` block, which runs in every case.",
    )


@pytest.mark.task(1)
async def test_the_cancellation_reaches_the_caller(ex, rng):
    pool = FakePool(rng)
    job = FakeJob(pool, JOB, value="never")

    task = await cancel_midway(ex.run_job(pool, job), lambda: job.started, "run_job", "the job")

    assert_ended_cancelled(task, "run_job", "the job")


# Task 2 -------------------------------------------------------------------------------


def make_job(rng, delay, error=None):
    value = f"result-{rng.randrange(1000)}"
    fail = (lambda: error) if error is not None else None
    return value, FakeService("job", delay=delay, reply=lambda: value, fail=fail)


def assert_reports(reports, expected, why):
    if reports != expected:
        found = ", ".join(repr(r) for r in reports) or "nothing"
        raise AssertionError(
            f"report should have been called with {expected[0]!r} once, found: {found}. {why}"
        )


@pytest.mark.task(2)
async def test_a_job_that_returns_reports_done(ex, rng):
    value, job = make_job(rng, 0.05)
    reports = []

    result = await ex.run_and_report(job, reports.append)

    assert_same(result, value, "run_and_report's result (what the job returned)")
    assert_reports(reports, ["done"], "The job returned normally.")


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


@pytest.mark.task(2)
async def test_a_cancelled_job_reports_cancelled(ex, rng):
    _, job = make_job(rng, JOB)
    reports = []

    task = await cancel_midway(
        ex.run_and_report(job, reports.append), lambda: bool(job.calls), "run_and_report", "the job"
    )
    if not task.cancelled():
        task.exception()  # seen; whether it should have been cancelled is another test's business

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

    task = await cancel_midway(
        ex.run_and_report(job, reports.append), lambda: bool(job.calls), "run_and_report", "the job"
    )

    assert_ended_cancelled(task, "run_and_report", "the job")


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
    """Cancel save_order halfway through the save; return its task once both have ended."""
    task = await cancel_midway(ex.save_order(save, order), lambda: bool(save.calls), "save_order", "the save")
    # A shielded save goes on after save_order has stopped: wait for it to end.
    if not await wait_until(lambda: all(call.end is not None for call in save.calls), SAVE + WAIT):
        raise AssertionError(f"the save was still running {SAVE + WAIT:.1f} s after it started.")
    return task


@pytest.mark.task(3)
async def test_returns_what_save_returned(ex, rng):
    order, receipt, save = make_save(rng)

    result = await ex.save_order(save, order)

    assert_call_count(save, 1, "an order is saved once")
    assert_same(result, receipt, "save_order's result (what save returned)")


@pytest.mark.task(3)
async def test_a_cancelled_caller_does_not_cut_the_save_short(ex, rng):
    order, _, save = make_save(rng)

    task = await cancel_during_the_save(ex, save, order)
    if not task.cancelled():
        task.exception()  # seen; whether it should have been cancelled is another test's business

    if any(call.outcome == "cancelled" for call in save.calls):
        again = (
            f" Starting it over is no cure: save was called {len(save.calls)} times for one order."
            if len(save.calls) > 1
            else ""
        )
        raise AssertionError(
            f"save_order was cancelled {PAUSE:.2f} s into the save, and the save was cut off "
            "halfway with it: awaiting a call (or its task) passes the cancellation on to it. "
            "Wrap the save in `asyncio.shield(...)`, so that cancelling save_order does not "
            f"cancel the save.{again}"
        )
    assert_call_count(save, 1, "an order is saved once, even when the caller gives up")


@pytest.mark.task(3)
async def test_save_order_itself_ends_cancelled(ex, rng):
    order, _, save = make_save(rng)

    task = await cancel_during_the_save(ex, save, order)

    assert_ended_cancelled(task, "save_order", "the save")
