"""Exercise 07: async with acquires on the way in and always releases on the way out."""

import asyncio
import inspect

import pytest

from kata.testing import clock, describe
from kata.testing.cancelling import WAIT, Run, assert_ended_after_the_cancel, assert_ended_cancelled
from kata.testing.errors import Aborted
from kata.testing.letting_run import let_the_code_run
from kata.testing.own_timers import OwnTimersProbe

DELAY = 0.02  # acquiring and releasing a fake connection each take this long
LATE_RELEASE = 5 * DELAY  # how long a test waits, when a release is missing, for one that comes late
HOLD = 1.0  # how long the block would wait; the test cancels it as soon as it starts to
# How long acquiring and releasing take in the tests of waiting for the pool: longer than the pause
# (`asyncio.sleep(0.05)`) code that does not await the release might wait "for it to finish".
SLOW = 0.1


class FakeConnection:
    """A stand-in for a database connection: only its number matters."""

    def __init__(self, number):
        self.number = number

    def __repr__(self):
        return f"<connection #{self.number}>"


class FakePool:
    """Lends out fake connections. Each step is written to `log` once it has finished,
    so a release that was never awaited never shows up there."""

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ("acquire", "release")

    def __init__(self, rng, error=None, delay=DELAY, release_error=None):
        self.delay = delay
        self.asked = 0  # how many times acquire() was called
        self.busy = []  # (start, end) of each acquire and release that ran to its end, kata clock
        self.log = []
        self.lent = []
        self.releases = []  # every coroutine pool.release() handed out, awaited or not
        self.given = []  # what each pool.release() call was given
        self.refused = []  # what each release refused was given: kept, as the error can be swallowed
        self.error = error  # when set, acquire() raises it instead of lending a connection
        # When set, release() raises it instead of taking the connection back (which stays lent).
        self.release_error = release_error
        self.failed_releases = []  # the connections whose release raised release_error
        self.on_acquire = None  # when set, called the moment an acquire starts
        self.acquiring = 0  # acquires started and not ended yet
        self.probe = None  # kata.testing.own_timers: each step, its delay over, waits for it
        self._numbers = iter(rng.sample(range(100, 1000), 10))

    # The coroutines are named as the learner calls them, so a "never awaited" or "still
    # running" message says pool.release, not the name of this class.
    def acquire(self):
        self.asked += 1
        return named(self._acquire(), "pool.acquire")

    def release(self, conn):
        self.given.append(conn)
        coro = named(self._release(conn), "pool.release")
        self.releases.append(coro)
        return coro

    async def unawaited_releases(self):
        """How many pool.release() calls were never awaited (after a few turns of the loop, in
        which a task made from one would have started). Each is closed: the failure says it."""
        for _ in range(3):
            await asyncio.sleep(0)
        unawaited = [c for c in self.releases if inspect.getcoroutinestate(c) == inspect.CORO_CREATED]
        for coro in unawaited:
            coro.close()
        return len(unawaited)

    async def _acquire(self):
        start = clock.perf_counter()
        self.acquiring += 1
        try:
            if self.on_acquire is not None:
                self.on_acquire()
            await asyncio.sleep(self.delay)
            if self.probe is not None:
                await self.probe.reached_the_end()
            self.busy.append((start, clock.perf_counter()))
            if self.error is not None:
                raise self.error
            conn = FakeConnection(next(self._numbers))
            self.lent.append(conn)
            self.log.append(f"acquire #{conn.number}")
            return conn
        finally:
            self.acquiring -= 1

    async def acquires_ended(self, longest):
        """Wait until every acquire that started has ended, for at most `longest` s."""
        deadline = clock.monotonic() + longest
        while self.acquiring and clock.monotonic() < deadline:
            await asyncio.sleep(0.005)

    async def _release(self, conn):
        if not any(conn is lent for lent in self.lent):
            self.refused.append(conn)
            raise AssertionError(not_lent(conn))
        start = clock.perf_counter()
        await asyncio.sleep(self.delay)
        if self.probe is not None:
            await self.probe.reached_the_end()
        self.busy.append((start, clock.perf_counter()))
        if self.release_error is not None:
            self.failed_releases.append(conn)
            raise self.release_error
        self.lent = [lent for lent in self.lent if lent is not conn]
        self.log.append(f"release #{conn.number}")
        # Some pools say a release went well: __aexit__ that returns what release returned (a
        # learner trial's answer) then swallows the block's error, as the docstring says not to.
        return True


