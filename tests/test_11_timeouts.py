"""Exercise 11: a slow call is given up on time, cancelled, and the fast answers are kept."""

import asyncio

import pytest

from kata.testing import (
    FakeService,
    assert_call_count,
    assert_same,
    clock,
    describe,
    draw_timeline,
    limits,
    margins,
    not_all_at_once,
    stopwatch,
)
from kata.testing.cancelling import (
    STOPPING,
    WAIT,
    HeldStop,
    LeftRunning,
    Run,
    assert_ended_cancelled,
    cancelled_again_advice,
    left_running,
    left_running_message,
    settle,
    stop_calls,
)
from kata.testing.caps import (
    HELD_LONGEST,
    MANY_CALLS_STALL_LIMIT,
    assert_no_cap_of_its_own,
    held_until_all_in_flight,
    more_than_any_cap,
)
from kata.testing.clock import EARLY_WAKE
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.waiting import assert_slept_while_the_calls_ran

# A call far slower than any limit here: code without a timeout waits all of it,
# and still fails within a couple of seconds.
SLOW = 1.5
# How long after the limit a run may end. Scheduling noise on a loaded 2-core
# machine is under 0.05 s (FIELD-NOTES); a missing timeout costs SLOW.
LATE = 0.3
# asyncio may wake a sleeper a hair early; never by more than this.
EARLY = EARLY_WAKE  # asyncio may wake a sleeper a little early (kata.testing.clock)
BATCH_LIMIT = 0.3
# The every-call-at-once test's quiet batch: each call this long, inside a limit of 4 times it.
ALL_AT_ONCE = 0.2
# How many keys that test's batch has, at random: more than a cap of the code's own allows (a
# semaphore of 10 always falls short, one of 16 often).
MANY = (11, 20)
# A far-off limit, for a test that ends the call another way (a cancel, an error) long before it.
FAR_LIMIT = 0.8
# How long a cancelled call takes to stop, in the tests that the slow calls are stopped, as a real
# request closing its connection does: it stops only when the test lets it, HOLD s after the cancel
# (kata.testing.cancelling.HeldStop), so code that cancels a call without waiting for it to end
# returns while it is still stopping, there to see even after the answer has crossed from another
# process (judge mode). So does code that waits a fixed time shorter than HOLD for it to stop; a
# fixed wait of LATE or more is caught by the tests that the answer comes within the limit + LATE
# (a call there stops at once), so no fixed wait passes both.
HOLD = LATE + 0.1
# A call this much slower than the limit: past it, however little. Correct code's timer is due that
# long before the call ends, and two timers of one loop fire in the order they are due, under any
# load; only a process kept off its core for that long sees both at once (a failure on time).
JUST_AFTER = 0.1
# How to pass the limit on, said when the code added time to it (kata.testing.limits).
PASS_THE_LIMIT_ON = (
    "Pass `limit` on as it is (`asyncio.timeout(limit)`), with no time added to it (`limit + 0.05`, "
    "`limit * 1.5`)."
)


def assert_no_time_added(wakes, limit, function):
    """kata.testing.limits.assert_no_time_added, for 11's functions."""
    check = f"11 {function}: no timer of its own runs out once the limit is up"
    limits.assert_no_time_added(wakes, limit, function, PASS_THE_LIMIT_ON, check)


# What code that checks on its call in a loop should do instead.
AWAIT_UNDER_THE_LIMIT = (
    "Await the call instead, under `asyncio.timeout(limit)`: your code sleeps until the call "
    "answers or the limit is up, and wakes once, at whichever comes first."
)

# Answers that are empty, zero or False: answers all the same, never a timeout's None.
FALSY = (0, 0.0, "", [], {}, False)

# Said when a function of the exercise, cancelled from outside, did not end cancelled.
NOT_A_TIMEOUT = (
    "A cancel from outside is not a timeout: only its own limit means None. Catch `TimeoutError` "
    "alone; `asyncio.timeout` turns its own cancellation into TimeoutError for you, and lets any "
    "other cancellation through."
)

# Why a TimeoutError escapes fetch_or_none when its limit is up: no `except`, or one in the wrong place.
CATCH_OUTSIDE = (
    "`asyncio.timeout` raises TimeoutError as its block is left (inside the block, the call is "
    "interrupted by a CancelledError), so an `except TimeoutError:` inside the `async with` block "
    "never sees it. Put the `try:` and `except TimeoutError: return None` around the "
    "`async with asyncio.timeout(limit):` block, not inside it (or around "
    "`await asyncio.wait_for(...)`)."
)


def value_for(key):
    return {"key": key, "value": f"value-{key}"}


def some_keys(rng, count):
    return rng.sample(range(100, 1000), count)


async def fetch_or_none_of(ex, fetch, key, limit):
    """fetch_or_none's result, or a plain-words failure when a TimeoutError escaped it."""
    try:
        return await ex.fetch_or_none(fetch, key, limit)
    except TimeoutError:
        raise AssertionError(
            f"fetch({key}) takes {SLOW:.2f} s and the limit was {limit:.2f} s: fetch_or_none should "
            f"have returned None, but it raised TimeoutError. {CATCH_OUTSIDE}"
        ) from None


def gave_up_at_the_limit(result, elapsed, limit, fetch, check, calls=1):
    """Note a cut-off (margins.cut_off) when fetch_or_none gave None after waiting its whole limit
    out, though fetch answers far inside it, and raise when its call never reached fetch: only a
    busy machine does that to correct code (a call that starts late, or, in judge mode, a call whose
    cancel overtook it). More calls than `calls` is a mistake the count explains, in plain words."""
    if result is not None or elapsed < limit - EARLY or len(fetch.calls) > calls:
        return
    margins.cut_off(check)
    if not fetch.calls:
        raise AssertionError(
            f"fetch_or_none returned None after {elapsed:.2f} s, when its limit of {limit:.2f} s was "
            "up, and fetch was never called: call `await fetch(key)` inside the timeout, at once."
        )


def labels(calls):
    return ", ".join(call.label("fetch") for call in calls)


def gave_none_then_waited(result, finished):
    """Whether `result` (a dict of key to value) gave None for every call in `finished`: calls given
    up on at the limit, and then waited for to their end instead of being cancelled."""
    return type(result) is dict and all(
        call.args[0] in result and result[call.args[0]] is None for call in finished
    )


WAITED_FOR_THEM = (
    "{what} gave up on {them} at the limit (None in its result), and then waited for {them} to "
    "finish before returning: a call you give up on must be stopped, not waited for. Cancel "
    "every pending task (`task.cancel()`), then wait until they have ended "
    "(`await asyncio.gather(*pending, return_exceptions=True)`): cancelled, they end at once."
)