def not_lent(conn):
    return (
        f"pool.release() was given {describe(conn)}, which the pool has not lent out (never "
        "acquired, or already released): release the very connection that "
        "`await pool.acquire()` returned, once."
    )


def named(coro, name):
    coro.__name__ = coro.__qualname__ = name
    return coro


def use(pool, conn):
    """What the body of the `async with` block does: record that it ran, with which connection."""
    if inspect.iscoroutine(conn):
        conn.close()  # this message says it: no second one about a coroutine never awaited
        raise AssertionError(
            "the `as` name is a coroutine, not a connection: `pool.acquire()` was called without "
            "`await`, so nothing was acquired. Write `await pool.acquire()`."
        )
    if type(conn) is not FakeConnection:
        raise AssertionError(
            "the `as` name should be the connection that `await pool.acquire()` returned, "
            f"found {describe(conn)}. Whatever __aenter__ returns (or the generator yields) "
            "becomes the `as` name."
        )
    pool.log.append(f"body uses #{conn.number}")


async def assert_steps(pool, expected, why, crashed=None):
    """`crashed`: an error the learner's code raised on the way out of the block, if any."""
    if pool.log != expected:
        await explain_a_release_after_the_block(pool)
    unawaited = await pool.unawaited_releases()
    if unawaited:
        times = "" if unawaited == 1 else f" ({unawaited} times)"
        raise AssertionError(
            f"`pool.release(conn)` was called{times} but never awaited, so no connection was given "
            "back: calling an async function only makes a coroutine, and nothing runs until it is "
            "awaited. Write `await pool.release(conn)`."
        )
    if pool.refused:  # the learner's code swallowed the error it raised
        raise AssertionError(not_lent(pool.refused[0]))
    for index, conn in enumerate(pool.given):
        if any(conn is earlier for earlier in pool.given[:index]):
            calls = sum(conn is given for given in pool.given)
            raise AssertionError(
                f"`pool.release()` was called {calls} times for {describe(conn)}: give each connection "
                "back exactly once, with one `await pool.release(conn)` (a second call is one too many, "
                "even one that never ran)."
            )
    if pool.log != expected:
        said = f"the steps should be: {', '.join(expected)}; found: {', '.join(pool.log) or 'nothing'}. {why}"
        if crashed is not None:
            said += (
                f" Your code raised {crashed!r} on the way out of the block, before the release: "
                "fix that error first."
            )
        raise AssertionError(said) from crashed


async def explain_a_release_after_the_block(pool):
    """Fail, in words, if a release missing when the block ended shows up a little later: it ran in
    a task that nothing awaited. Only when a step is missing, so correct code does not wait."""
    ended = len(pool.log)
    await asyncio.sleep(LATE_RELEASE)
    late = [step for step in pool.log[ended:] if step.startswith("release")]
    if late:
        raise AssertionError(
            f"the block ended before its connection was given back: {late[0]} happened only after "
            "the `async with` was over. `pool.release(conn)` ran in a task that nothing awaited (as "
            "`asyncio.create_task(pool.release(conn))` with no `await` of the task), so the block did "
            "not wait for it, and an error of the release would be lost. Write "
            "`await pool.release(conn)` where you release, so the block ends only once the connection "
            "is back."
        )


def new_error(rng):
    return ValueError(f"row {rng.randrange(1000)} is broken")


# Checks shared by both tasks: `make` is ex.Lease (task 1) or ex.borrow (task 2).


async def check_as_name_is_the_connection(make, rng):
    pool = FakePool(rng)

    async with make(pool) as conn:
        use(pool, conn)
        if not any(conn is lent for lent in pool.lent):
            raise AssertionError(f"{describe(conn)} is not the connection the pool lent out.")


async def check_released_after_the_block(make, rng):
    pool = FakePool(rng)

    async with make(pool) as conn:
        use(pool, conn)
        number = conn.number

    await assert_steps(
        pool,
        [f"acquire #{number}", f"body uses #{number}", f"release #{number}"],
        "Acquire before the block runs, and release when it ends with `await pool.release(conn)`.",
    )