async def assert_stopped(fetch, keys, limit, what, held, result=None):
    """Every call for `keys` was cancelled when the limit was up and had ended when `what` returned:
    not left running, not still stopping, not let finish, nor waited on long after it had stopped.
    Call it right after `what` returned; `held` holds the cancelled calls stopping (HeldStop)."""
    ended_at = clock.monotonic()
    slow = [call for call in fetch.calls if call.args[0] in keys]
    running = [call for call in slow if call.end is None]  # still running, or still stopping
    await held.release()
    if running:
        # Sorted (cancelled by the code, or not) before they are stopped here, so that the loop
        # guard does not report them again: this test's own cancel would make them all look cancelled.
        _, untouched = await left_running(running)
        were = "was" if len(running) == 1 else "were"
        early = held.ended_while_stopping(ended_at)
        guessed = (
            f" {what} returned {early:.2f} s after its cancel reached {labels(running[:1])}: a fixed "
            "wait guesses how long a call takes to stop, and this one took longer."
            if early is not None and early >= 0.05
            else ""
        )
        if not untouched:
            raise AssertionError(
                f"{labels(running)} {were} cancelled but still stopping when {what} returned: "
                "`task.cancel()` only asks a task to stop, and it stops later, the next time it runs "
                "(neither one loop turn, `await asyncio.sleep(0)`, nor any fixed wait will do: a call "
                f"takes as long as it takes to stop).{guessed} After cancelling the pending tasks, wait "
                "until they have ended: `await asyncio.gather(*pending, return_exceptions=True)` (or "
                "`asyncio.wait(pending)`). `asyncio.timeout` and `asyncio.wait_for` do that for you."
            )
        were = "was" if len(untouched) == 1 else "were"
        raise AssertionError(
            f"{labels(untouched)} {were} still running when {what} returned: giving up must also stop "
            "the call. `asyncio.timeout` and `asyncio.wait_for` cancel it for you; after "
            "`asyncio.wait(..., timeout=...)`, cancel every pending task and await it yourself."
        )
    finished = [call for call in slow if call.outcome == "returned"]
    its = "its" if len(finished) == 1 else "their"
    if finished and gave_none_then_waited(result, finished):
        them = "it" if len(finished) == 1 else "them"
        raise AssertionError(
            f"{labels(finished)} ran to {its} end ({SLOW:.2f} s) though the limit was {limit:.2f} s: "
            + WAITED_FOR_THEM.format(what=what, them=them)
        )
    if finished:
        raise AssertionError(
            f"{labels(finished)} ran to {its} end ({SLOW:.2f} s) though the limit was {limit:.2f} s: "
            f"{what} should cancel a call still running when the limit is up. Is there a timeout "
            "at all, and is it given `limit`?"
        )
    after = held.waited_on(ended_at, f"11 {what}: returns < HOLD_AFTER once the calls have stopped")
    if after is not None:
        raise AssertionError(
            f"{what} cancelled {labels(slow)} when the limit was up, which then took {held.hold:.2f} s "
            f"to stop, and it returned {after:.2f} s after that: it waited a fixed time (a sleep, or "
            "`asyncio.wait` with a timeout) instead of until the cancelled calls had ended. A call takes "
            "as long as it takes to stop, shorter or longer than any guess: wait for the tasks "
            "themselves (`await asyncio.gather(*pending, return_exceptions=True)`), which ends the "
            "moment they have stopped. `asyncio.timeout` and `asyncio.wait_for` do that for you."
        )


# Task 1 -------------------------------------------------------------------------------


@pytest.mark.task(1)
async def test_an_answer_inside_the_limit_is_returned(ex, rng):
    key = rng.randrange(100, 1000)
    delay = round(rng.uniform(0.15, 0.2), 3)
    limit = round(delay + 0.4, 2)
    fetch = FakeService("fetch", delay=delay, reply=value_for)

    with stopwatch() as run:
        result = await ex.fetch_or_none(fetch, key, limit)

    # Before any count: it gave up at the limit (late on a busy machine?), perhaps before its call
    # reached fetch at all (judge mode: the cancel overtook the call).
    gave_up_at_the_limit(
        result, run.elapsed, limit, fetch, "11 fetch_or_none: an answer inside the limit is returned"
    )
    assert_call_count(fetch, 1)
    assert_same(
        result,
        value_for(key),
        f"fetch({key}) answers in {delay:.2f} s, inside the limit of {limit:.2f} s, so fetch_or_none",
    )


@pytest.mark.task(1)
async def test_a_quick_answer_comes_back_without_waiting_for_the_limit(ex, rng):
    key = rng.randrange(100, 1000)
    delay = round(rng.uniform(0.15, 0.2), 3)
    limit = round(delay + 0.4, 2)
    fetch = FakeService("fetch", delay=delay, reply=value_for)

    with stopwatch() as run:
        await ex.fetch_or_none(fetch, key, limit)

    if margins.over(run.elapsed, delay + 0.2, "11 fetch_or_none: a quick answer returns < its delay + 0.2 s"):
        raise AssertionError(
            f"fetch({key}) answered after {delay:.2f} s, but fetch_or_none returned after "
            f"{run.elapsed:.2f} s (the limit was {limit:.2f} s). The limit is the longest you "
            "wait, not how long you always wait: return the answer as soon as it arrives."
        )


@pytest.mark.task(1)
async def test_a_call_inside_the_limit_is_awaited_not_checked_on(ex, rng, wake_watch):
    # One call answering well inside a long limit, so that nothing happens for a while: code that
    # checks on it in a loop (a sleep, or a wait with a short timeout, between looks, the clock read
    # against the limit) passes every test of the time alone, with time added to its limit too.
    # Its own timers are judged by what they do as the call ends (kata.testing.own_timers), the
    # limit it is given left alone: a heartbeat passes, a poll never sees its call end.
    key = rng.randrange(100, 1000)
    fetch = FakeService("fetch", delay=ALL_AT_ONCE, reply=value_for)
    limit = 4 * ALL_AT_ONCE
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "fetch_or_none", fetch, given_limit=limit) as timers:
            task = asyncio.create_task(ex.fetch_or_none(fetch, key, limit))
            await timers.awaited(task, value_for(key), fix=AWAIT_UNDER_THE_LIMIT)
    assert_slept_while_the_calls_ran(
        wakes, fetch.calls, {task: "fetch_or_none"}, "fetch_or_none", AWAIT_UNDER_THE_LIMIT, probe=timers
    )


@pytest.mark.task(1)
async def test_a_slow_call_gives_none_when_the_limit_is_up(ex, rng):
    key = rng.randrange(100, 1000)
    limit = round(rng.uniform(0.1, 0.2), 2)
    fetch = FakeService("fetch", delay=SLOW, reply=value_for)

    with stopwatch() as run:
        result = await fetch_or_none_of(ex, fetch, key, limit)

    if margins.over(run.elapsed, limit + LATE, "11 fetch_or_none: gives up < limit + LATE"):
        raise AssertionError(
            f"fetch({key}) takes {SLOW:.2f} s and the limit was {limit:.2f} s, but fetch_or_none "
            f"took {run.elapsed:.2f} s to return. Wrap the call in `async with asyncio.timeout(limit):` "
            "(or `asyncio.wait_for(..., timeout=limit)`) so that it gives up when the limit is up."
        )
    if margins.under(run.elapsed, limit - EARLY, "11 fetch_or_none: waits >= limit - EARLY"):
        raise AssertionError(
            f"fetch_or_none gave up after {run.elapsed:.2f} s, before the limit of {limit:.2f} s: "
            "give the call the whole limit."
        )
    assert_same(result, None, f"fetch({key}) did not answer within {limit:.2f} s, so fetch_or_none")


@pytest.mark.task(1)
async def test_a_slow_call_is_stopped_not_left_running(ex, rng):
    key = rng.randrange(100, 1000)
    limit = round(rng.uniform(0.1, 0.2), 2)
    fetch = FakeService("fetch", delay=SLOW, reply=value_for)
    held = HeldStop(HOLD, fetch, own_timers=False)  # the docstring gives the limit: its timer is pending

    try:
        await fetch_or_none_of(ex, fetch, key, limit)
        await assert_stopped(fetch, {key}, limit, "fetch_or_none", held)
    finally:
        await held.release()
    assert_call_count(fetch, 1)


@pytest.mark.task(1)
async def test_a_limit_of_zero_gives_none_at_once(ex, rng):
    # A limit of 0 s is no time at all, not "no limit": every call takes longer than that. A red
    # team's fetch_or_none wrote `asyncio.timeout(limit or None)`, and waited for the whole call.
    key = rng.randrange(100, 1000)
    limit = rng.choice([0, 0.0])
    fetch = FakeService("fetch", delay=SLOW, reply=value_for)

    with stopwatch() as run:
        result = await fetch_or_none_of(ex, fetch, key, limit)

    if result is not None:
        raise AssertionError(
            f"fetch_or_none(fetch, {key}, {limit!r}) returned {describe(result)} after {run.elapsed:.2f} s "
            f"(fetch({key}) takes {SLOW:.2f} s): it took a limit of 0 s for no limit at all. 0 is a "
            "limit like any other, and every call takes longer than 0 s, so the answer is None. Pass "
            "`limit` on as it is (`asyncio.timeout(limit)`): no `limit or None`, no `if not limit:`."
        )
    if margins.over(run.elapsed, LATE, "11 fetch_or_none: a limit of 0 gives None < LATE"):
        raise AssertionError(
            f"fetch_or_none(fetch, {key}, {limit!r}) returned None, but only after {run.elapsed:.2f} s: "
            "with a limit of 0 s, give up at once. Pass `limit` on as it is (`asyncio.timeout(limit)`)."
        )


@pytest.mark.task(1)
async def test_an_error_from_fetch_is_not_a_timeout(ex, rng):
    # Of two kinds: a plain error, and an OSError as a lost connection raises (TimeoutError is an
    # OSError too, so `except OSError:` turns every failed connection into a timeout's None).
    key = rng.randrange(100, 1000)
    for error in (LookupError(f"no item {key}"), ConnectionRefusedError(111, "Connection refused")):
        fetch = FakeService("fetch", delay=0.05, reply=value_for, fail=lambda _key, error=error: error)
        await assert_error_reaches_the_caller(ex, fetch, key, error)


async def assert_error_reaches_the_caller(ex, fetch, key, error):
    limit = 0.5
    with stopwatch() as run:
        try:
            result = await ex.fetch_or_none(fetch, key, limit)
        except type(error) as raised:
            if raised is not error:
                raise AssertionError(
                    f"fetch_or_none should let fetch's own error through, that very object: {error!r}; "
                    f"found {describe(raised)}"
                ) from None
            return
    if run.elapsed >= limit - EARLY:  # it gave up at the limit: the error came late on a busy machine?
        margins.cut_off("11 fetch_or_none: an error inside the limit reaches the caller")
    caught = (
        "not every exception, nor every `OSError` (TimeoutError is one kind of OSError, a refused "
        "connection another)"
        if isinstance(error, OSError)
        else "not every exception"
    )
    raise AssertionError(
        f"fetch({key}) raised {error!r} after 0.05 s, well inside the limit, and fetch_or_none "
        f"returned {describe(result)} after {run.elapsed:.2f} s. Only a timeout means None: catch "
        f"`TimeoutError` alone, {caught}, and let other errors reach the caller."
    )


@pytest.mark.task(1)
async def test_an_answer_that_is_empty_zero_or_false_is_returned_as_it_is(ex, rng):
    # A key each: this is not a test of caching (test_every_call_asks_fetch_afresh is).
    for key, falsy in zip(some_keys(rng, len(FALSY)), FALSY, strict=True):
        fetch = FakeService("fetch", delay=0.01, reply=lambda _key, falsy=falsy: falsy)
        with stopwatch() as run:
            result = await ex.fetch_or_none(fetch, key, FAR_LIMIT)
        gave_up_at_the_limit(
            result,
            run.elapsed,
            FAR_LIMIT,
            fetch,
            "11 fetch_or_none: a falsy answer inside the limit is returned",
        )
        if result is None and fetch.calls and fetch.calls[0].outcome == "returned":
            raise AssertionError(
                f"fetch({key}) answered {falsy!r} after 0.01 s, well inside the limit of {FAR_LIMIT:.2f} s, "
                "and fetch_or_none returned None: None means only that the limit was up. An answer that "
                "is empty, zero or False is an answer all the same: return it as it is (no `or None`, "
                "no `if not value:`)."
            )
        assert_same(result, falsy, f"fetch({key}) answered {falsy!r} inside the limit, so fetch_or_none")


@pytest.mark.task(1)
async def test_a_call_just_slower_than_the_limit_gives_none(ex, rng, wake_watch):
    key = rng.randrange(100, 1000)
    limit = round(rng.uniform(0.25, 0.35), 2)
    delay = round(limit + JUST_AFTER, 2)
    fetch = FakeService("fetch", delay=delay, reply=value_for)

    async with wake_watch(ex) as wakes:
        with stopwatch() as run:
            result = await fetch_or_none_of(ex, fetch, key, limit)

    if result is not None:
        margins.over(
            run.elapsed, limit + JUST_AFTER / 2, "11 fetch_or_none: a call just past the limit gives None"
        )
        raise AssertionError(
            f"fetch({key}) answered after {delay:.2f} s, {JUST_AFTER:.2f} s past the limit of {limit:.2f} s, "
            f"and fetch_or_none returned {describe(result)} after {run.elapsed:.2f} s: a call slower than "
            "the limit, however little, gives None. Pass `limit` on as it is (`asyncio.timeout(limit)`), "
            "with no time added to it (`limit + 0.2`, `limit * 1.5`)."
        )
    assert_no_time_added(wakes, limit, "fetch_or_none")