async def check_released_when_the_block_raises(make, rng):
    pool = FakePool(rng)
    error, number = new_error(rng), None

    crashed = None
    try:
        async with make(pool) as conn:
            use(pool, conn)
            number = conn.number
            raise error
    except ValueError:
        pass  # whether it should reach us is the next check's business
    except Exception as other:
        if not made_from(other, error):
            raise
        crashed = other

    await assert_steps(
        pool,
        [f"acquire #{number}", f"body uses #{number}", f"release #{number}"],
        f"The block raised {error!r}: the connection must be released all the same. {release_always(make)}",
        crashed,
    )


def release_for_every_error(make):
    """How `make` releases whatever the block raised, a BaseException that is not an Exception too."""
    if inspect.isclass(make):
        return (
            "__aexit__ is then called with that exc_type: release whatever exc_type is, without "
            "testing it (a test for Exception, even with asyncio.CancelledError beside it, misses it)."
        )
    return (
        f"The error comes out of the `yield` in {make.__name__}, and `except Exception:` (even with "
        "asyncio.CancelledError beside it) does not see it, nor does an `else:`. Put the release in a "
        "`finally:` around the `yield`, which runs for every exception."
    )


async def check_released_when_the_block_raises_a_baseexception(make, rng):
    # "whether the block raised or not": not only Exception and CancelledError (the same mistake
    # as 12's and 17's, a release under `except (Exception, asyncio.CancelledError):`).
    pool = FakePool(rng)
    error, number = Aborted(f"block {rng.randrange(1000)} was told to stop"), None

    try:
        async with make(pool) as conn:
            use(pool, conn)
            number = conn.number
            raise error
    except Aborted:
        pass  # whether it should reach us unchanged is another check's business

    await assert_steps(
        pool,
        [f"acquire #{number}", f"body uses #{number}", f"release #{number}"],
        f"The block raised {error!r}, a BaseException that is not an Exception (as SystemExit and "
        "KeyboardInterrupt are): the connection must be released all the same. "
        + release_for_every_error(make),
    )


async def check_error_reaches_the_caller(make, rng):
    pool = FakePool(rng)
    error, caught = new_error(rng), None

    try:
        async with make(pool) as conn:
            use(pool, conn)
            raise error
    except Exception as raised:
        if not isinstance(raised, ValueError) and not made_from(raised, error):
            raise
        caught = raised

    if caught is None:
        raise AssertionError(
            f"the block raised {error!r}, but the error never reached the code around `async with`: "
            "it was swallowed. Clean up, then let the error go on (__aexit__ returning True, or "
            "an `except` around the `yield`, hides it)."
        )
    if caught is not error and made_from(caught, error):
        raise AssertionError(
            f"the block raised {error!r}, but the caller got {caught!r} instead, a new error made from "
            "it (an `except` that raises another error, or a `raise ... from`). Code around `async with` "
            f"that catches {type(error).__name__} no longer sees it: clean up, then let the block's own "
            "error go on unchanged (a bare `raise`, or no `except` at all: `finally:` is enough)."
        )
    if caught is not error:
        raise AssertionError(
            f"the block raised {error!r}, but the caller got a different error, {caught!r}: "
            "let the original error go on unchanged."
        )


def made_from(raised, error):
    """Whether `raised` is a new error raised while handling `error` (its cause or context)."""
    return raised is not error and (raised.__cause__ is error or raised.__context__ is error)


def release_always(make):
    """How `make` (a class, or an @asynccontextmanager generator function) releases even after an error."""
    if inspect.isclass(make):
        return (
            "__aexit__ runs whether or not the block raised (exc_type tells which): release there "
            "every time, whatever exc_type is."
        )
    return (
        f"In {make.__name__}, the block's error comes out of the `yield` line, and the lines after it "
        "do not run: put the release in a `finally:` around the `yield`, which runs either way."
    )


def release_even_when_cancelled(make):
    """How `make` releases even when its block is cancelled."""
    if inspect.isclass(make):
        return (
            "__aexit__ is then called with exc_type asyncio.CancelledError, which is a BaseException "
            "but not an Exception: release whatever exc_type is, without testing it."
        )
    return (
        f"The cancellation comes out of the `yield` in {make.__name__} as asyncio.CancelledError, "
        "which is a BaseException but not an Exception: an `except Exception:` does not see it, and "
        "neither does an `else:`. Put the release in a `finally:` around the `yield`, which runs "
        "however the block ends."
    )