@pytest.mark.task(1)
async def test_a_key_that_timed_out_once_is_asked_again_next_time(ex, rng):
    key = rng.randrange(100, 1000)
    slow = FakeService("fetch", delay=SLOW, reply=value_for)
    first = await fetch_or_none_of(ex, slow, key, 0.1)
    await let_calls_end(slow)
    assert_same(first, None, f"fetch({key}) took {SLOW:.2f} s, past the limit of 0.10 s, so fetch_or_none")

    fetch = FakeService("fetch", delay=0.01, reply=value_for)
    with stopwatch() as run:
        result = await ex.fetch_or_none(fetch, key, FAR_LIMIT)
    gave_up_at_the_limit(
        result, run.elapsed, FAR_LIMIT, fetch, "11 fetch_or_none: a quick answer arrives within the limit"
    )
    if not fetch.calls:
        raise AssertionError(
            f"fetch_or_none was called for {key} again, after a first call that had timed out, with a "
            f"fetch that answers in 0.01 s: it never called fetch, and gave {describe(result)}. A timeout "
            "says only that the call was slow that time: keep nothing from one call to the next (no set "
            "of keys that timed out in a variable outside the function), and ask `fetch` every time."
        )
    assert_same(result, value_for(key), f"the second call of fetch_or_none for {key}")


def changing_answers(round_number):
    """A fast fetch whose answers for the same key change from one call of the learner's function
    to the next, as a live service's do."""
    return FakeService("fetch", delay=0.01, reply=lambda key: {**value_for(key), "round": round_number})


def kept_between_calls(what, key, fetch, found):
    """The plain-words failure of `what`, called a second time, that gave the first call's answer
    `found` for `key` without asking `fetch`."""
    asked = sorted({call.args[0] for call in fetch.calls})
    calls = f"called fetch only for {asked}" if asked else "never called fetch"
    return AssertionError(
        f"{what} was called a second time, with {key} again, and a fetch whose answer for {key} has "
        f"changed to {describe({**value_for(key), 'round': 2})}: it {calls}, and gave "
        f"{describe(found)} for {key}, the first call's answer. Keep nothing from one call to the next "
        "(no cache of results in a variable outside the function): every call asks `fetch` afresh."
    )


@pytest.mark.task(1)
async def test_every_call_asks_fetch_afresh(ex, rng):
    key = rng.randrange(100, 1000)
    for round_number in (1, 2):
        fetch = changing_answers(round_number)
        with stopwatch() as run:
            result = await ex.fetch_or_none(fetch, key, FAR_LIMIT)
        expected = {**value_for(key), "round": round_number}
        gave_up_at_the_limit(
            result, run.elapsed, FAR_LIMIT, fetch, "11 fetch_or_none: a quick answer arrives within the limit"
        )
        if round_number == 2 and not fetch.calls and result != expected:
            raise kept_between_calls("fetch_or_none", key, fetch, result)
        assert_call_count(fetch, 1, f"call {round_number} of fetch_or_none fetches the key once")
        assert_same(result, expected, f"call {round_number} of fetch_or_none")


@pytest.mark.task(1)
async def test_a_cancel_from_the_caller_is_not_a_timeout(ex, rng):
    key = rng.randrange(100, 1000)
    fetch = FakeService("fetch", delay=SLOW, reply=value_for)
    during = f"while fetch({key}) ran, long before the limit of {FAR_LIMIT:.2f} s"

    # The README's rule: a function cancelled from outside ends cancelled, with nothing it started
    # still running. A call run as a task under `asyncio.wait(..., timeout=limit)`, cancelled only
    # after the wait returned, is left running when the cancel comes during the wait.
    run = Run(
        ex.fetch_or_none(fetch, key, FAR_LIMIT),
        snapshot=lambda: [call for call in fetch.calls if call.end is None],
    )
    fetch.on_start = lambda _call: run.cancel(during)
    finished = await run.finish(FAR_LIMIT + WAIT)
    stopping, untouched = await left_running(run.left or [])
    if not finished:
        await run.stop()
        await stop_calls(fetch.calls)

    assert_ended_cancelled(
        run,
        "fetch_or_none",
        unreached=f"without calling fetch({key})",
        started=f"its call fetch({key})",
        left=LeftRunning.calls(stopping, untouched, "fetch"),
        stop_advice="Whatever way fetch_or_none ends, a cancel from its caller included, the call it "
        "started must be cancelled and have stopped. `asyncio.timeout` and `asyncio.wait_for` do both "
        "for you: cancelled, they cancel the call and wait for it. With a task and `asyncio.wait`, do "
        "it in a `finally:` block: cancel the task, then `await asyncio.gather(task, "
        "return_exceptions=True)`.",
        cancel_advice=NOT_A_TIMEOUT,
    )


# Task 2 -------------------------------------------------------------------------------


def make_batch(rng, count, slow_count, fast=(0.02, 0.1), avoid=()):
    """Keys (none of those in `avoid`), the slow ones among them, and a fetch where those take SLOW
    and the rest answer fast (each within `fast`, seconds)."""
    keys = rng.sample([key for key in range(100, 1000) if key not in avoid], count)
    slow = set(rng.sample(keys, slow_count))
    fast_delay = {key: round(rng.uniform(*fast), 3) for key in keys}
    fetch = FakeService(
        "fetch",
        delay=lambda key: SLOW if key in slow else fast_delay[key],
        reply=value_for,
    )
    return keys, slow, fetch


PROBE_DELAY = 0.3  # a call that fetch_or_none gives up on, when run_batch asks why a TimeoutError escaped
PROBE_LIMIT = 0.05
# Read by name, not as `ex.fetch_or_none`: a failed task-2 test's note "what this test calls, in
# your code" (kata.checked_names) then names fetch_all_within alone, which may not call it at all;
# the probe runs only when a TimeoutError escaped, and its message names fetch_or_none itself.
PROBED = "fetch_or_none"


async def fetch_or_none_raises_timeout(ex):
    """Whether fetch_or_none, given a call slower than its limit, raises TimeoutError instead of
    returning None (the likely source of a TimeoutError out of fetch_all_within)."""
    fetch = FakeService("fetch", delay=PROBE_DELAY, reply=value_for)
    try:
        await getattr(ex, PROBED)(fetch, 1, PROBE_LIMIT)
    except TimeoutError:
        return True
    except Exception:
        return False  # another mistake, for task 1's tests to explain
    finally:
        await settle()
        await stop_calls(fetch.calls)
    return False


async def run_batch(ex, fetch, keys, limit):
    """fetch_all_within's result, or a plain-words failure when it raised a TimeoutError."""
    try:
        return await ex.fetch_all_within(fetch, keys, limit)
    except TimeoutError:
        if await fetch_or_none_raises_timeout(ex):
            raise AssertionError(
                f"fetch_all_within raised TimeoutError, and so does fetch_or_none: "
                f"`fetch_or_none(fetch, key, {PROBE_LIMIT})` on a call of {PROBE_DELAY:.2f} s raised "
                f"TimeoutError instead of returning None. {CATCH_OUTSIDE} If fetch_all_within calls "
                "fetch_or_none, that mends both."
            ) from None
        raise AssertionError(
            f"fetch_all_within raised TimeoutError: when the limit of {limit:.2f} s is up, it should "
            "still return a dict, with the values that did arrive and None for the calls that did "
            "not. Catch the timeout of each call, not of the whole batch."
        ) from None