async def check_released_when_the_block_is_cancelled(make, rng):
    pool = FakePool(rng)
    during = "while the block waited"
    numbers = []

    async def block():
        async with make(pool) as conn:
            use(pool, conn)
            numbers.append(conn.number)
            run.cancel(during)  # as a caller's task.cancel() (or a timeout) would
            await asyncio.sleep(HOLD)
        return "the end of the block"

    run = Run(block())
    what = f"`async with {make.__name__}(pool)`"
    if not await run.finish(HOLD + WAIT):
        await run.stop()
    elif run.moment is not None:
        number = numbers[0]
        await assert_steps(
            pool,
            [f"acquire #{number}", f"body uses #{number}", f"release #{number}"],
            f"The task running the block was cancelled {during} (task.cancel(), as a caller or a "
            "timeout does): the connection must be released all the same. "
            + release_even_when_cancelled(make),
            run.error if isinstance(run.error, Exception) else None,
        )
    if inspect.isclass(make):
        assert_ended_after_the_cancel(run, what, unreached="before its block ran")
        if not run.cancelled and run.error is None:
            # A class cannot catch the block's error: only __aexit__'s answer can stop it.
            raise AssertionError(
                f"{what} was cancelled by its caller {run.moment}, and it {run.ending()} instead of "
                f"ending cancelled: {make.__name__}.__aexit__ returned a true value (True, or an "
                "expression such as `exc_type is asyncio.CancelledError`), which tells Python that the "
                "block's exception was dealt with, so the CancelledError stopped there and whoever "
                "cancelled the task (a task group, a timeout) takes the block for finished. Release "
                "the connection, then return None (or False) from __aexit__, whatever exc_type is."
            )
    assert_ended_cancelled(
        run,
        what,
        unreached="before its block ran",
        cancel_advice="Release the connection, then let the CancelledError go on: __aexit__ returning True, "
        "or an `except` around the `yield` without a `raise`, hides it.",
    )


def aexit_or_finally(make):
    """Where `make` gives the connection back."""
    if inspect.isclass(make):
        return f"{make.__name__}.__aexit__"
    return f"the `finally:` of {make.__name__}"


async def check_a_failed_release_reaches_the_caller(make, rng):
    # A red team's Lease.__aexit__ put `try: ... except Exception: pass` around the release: every
    # other test's pool takes its connections back without a fault.
    pool_name = f"pool {rng.randrange(100, 1000)}"
    error = ConnectionError(f"{pool_name} lost the connection it was given back")
    pool = FakePool(rng, release_error=error)
    what = f"`async with {make.__name__}(pool)`"
    caught = None

    try:
        async with make(pool) as conn:
            use(pool, conn)
    except Exception as raised:
        caught = raised

    if caught is error:
        return
    if isinstance(caught, NotImplementedError):
        raise caught  # the learner's own error ("not written yet" for a stub)
    unawaited = await pool.unawaited_releases()
    if not pool.failed_releases:
        never = "called but never awaited" if unawaited else "not awaited before the block was over"
        raise AssertionError(
            f"the pool's release was set to fail with {error!r}, but when the block of {what} ended, "
            f"`pool.release(conn)` had been {never}, so its error could not reach the caller. "
            f"{release_always(make)} Write `await pool.release(conn)`, so the block ends only once "
            "the pool has answered."
        )
    failed = f"the block of {what} ended, and `await pool.release(conn)` raised {error!r}"
    if caught is None:
        raise AssertionError(
            f"{failed}, but the error never reached the code around `async with`: it was swallowed. "
            "The connection was not given back, and nobody hears of it: the caller goes on as if all "
            "was well, while the pool loses a connection each time. Let release's error go on: no "
            f"`try`/`except` around `await pool.release(conn)` in {aexit_or_finally(make)} that drops it."
        )
    if made_from(caught, error):
        raise AssertionError(
            f"{failed}, but the caller got {caught!r} instead, a new error made from it (an `except` "
            "that raises another error, or a `raise ... from`): code around `async with` that catches "
            f"{type(error).__name__} no longer sees it. Let release's own error go on unchanged."
        )
    raise AssertionError(
        f"{failed}, but the caller got a different error, {caught!r}: let release's error go on."
    )