def nones_at_the_limit(result, elapsed, limit, fetch, check):
    """Note a cut-off (margins.cut_off) when the batch gave None for a call after waiting its whole
    limit out, though every call here answers (or fails) far inside it: only a busy machine does
    that to correct code (a call that starts or ends late, or, in judge mode, a call whose cancel
    overtook it). A mistake that loses answers returns long before the limit, and stays plain.
    A key whose call never reached fetch fails here, in those words."""
    if elapsed < limit - EARLY or type(result) is not dict or None not in result.values():
        return
    margins.cut_off(check)
    unasked = [key for key in never_asked(fetch, result) if result[key] is None]
    if unasked:
        raise AssertionError(
            f"fetch({unasked[0]}) was never called, and fetch_all_within gave None for it after "
            f"{elapsed:.2f} s, when the limit of {limit:.2f} s was up: start every call at once, as "
            "soon as fetch_all_within is called, each under its own timeout of `limit`."
        )


def never_asked(fetch, keys):
    """The keys fetch was never called for."""
    asked = {call.args[0] for call in fetch.calls}
    return [key for key in keys if key not in asked]


def assert_not_one_after_another(fetch, keys):
    """First, in a test of the batch: code that calls fetch for one key at a time fails in those
    words, not in the words of what that costs the test (a key never asked, a result late)."""
    if len(keys) < 2 or not fetch.calls or fetch.peak > 1:
        return
    asked = len(fetch.calls)
    never = f", and never asked for {len(keys) - asked} of them" if asked < len(keys) else ""
    raise AssertionError(
        f"fetch_all_within called fetch for the {len(keys)} keys one after another (each call started "
        f"once the one before had ended){never}. The limit is for the whole batch, not for each call "
        "in turn: start every call at once (gather), each with its own timeout of `limit`.\n"
        f"observed:\n{draw_timeline(fetch.calls, 'fetch')}"
    )


@pytest.mark.task(2)
async def test_fast_answers_are_kept_and_slow_ones_are_none(ex, rng):
    keys, slow, fetch = make_batch(rng, 6, rng.randint(2, 3))

    result = await run_batch(ex, fetch, keys, BATCH_LIMIT)

    assert_not_one_after_another(fetch, keys)
    expected = {key: None if key in slow else value_for(key) for key in keys}
    if type(result) is dict and set(result) == set(keys):
        waited = sorted(key for key in slow if result[key] is not None)
        if waited:
            raise AssertionError(
                f"fetch({waited[0]}) takes {SLOW:.2f} s, far beyond the limit of {BATCH_LIMIT:.2f} s, "
                f"so its entry should be None; found {describe(result[waited[0]])}. Give each call "
                "a timeout of `limit` (`asyncio.timeout` or `asyncio.wait_for`)."
            )
        lost = sorted(key for key in keys if key not in slow and result[key] is None)
        if lost:
            unasked = never_asked(fetch, lost)
            if unasked or any(c.outcome == "cancelled" for c in fetch.calls if c.args[0] in lost):
                # Still running when the limit was up: late on a busy machine, or started late; or,
                # in judge mode, cancelled before it reached fetch.
                margins.cut_off("11 fetch_all_within: a fast call answers within the limit")
            if unasked:
                raise AssertionError(
                    f"fetch({unasked[0]}) was never called, and fetch_all_within gave None for it when "
                    f"the limit of {BATCH_LIMIT:.2f} s was up: start every call at once, as soon as "
                    "fetch_all_within is called, each under its own timeout of `limit`."
                )
            whole = (
                "a timeout around the whole batch cancels the fast calls' results along with the "
                "slow calls: give each call its own timeout, inside the gather"
                if len(lost) == len(keys) - len(slow)
                else "only the calls still running when the limit is up should give None"
            )
            raise AssertionError(
                f"fetch({lost[0]}) answered in {fetch.delay_for(lost[0]):.2f} s, well inside the limit "
                f"of {BATCH_LIMIT:.2f} s, but your result has None for it: {whole}."
            )
    assert_same(result, expected, "fetch_all_within's result")


AWAIT_EACH_UNDER_ITS_LIMIT = (
    "Await them instead: `asyncio.gather(...)` of the calls, each under its own "
    "`asyncio.timeout(limit)`, sleeps until every call has answered or run out of time."
)


@pytest.mark.task(2)
async def test_every_call_starts_at_once(ex, rng, wake_watch):
    # Calls of one length, all answering inside a long limit, so that nothing happens for a while:
    # tasks checked on in a loop (a sleep, or a wait with a short timeout, between looks) run
    # together too, and pass every test of the time alone. (Each call's own timeout is the
    # docstring's limit: its timer is not judged here, only the wake-ups.)
    # Its own timers are judged by what they do as the calls end (kata.testing.own_timers), the
    # limit it is given left alone: a heartbeat passes, a poll never sees its calls end.
    quiet = some_keys(rng, 4)
    slow = FakeService("fetch", delay=ALL_AT_ONCE, reply=value_for)
    limit = 4 * ALL_AT_ONCE
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "fetch_all_within", slow, given_limit=limit) as timers:
            task = asyncio.create_task(run_batch(ex, slow, quiet, limit))
            await timers.awaited(task, {key: value_for(key) for key in quiet}, fix=AWAIT_EACH_UNDER_ITS_LIMIT)
    # More keys than any cap a learner might add "to be polite" (a semaphore of 10), and a random
    # number of them: calls made at most 10 at a time are never all in flight at once. The fast calls
    # answer late in the limit, so that in judge mode the last call starts before the first has ended;
    # their values are not read here, so the test takes no longer for them.
    # None of the quiet batch's keys: code that keeps answers between calls fails elsewhere, in words.
    keys, _, fetch = make_batch(rng, rng.randint(*MANY), 2, fast=(0.15, 0.2), avoid=quiet)

    result = await run_batch(ex, fetch, keys, BATCH_LIMIT)

    assert_not_one_after_another(fetch, keys)
    unasked = never_asked(fetch, keys)
    if unasked and type(result) is dict and all(result.get(key, 0) is None for key in unasked):
        # Given None at the limit before its call reached fetch: in judge mode, on a busy machine,
        # its cancel can overtake the call. (Code that never calls fetch for a key fails plainly
        # in the test that every call asks fetch afresh.)
        margins.cut_off("11 fetch_all_within: every call reaches fetch within the limit")
    assert_call_count(fetch, len(keys))
    if margins.short_of(fetch.peak, len(keys), "11 run_batch: every call in flight at once"):
        why = (
            "with a timeout for each call in turn, every slow call costs the whole limit again"
            if fetch.peak <= 1
            else "calls held back by a cap of your own (a semaphore, or batches of a few keys) start "
            "late, and a call held back past the limit gives None without ever being asked. The "
            "docstring asks for every call at the same time, however many keys there are"
        )
        raise AssertionError(
            f"{not_all_at_once(fetch, len(keys))}: {why}. Start them all together (gather), each with "
            f"its own timeout.\nobserved:\n{draw_timeline(fetch.calls, 'fetch')}"
        )
    assert_slept_while_the_calls_ran(
        wakes,
        slow.calls,
        {task: "fetch_all_within"},
        "fetch_all_within",
        AWAIT_EACH_UNDER_ITS_LIMIT,
        probe=timers,
    )


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(2)
async def test_however_many_keys_there_are_every_call_runs_at_once(ex, rng):
    # A red team's Semaphore(20), just above the other tests' keys (kata.testing.caps); the limit is
    # far longer than the calls are held.
    count = more_than_any_cap(rng)
    keys = some_keys(rng, count)
    limit = 3 * HELD_LONGEST
    fetch = FakeService("fetch", delay=0.02, reply=value_for)
    try:
        with held_until_all_in_flight(fetch, count):
            result = await run_batch(ex, fetch, keys, limit)
    finally:
        await let_calls_end(fetch)

    assert_no_cap_of_its_own(
        fetch,
        count,
        f"fetch_all_within(fetch, <{count} keys>, {limit:g})",
        "keys",
        "gather all of them at once, each with its own timeout",
    )
    assert_same(result, {key: value_for(key) for key in keys}, "fetch_all_within's result")