def acquire_with_nothing_around_it(make):
    """How `make` lets a cancel stop its acquire."""
    where = (
        "`self.conn = await self.pool.acquire()`"
        if inspect.isclass(make)
        else "`conn = await pool.acquire()`"
    )
    return (
        f"Let the cancel stop the acquire: {where} with nothing around it (no `asyncio.shield`, no task "
        "of its own left to run on): an acquire cancelled half-way lends nothing."
    )


async def check_cancelled_while_acquiring_keeps_no_connection(make, rng):
    # A red team's Lease.__aenter__ acquired under `asyncio.shield`: cancelled while it waited, the
    # acquire ran on and took a connection that nothing ever gave back (the block never ran).
    pool = FakePool(rng, delay=SLOW)
    during = "while it waited for `pool.acquire()`"
    what = f"`async with {make.__name__}(pool)`"
    entered = []

    async def block():
        async with make(pool) as conn:
            entered.append(conn)
        return "the end of the block"

    run = Run(block())
    pool.on_acquire = lambda: run.cancel(during)  # as a caller's task.cancel() (or a timeout) would
    if not await run.finish(SLOW + WAIT):
        await run.stop()
    await pool.acquires_ended(SLOW + WAIT)  # an acquire the cancel did not stop ends on its own
    if pool.lent and not entered:
        await let_the_code_run(LATE_RELEASE)  # code that gives it back once it comes, a little later
    unawaited = await pool.unawaited_releases()
    if pool.lent and not entered:
        conn = pool.lent[0]
        why = (
            "`pool.release(conn)` was called but never awaited"
            if unawaited
            else "the block never ran, so nothing released it"
        )
        raise AssertionError(
            f"the task running {what} was cancelled {during}, and that acquire went on all the same: "
            f"the pool lent out {describe(conn)} after the cancel, and it was never given back "
            f"({why}). "
            "Each cancel like this loses the pool a connection for good. "
            + acquire_with_nothing_around_it(make)
        )
    if isinstance(run.error, NameError):  # UnboundLocalError is one too
        raise AssertionError(
            f"the task running {what} was cancelled {during}, and it raised {run.error!r} instead of "
            "ending cancelled: `conn` was never set, and the `finally:` that releases it ran all the "
            f"same, hiding the cancel. {acquire_first(make)}"
        )
    assert_ended_cancelled(
        run,
        what,
        unreached="before it asked the pool for a connection",
        cancel_advice="Its caller asked it to stop before there was a connection: the block must not run.",
    )
    if pool.lent:
        raise AssertionError(
            f"the task running {what} was cancelled {during}, and {describe(pool.lent[0])} was still "
            f"lent out once it had ended. {acquire_with_nothing_around_it(make)}"
        )


def acquire_first(make):
    """Where `make` should acquire, so that its release runs only once there is a connection."""
    if inspect.isclass(make):
        return "Release only the connection `await pool.acquire()` returned, in __aexit__."
    return (
        f"In {make.__name__}, call `conn = await pool.acquire()` before the `try:` whose `finally:` "
        "releases it, not inside it: the `finally:` then runs only once there is a connection to give "
        "back, and acquire's error goes straight to the caller."
    )


async def check_a_failed_acquire_reaches_the_caller(make, rng):
    error = ConnectionError(f"pool {rng.randrange(100, 1000)} has no free connection")
    pool = FakePool(rng, error=error)
    entered, caught = [], None

    try:
        async with make(pool) as conn:
            entered.append(conn)
    except Exception as raised:
        caught = raised

    failed = f"`await pool.acquire()` raised {error!r}"
    if entered:
        conn = entered[0]
        if inspect.iscoroutine(conn):
            conn.close()  # this message says it: no second one about a coroutine never awaited
            raise AssertionError(
                "the `as` name is a coroutine, not a connection: `pool.acquire()` was called without "
                "`await`. Write `await pool.acquire()`."
            )
        raise AssertionError(
            f"{failed}, and the block ran all the same, with {describe(conn)} as its connection: "
            "when acquiring fails there is no connection to lend. Let acquire's error reach the "
            "caller: do not catch it."
        )
    await pool.unawaited_releases()  # closes a release never awaited: the next message says it
    if pool.asked > 1:
        raise AssertionError(
            f"{failed}, and then your code called `pool.acquire()` again ({pool.asked} calls in all): "
            "the docstring asks that a failed acquire reach the caller, not that it be tried again. "
            "The caller decides whether to try again (and how long to wait first); call "
            "`await pool.acquire()` once, with no `try`/`except` around it."
        )
    if pool.given:
        raise AssertionError(
            f"{failed}, and then `pool.release()` was called all the same, given {describe(pool.given[0])}: "
            f"nothing had been acquired, so there is nothing to give back. {acquire_first(make)}"
        )
    if caught is error:
        return
    if isinstance(caught, NotImplementedError):
        raise caught  # the learner's own error ("not written yet" for a stub)
    if isinstance(caught, NameError):  # UnboundLocalError is one too
        raise AssertionError(
            f"{failed}, but the caller got {caught!r} instead: `conn` was never set, and the "
            f"`finally:` that releases it ran all the same, hiding acquire's error. {acquire_first(make)}"
        )
    found = "nothing: it was swallowed" if caught is None else f"{caught!r} instead"
    raise AssertionError(
        f"{failed}, and the caller should get that very error; it got {found}. {acquire_first(make)}"
    )


def keep_your_own(make):
    """Where `make` (a class, or a generator function made with @asynccontextmanager) keeps its connection."""
    if inspect.isclass(make):
        return (
            f"keep it on `self`, so that each {make.__name__} object holds its own, not in a variable "
            f"shared by every {make.__name__}"
        )
    return (
        f"keep it in a local variable of {make.__name__}, so that each `async with {make.__name__}(pool)` "
        "holds its own, not in a global or any other variable shared by every block"
    )


async def check_each_block_releases_its_own_connection(make, rng):
    pool = FakePool(rng)

    async with make(pool) as outer:
        use(pool, outer)
        async with make(pool) as inner:
            use(pool, inner)
        if inner is outer:
            raise AssertionError("two blocks, one inside the other, got the same connection.")

    a, b = outer.number, inner.number
    steps = [f"acquire #{a}", f"body uses #{a}", f"acquire #{b}", f"body uses #{b}"]
    steps += [f"release #{b}", f"release #{a}"]  # the inner block ends first
    await assert_steps(
        pool,
        steps,
        f"Each block must release the connection it acquired itself: {keep_your_own(make)}.",
    )


async def check_waits_for_the_pool_as_long_as_it_takes(make, rng, ex, wake_watch):
    """Each step of the pool takes SLOW s, and the code's own timers are judged by what they do
    (kata.testing.own_timers): as each step ends they run out (a time limit gives up, a fixed pause
    ends the block before the connection is back), then are held back until the block is over (a
    loop that checks a task every few ms never sees the step end); a timer that logs is fine."""
    pool = FakePool(rng, delay=SLOW)
    what = f"`async with {make.__name__}(pool)`"

    async def block():
        async with make(pool) as conn:
            use(pool, conn)
            return conn.number

    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, what, pool, named="the pool") as timers:
            pool.probe = timers
            fix = "Await the pool itself: `await pool.release(conn)` ends when the connection is back."
            number = await timers.awaited(asyncio.create_task(block()), fix=fix)

    await assert_steps(
        pool,
        [f"acquire #{number}", f"body uses #{number}", f"release #{number}"],
        f"Acquiring and releasing took {SLOW:.2f} s each here: await them, however long they take.",
    )


async def check_blocks_in_two_tasks_each_release_their_own(make, rng):
    """Two blocks open at once in two tasks, the first to start ending first (not nested)."""
    pool = FakePool(rng)
    conns = {}
    first_in, second_in, first_out = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def first():
        try:
            async with make(pool) as conn:
                use(pool, conn)
                conns["first"] = conn
                first_in.set()
                await second_in.wait()
        finally:
            first_in.set()
            first_out.set()

    async def second():
        await first_in.wait()
        try:
            async with make(pool) as conn:
                use(pool, conn)
                conns["second"] = conn
                second_in.set()
                await first_out.wait()
        finally:
            second_in.set()

    ended = await asyncio.gather(first(), second(), return_exceptions=True)
    mine, other = conns.get("first"), conns.get("second")
    if mine is not None and other is not None and pool.given and pool.given[0] is other:
        raise AssertionError(
            f"two tasks each ran `async with {make.__name__}(pool)` at the same time: the first got "
            f"{describe(mine)}, the second {describe(other)}, and when the first block ended it gave "
            f"back the second block's connection, not its own. {keep_your_own(make)[0].upper()}"
            f"{keep_your_own(make)[1:]}."
        )
    errors = [error for error in ended if isinstance(error, BaseException)]
    if mine is None or other is None:
        raise errors[0]  # a block never ran: the learner's own error ("not written yet" for a stub)
    a, b = mine.number, other.number
    steps = [f"acquire #{a}", f"body uses #{a}", f"acquire #{b}", f"body uses #{b}"]
    steps += [f"release #{a}", f"release #{b}"]  # the first block ends first
    await assert_steps(
        pool, steps, f"Each block must release the connection it acquired itself: {keep_your_own(make)}."
    )
    if errors:
        raise errors[0]