@pytest.mark.task(2)
async def test_the_whole_batch_ends_when_the_limit_is_up(ex, rng):
    keys, slow, fetch = make_batch(rng, 6, 3)

    with stopwatch() as run:
        result = await run_batch(ex, fetch, keys, BATCH_LIMIT)

    if margins.over(run.elapsed, BATCH_LIMIT + LATE, "11 fetch_all_within: batch ends < limit + LATE"):
        finished = [call for call in fetch.calls if call.args[0] in slow and call.outcome == "returned"]
        if finished and gave_none_then_waited(result, finished):
            raise AssertionError(
                f"{len(slow)} of the calls take {SLOW:.2f} s and the limit was {BATCH_LIMIT:.2f} s, but "
                f"fetch_all_within took {run.elapsed:.2f} s: "
                + WAITED_FOR_THEM.format(what="it", them="them")
                + f"\nobserved:\n{draw_timeline(fetch.calls, 'fetch')}"
            )
        raise AssertionError(
            f"{len(slow)} of the calls take {SLOW:.2f} s and the limit was {BATCH_LIMIT:.2f} s, but "
            f"fetch_all_within took {run.elapsed:.2f} s. Run the calls at the same time, each with "
            "a timeout of `limit`, so the whole batch is over when the limit is up.\n"
            f"observed:\n{draw_timeline(fetch.calls, 'fetch')}"
        )
    if margins.under(run.elapsed, BATCH_LIMIT - EARLY, "11 fetch_all_within: batch waits >= limit - EARLY"):
        raise AssertionError(
            f"fetch_all_within returned after {run.elapsed:.2f} s, before the limit of "
            f"{BATCH_LIMIT:.2f} s: give the slow calls the whole limit."
        )


@pytest.mark.task(2)
async def test_a_limit_of_zero_gives_none_for_every_call_at_once(ex, rng):
    # A limit of 0 s is no time at all, not "no limit" (`asyncio.timeout(limit or None)` makes it so).
    keys = some_keys(rng, 4)
    limit = rng.choice([0, 0.0])
    fetch = FakeService("fetch", delay=SLOW, reply=value_for)

    with stopwatch() as run:
        result = await run_batch(ex, fetch, keys, limit)

    answered = [key for key in keys if type(result) is dict and result.get(key) is not None]
    if answered:
        raise AssertionError(
            f"fetch_all_within(fetch, {keys}, {limit!r}) returned {describe(result)} after "
            f"{run.elapsed:.2f} s (every call takes {SLOW:.2f} s): it took a limit of 0 s for no limit "
            "at all. 0 is a limit like any other, and every call takes longer than 0 s, so every key "
            "maps to None. Pass `limit` on as it is (`asyncio.timeout(limit)`): no `limit or None`, "
            "no `if not limit:`."
        )
    if margins.over(run.elapsed, LATE, "11 fetch_all_within: a limit of 0 gives None < LATE"):
        raise AssertionError(
            f"fetch_all_within(fetch, {keys}, {limit!r}) returned after {run.elapsed:.2f} s: with a "
            "limit of 0 s, give up on every call at once. Pass `limit` on as it is."
        )
    assert_same(result, dict.fromkeys(keys), f"fetch_all_within(fetch, {keys}, {limit!r})")


@pytest.mark.task(2)
async def test_slow_calls_are_stopped_when_the_limit_is_up(ex, rng):
    keys, slow, fetch = make_batch(rng, 6, rng.randint(2, 3))
    # The first slow call cancelled stops at once: code whose fixed wait starts when it has ended
    # (a gather of the pending calls ends at the first that ends cancelled) is held as long.
    held = HeldStop(HOLD, fetch, lead=0.0, own_timers=False)  # the docstring gives the limit
    # No time is judged here but how soon it returns once the slow calls have stopped, and the
    # fast calls' answers are not read: a shorter limit (still longer than any fast call) pays for
    # part of the HOLD that stopping the slow calls now takes.
    limit = BATCH_LIMIT - 0.1

    try:
        result = await run_batch(ex, fetch, keys, limit)
        assert_not_one_after_another(fetch, keys)
        await assert_stopped(fetch, slow, limit, "fetch_all_within", held, result)
    finally:
        await held.release()
    assert_call_count(fetch, len(keys))


# Two keys as well as five: a learner trial's fetch_all_within called fetch for two keys or fewer one
# after another, each with the whole limit, and gathered the calls only from three on; two is the
# smallest batch whose calls can be seen to run together, so an answer sequential below any size fails.
@pytest.mark.parametrize("size", ["two_keys", "five_keys"])
@pytest.mark.task(2)
async def test_when_every_call_is_fast_it_does_not_wait_for_the_limit(ex, rng, size):
    keys = some_keys(rng, 2 if size == "two_keys" else 5)
    delays = {key: round(rng.uniform(0.05, 0.1), 3) for key in keys}
    limit = 0.8
    fetch = FakeService("fetch", delay=delays.__getitem__, reply=value_for)

    with stopwatch() as run:
        result = await run_batch(ex, fetch, keys, limit)

    assert_not_one_after_another(fetch, keys)
    slowest = max(delays.values())
    if margins.over(run.elapsed, slowest + 0.2, "11 fetch_all_within: fast batch returns < slowest + 0.2 s"):
        raise AssertionError(
            f"every call answered within {slowest:.2f} s, but fetch_all_within returned after "
            f"{run.elapsed:.2f} s (the limit was {limit:.2f} s). The limit is the longest you wait, "
            "not how long you always wait: return as soon as every call has answered."
        )
    assert_same(result, {key: value_for(key) for key in keys}, "fetch_all_within's result")


async def let_calls_end(fetch):
    """Wait for calls still running to end by themselves (they answer soon): a batch that raised
    at the first error may leave them, late on a busy machine; not for the loop guard to report."""
    running = [call.task for call in fetch.calls if call.end is None and call.task is not None]
    if running:
        await asyncio.wait(running, timeout=WAIT)