def errors_of_other_classes(rng):
    """Errors the block raises besides check_error_reaches_the_caller's ValueError: an Exception
    that code may take for "handled" (a slow query's TimeoutError), and a BaseException that is
    not an Exception (Aborted, as SystemExit and KeyboardInterrupt are)."""
    number = rng.randrange(1000)
    return [TimeoutError(f"query {number} took too long"), Aborted(f"block {number} was told to stop")]


def what_it_is(error):
    if isinstance(error, Exception):
        return f"{error!r}"
    return f"{error!r}, a BaseException that is not an Exception (as SystemExit and KeyboardInterrupt are)"


def swallow_none(make):
    """How `make` lets every error of its block go on."""
    if inspect.isclass(make):
        return (
            f"{make.__name__}.__aexit__ returned a true value for it, which tells Python the error was "
            "dealt with (an `exc_type` test such as `return issubclass(exc_type, TimeoutError)`, or "
            "one that returns True for what is not an Exception). Release the connection, then return "
            "None, whatever exc_type is: what to do about the error is the caller's business."
        )
    return (
        f"An `except` around the `yield` in {make.__name__} caught it and did not raise it again "
        "(an `except TimeoutError:`, or an `except BaseException:` that raises only Exceptions "
        "again). Release the connection in a `finally:` around the `yield`, with no `except`: the "
        "error then goes on by itself, whatever its class."
    )


async def check_errors_of_every_class_reach_the_caller(make, rng):
    # A red team's __aexit__ returned True for TimeoutError ("a slow query: handled"), and another's
    # for what is not an Exception ("exit quietly"); the other tests' blocks raise a ValueError only.
    for error in errors_of_other_classes(rng):
        pool = FakePool(rng)
        caught = None
        try:
            async with make(pool) as conn:
                use(pool, conn)
                raise error
        except BaseException as raised:
            if raised is not error and not made_from(raised, error):
                raise  # the learner's own error, or a check's
            caught = raised
        if caught is None:
            raise AssertionError(
                f"the block raised {what_it_is(error)}, but the error never reached the code around "
                f"`async with {make.__name__}(pool)`: it was swallowed, and the caller went on as if "
                f"the block had finished. {swallow_none(make)}"
            )
        if caught is not error:
            raise AssertionError(
                f"the block raised {error!r}, but the caller got {caught!r} instead, a new error made "
                "from it: let the block's own error go on unchanged, whatever its class (a bare "
                "`raise`, or no `except` at all: `finally:` is enough)."
            )


async def check_a_lease_used_twice_acquires_for_each_block(make, rng):
    # A red team's Lease.__aenter__ acquired only `if self.conn is None`: the second block got the
    # connection the first had given back, and released it a second time.
    pool = FakePool(rng)
    lease = make(pool)
    got = []  # (the block's connection, whether the pool had it lent out then)
    for _ in range(2):
        try:
            async with lease as conn:
                use(pool, conn)
                got.append((conn, any(conn is lent for lent in pool.lent)))
        except AssertionError:
            if not pool.refused:
                raise
    if len(got) == 2 and not got[1][1]:
        first, second = got[0][0], got[1][0]
        which = (
            "the very connection the first had given back" if second is first else "one already given back"
        )
        raise AssertionError(
            f"one {make.__name__} object was used for two `async with` blocks, one after the other: "
            f"the first block got {describe(first)}, and the second got {describe(second)}, {which}, "
            "which the pool may have lent to someone else meanwhile (and it was released twice). "
            "__aenter__ runs at every `async with`: acquire a new connection there every time "
            "(`self.conn = await self.pool.acquire()`), not only when none is kept yet."
        )
    steps = []
    for conn, _ in got:
        steps += [f"acquire #{conn.number}", f"body uses #{conn.number}", f"release #{conn.number}"]
    await assert_steps(
        pool,
        steps,
        f"Each `async with` of one {make.__name__} object acquires a connection of its own and releases it.",
    )