@pytest.mark.task(2)
@pytest.mark.parametrize("kind", ["lookup_error", "os_error"])
async def test_an_error_from_a_call_reaches_the_caller(ex, rng, kind):
    keys = some_keys(rng, 5)
    bad = rng.choice(keys)
    # An OSError as a lost connection raises: TimeoutError is an OSError too, so `except OSError:`
    # turns every failed connection into a timeout's None.
    error = LookupError(f"no item {bad}") if kind == "lookup_error" else ConnectionResetError(104, "Reset")
    delays = {key: round(rng.uniform(0.02, 0.05), 3) for key in keys}
    delays[bad] = 0.15  # it fails last: every other call has answered by then
    fetch = FakeService(
        "fetch", delay=delays.__getitem__, reply=value_for, fail=lambda key: error if key == bad else None
    )

    try:
        with stopwatch() as run:
            result = await run_batch(ex, fetch, keys, FAR_LIMIT)
    except type(error) as raised:
        if raised is not error:
            raise AssertionError(
                f"fetch_all_within should let fetch's own error through, that very object: {error!r}; "
                f"found {describe(raised)}"
            ) from None
        return
    except ExceptionGroup as group:  # a TaskGroup wraps the error it met: it reaches the caller all the same
        if group.subgroup(lambda found: found is error) is None:
            raise
        return
    finally:
        await let_calls_end(fetch)

    nones_at_the_limit(
        result,
        run.elapsed,
        FAR_LIMIT,
        fetch,
        "11 fetch_all_within: an error inside the limit reaches the caller",
    )
    found = describe(result.get(bad)) if type(result) is dict and bad in result else "no entry"
    raise AssertionError(
        f"fetch({bad}) raised {error!r} after {delays[bad]:.2f} s, well inside the limit of "
        f"{FAR_LIMIT:.2f} s, and fetch_all_within returned a result with {found} for it: the call had "
        "ended, with an error, long before the limit. None means only that a call was still running "
        "when the limit was up, and an error is not a timeout: let it reach the caller. Whatever "
        "turned it into a value, leave it out: `gather(..., return_exceptions=True)`, an `except` "
        "that catches more than `TimeoutError` (`except OSError:` does: a timeout is one kind of OSError), "
        "or a finished task read with `task.exception()` and "
        "given None (`task.result()` raises the task's error for you)."
    )


@pytest.mark.task(2)
async def test_a_cancel_from_the_caller_stops_every_call(ex, rng):
    # The README's rule: a function cancelled from outside ends cancelled, with nothing it started
    # still running. A red team's answer ran the calls as tasks under `asyncio.wait(..., timeout=limit)`
    # and cleaned up only after the wait returned: cancelled during it, it left every call running.
    keys = some_keys(rng, 5)
    fetch = FakeService("fetch", delay=SLOW, reply=value_for)
    during = f"while its {len(keys)} calls ran, long before the limit of {FAR_LIMIT:.2f} s"

    run = Run(
        ex.fetch_all_within(fetch, keys, FAR_LIMIT),
        snapshot=lambda: [call for call in fetch.calls if call.end is None],
    )
    fetch.on_start = lambda _call: len(fetch.calls) == len(keys) and run.cancel(during)
    finished = await run.finish(FAR_LIMIT + WAIT)
    stopping, untouched = await left_running(run.left or [])
    if not finished:
        await run.stop()
        await stop_calls(fetch.calls)

    assert_ended_cancelled(
        run,
        "fetch_all_within",
        unreached=f"having called fetch for {len(fetch.calls)} of the {len(keys)} keys: start every call "
        "at once, as soon as fetch_all_within is called",
        started="its calls to fetch",
        left=LeftRunning.calls(stopping, untouched, "fetch"),
        stop_advice="Whatever way fetch_all_within ends, a cancel from its caller included, the calls it "
        "started must be cancelled and have stopped. A gather of the calls (each under its own timeout) "
        "does both for you: cancelled, it cancels every call and waits for them, as a TaskGroup does. "
        "With tasks and `asyncio.wait`, do it in a `finally:` block: cancel every task, then `await "
        "asyncio.gather(*tasks, return_exceptions=True)`.",
        cancel_advice=NOT_A_TIMEOUT,
    )


# Cancelled a second time while its cleanup waits for the calls it cancelled (a caller that gives up
# twice, a timeout around it that fires after its caller's cancel): each cancelled call takes
# STOPPING s to stop, and the first cancel to reach one cancels fetch_all_within again. Code that
# cancels every task and then waits for them all (gather, a TaskGroup) may end there, its calls still
# stopping: every one was cancelled, so they are let off. Code that cancels one task, waits for it to
# stop, then cancels the next never reaches the rest: they are left running, never cancelled.
CANCELLED_AGAIN = cancelled_again_advice("task")


@pytest.mark.task(2)
async def test_cancelled_again_while_its_calls_stop_it_ends_cancelled_with_every_call_cancelled(ex, rng):
    # A red team's fetch_all_within cancelled its tasks one by one in its `finally:`, waiting for each
    # to stop before it cancelled the next: a second cancel during the first wait left the other calls
    # running, never cancelled.
    keys = some_keys(rng, 5)
    fetch = FakeService("fetch", delay=SLOW, reply=value_for)
    fetch.stop_delay = STOPPING
    during = f"while its {len(keys)} calls ran, long before the limit of {FAR_LIMIT:.2f} s"

    run = Run(
        ex.fetch_all_within(fetch, keys, FAR_LIMIT),
        snapshot=lambda: [call for call in fetch.calls if call.end is None],
    )
    fetch.on_start = lambda _call: len(fetch.calls) == len(keys) and run.cancel(during)
    fetch.on_cancel = lambda _call: run.cancel_again("while the calls it had cancelled were stopping")
    finished = await run.finish(FAR_LIMIT + WAIT, held=STOPPING)
    _, untouched = await left_running(run.left or [])
    if not finished:
        await run.stop()
        await stop_calls(fetch.calls)

    assert_ended_cancelled(
        run,
        "fetch_all_within",
        unreached=f"having called fetch for {len(fetch.calls)} of the {len(keys)} keys: start every call "
        "at once, as soon as fetch_all_within is called",
        started="its calls to fetch",
        left=LeftRunning.calls([], untouched, "fetch"),
        stop_advice=CANCELLED_AGAIN,
        cancel_advice=f"{NOT_A_TIMEOUT} {CANCELLED_AGAIN}",
    )


@pytest.mark.task(2)
async def test_every_call_asks_fetch_afresh_for_every_key(ex, rng):
    keys = some_keys(rng, 4)
    for round_number in (1, 2):
        fetch = changing_answers(round_number)
        with stopwatch() as run:
            result = await run_batch(ex, fetch, keys, FAR_LIMIT)
        expected = {key: {**value_for(key), "round": round_number} for key in keys}
        nones_at_the_limit(
            result,
            run.elapsed,
            FAR_LIMIT,
            fetch,
            "11 fetch_all_within: quick answers arrive within the limit",
        )
        asked = {call.args[0] for call in fetch.calls}
        stale = [key for key in keys if key not in asked and type(result) is dict and key in result]
        if round_number == 2 and stale and result[stale[0]] != expected[stale[0]]:
            raise kept_between_calls("fetch_all_within", stale[0], fetch, result[stale[0]])
        assert_same(
            sorted(call.args[0] for call in fetch.calls),
            sorted(keys),
            f"the keys fetch was asked for, sorted, by call {round_number} of fetch_all_within",
        )
        assert_same(result, expected, f"call {round_number} of fetch_all_within")