@pytest.mark.task(1)
async def test_lease_gives_the_block_the_connection_from_the_pool(ex, rng):
    await check_as_name_is_the_connection(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_releases_the_connection_when_the_block_ends(ex, rng):
    await check_released_after_the_block(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_releases_the_connection_when_the_block_raises(ex, rng):
    await check_released_when_the_block_raises(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_releases_the_connection_when_the_block_raises_a_baseexception(ex, rng):
    await check_released_when_the_block_raises_a_baseexception(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_lets_the_error_reach_the_caller_unchanged(ex, rng):
    await check_error_reaches_the_caller(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_lets_errors_of_every_class_reach_the_caller(ex, rng):
    await check_errors_of_every_class_reach_the_caller(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_releases_the_connection_when_the_block_is_cancelled(ex, rng):
    await check_released_when_the_block_is_cancelled(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_lets_a_failed_acquire_reach_the_caller(ex, rng):
    await check_a_failed_acquire_reaches_the_caller(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_lets_a_failed_release_reach_the_caller(ex, rng):
    await check_a_failed_release_reaches_the_caller(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_cancelled_while_acquiring_keeps_no_connection(ex, rng):
    await check_cancelled_while_acquiring_keeps_no_connection(ex.Lease, rng)


@pytest.mark.task(1)
async def test_nested_leases_each_release_their_own_connection(ex, rng):
    await check_each_block_releases_its_own_connection(ex.Lease, rng)


@pytest.mark.task(1)
async def test_lease_waits_for_the_pool_however_long_it_takes(ex, rng, wake_watch):
    await check_waits_for_the_pool_as_long_as_it_takes(ex.Lease, rng, ex, wake_watch)


@pytest.mark.task(1)
async def test_leases_in_two_tasks_at_once_each_release_their_own_connection(ex, rng):
    await check_blocks_in_two_tasks_each_release_their_own(ex.Lease, rng)


@pytest.mark.task(1)
async def test_a_lease_used_for_two_blocks_in_turn_acquires_a_connection_for_each(ex, rng):
    await check_a_lease_used_twice_acquires_for_each_block(ex.Lease, rng)


@pytest.mark.task(2)
async def test_borrow_gives_the_block_the_connection_from_the_pool(ex, rng):
    await check_as_name_is_the_connection(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_releases_the_connection_when_the_block_ends(ex, rng):
    await check_released_after_the_block(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_releases_the_connection_when_the_block_raises(ex, rng):
    await check_released_when_the_block_raises(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_releases_the_connection_when_the_block_raises_a_baseexception(ex, rng):
    await check_released_when_the_block_raises_a_baseexception(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_lets_the_error_reach_the_caller_unchanged(ex, rng):
    await check_error_reaches_the_caller(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_lets_errors_of_every_class_reach_the_caller(ex, rng):
    await check_errors_of_every_class_reach_the_caller(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_releases_the_connection_when_the_block_is_cancelled(ex, rng):
    await check_released_when_the_block_is_cancelled(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_lets_a_failed_acquire_reach_the_caller(ex, rng):
    await check_a_failed_acquire_reaches_the_caller(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_lets_a_failed_release_reach_the_caller(ex, rng):
    await check_a_failed_release_reaches_the_caller(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_cancelled_while_acquiring_keeps_no_connection(ex, rng):
    await check_cancelled_while_acquiring_keeps_no_connection(ex.borrow, rng)


@pytest.mark.task(2)
async def test_nested_borrows_each_release_their_own_connection(ex, rng):
    await check_each_block_releases_its_own_connection(ex.borrow, rng)


@pytest.mark.task(2)
async def test_borrow_waits_for_the_pool_however_long_it_takes(ex, rng, wake_watch):
    await check_waits_for_the_pool_as_long_as_it_takes(ex.borrow, rng, ex, wake_watch)


@pytest.mark.task(2)
async def test_borrows_in_two_tasks_at_once_each_release_their_own_connection(ex, rng):
    await check_blocks_in_two_tasks_each_release_their_own(ex.borrow, rng)