@pytest.mark.task(2)
async def test_answers_that_are_empty_zero_or_false_are_kept_as_they_are(ex, rng):
    keys = some_keys(rng, len(FALSY))
    answers = dict(zip(keys, FALSY, strict=True))
    fetch = FakeService("fetch", delay=0.01, reply=answers.__getitem__)

    with stopwatch() as run:
        result = await run_batch(ex, fetch, keys, FAR_LIMIT)

    nones_at_the_limit(
        result, run.elapsed, FAR_LIMIT, fetch, "11 fetch_all_within: falsy answers inside the limit are kept"
    )
    lost = [key for key in keys if type(result) is dict and key in result and result[key] is None]
    if lost:
        raise AssertionError(
            f"fetch({lost[0]}) answered {answers[lost[0]]!r} after 0.01 s, well inside the limit of "
            f"{FAR_LIMIT:.2f} s, and fetch_all_within gave None for it: None means only that a call was "
            "still running when the limit was up. An answer that is empty, zero or False is an answer "
            "all the same: keep it as it is (no `or None`, no `if not value:`)."
        )
    assert_same(result, answers, "fetch_all_within's result")


@pytest.mark.task(2)
async def test_a_call_just_slower_than_the_limit_is_none(ex, rng, wake_watch):
    keys = some_keys(rng, 4)
    late = rng.choice(keys)
    delays = {key: round(rng.uniform(0.02, 0.05), 3) for key in keys}
    delays[late] = round(BATCH_LIMIT + JUST_AFTER, 2)
    fetch = FakeService("fetch", delay=delays.__getitem__, reply=value_for)

    async with wake_watch(ex) as wakes:
        with stopwatch() as run:
            result = await run_batch(ex, fetch, keys, BATCH_LIMIT)

    nones_at_the_limit(result, run.elapsed, BATCH_LIMIT, fetch, "11 fetch_all_within: fast calls are kept")
    if type(result) is dict and result.get(late) is not None:
        check = "11 fetch_all_within: a call just past the limit is None"
        margins.over(run.elapsed, BATCH_LIMIT + JUST_AFTER / 2, check)
        raise AssertionError(
            f"fetch({late}) answered after {delays[late]:.2f} s, {JUST_AFTER:.2f} s past the limit of "
            f"{BATCH_LIMIT:.2f} s, and fetch_all_within kept its answer, returning after "
            f"{run.elapsed:.2f} s: "
            "a call slower than the limit, however little, is None. Give each call the limit as it is "
            "(`asyncio.timeout(limit)`), with no time added to it (`limit + 0.2`, `limit * 1.5`)."
        )
    assert_same(
        result, {key: None if key == late else value_for(key) for key in keys}, "fetch_all_within's result"
    )
    assert_no_time_added(wakes, BATCH_LIMIT, "fetch_all_within")


@pytest.mark.task(2)
async def test_two_batches_at_once_each_keep_their_own_calls(ex, rng):
    # A short batch whose limit is up while a longer one still waits for its calls: giving up on
    # its own calls must not touch the other's (tasks kept in a variable outside the function do).
    short_keys, _, short_fetch = make_batch(rng, 3, 3)
    long_keys = some_keys(rng, 3)
    long_fetch = FakeService("fetch", delay=BATCH_LIMIT + 0.2, reply=value_for)

    with stopwatch() as run:
        short, long = await asyncio.gather(
            run_batch(ex, short_fetch, short_keys, BATCH_LIMIT),
            run_batch(ex, long_fetch, long_keys, FAR_LIMIT),
        )

    nones_at_the_limit(long, run.elapsed, FAR_LIMIT, long_fetch, "11 fetch_all_within: two batches at once")
    cut = [call for call in long_fetch.calls if call.outcome == "cancelled"]
    if cut:
        raise AssertionError(
            f"two calls of fetch_all_within ran at once: one with a limit of {BATCH_LIMIT:.2f} s, the other "
            f"with {FAR_LIMIT:.2f} s and calls of {BATCH_LIMIT + 0.2:.2f} s. When the first one's limit was "
            f"up, the second one's call {cut[0].label('fetch')} was cancelled too, and its result was "
            f"{describe(long)}. Each call of fetch_all_within stops only its own calls: keep its tasks in "
            "a variable of the call itself, never in one outside the function."
        )
    assert_same(short, dict.fromkeys(short_keys), "the result of the batch whose calls were all too slow")
    assert_same(
        long,
        {key: value_for(key) for key in long_keys},
        "the result of the batch whose calls answered in time",
    )


@pytest.mark.task(2)
async def test_no_keys_gives_an_empty_dict(ex):
    fetch = FakeService("fetch", delay=0.05, reply=value_for)

    result = await run_batch(ex, fetch, [], BATCH_LIMIT)

    assert_same(result, {}, "fetch_all_within(fetch, [], limit)")


@pytest.mark.task(2)
async def test_a_key_listed_twice_has_both_its_calls_stopped_when_the_limit_is_up(ex, rng):
    keys, slow, fetch = make_batch(rng, 5, 2)
    # A slow key listed a second time, further on: two calls of fetch for it, both still running
    # when the limit is up, and both to be cancelled then.
    repeated = rng.choice(sorted(slow))
    keys.insert(rng.randint(keys.index(repeated) + 1, len(keys)), repeated)

    with stopwatch() as run:
        result = await run_batch(ex, fetch, keys, BATCH_LIMIT)
    running = [call for call in fetch.calls if call.end is None]

    if running:
        stopping, untouched = await left_running(running)
        found = left_running_message("fetch_all_within returned", stopping, untouched, "fetch")
        if any(call.args[0] == repeated for call in untouched):
            raise AssertionError(
                f"{found} keys was {keys}: {repeated} is listed twice, so fetch_all_within starts two "
                f"calls of fetch({repeated}), each slower than the limit of {BATCH_LIMIT:.2f} s, and "
                "both must be cancelled and have stopped before it returns. A dict keyed by key keeps "
                "one task per key, and the other is lost: keep every task you start (a list, one for "
                "each item of keys, repeats included), cancel and await every one of them, and build "
                "the result from them."
            )
        raise AssertionError(
            f"{found} Once the limit is up, cancel every pending task, then wait until they have "
            "ended: `await asyncio.gather(*pending, return_exceptions=True)`."
        )
    # A fast call given None once the whole limit was out: a busy machine (a CI run, 2026-12-05:
    # a correct TaskGroup answer got None for every key), a failure on time.
    nones_at_the_limit(
        result, run.elapsed, BATCH_LIMIT, fetch, "11 fetch_all_within: a fast call answers within the limit"
    )
    assert_same(
        result, {key: None if key in slow else value_for(key) for key in keys}, "fetch_all_within's result"
    )
