"""Exercise 11: a slow call is given up on time, cancelled, and the fast answers are kept."""

import asyncio

import pytest

from kata.testing import (
    FakeService,
    assert_call_count,
    assert_same,
    describe,
    draw_timeline,
    margins,
    not_all_at_once,
    stopwatch,
)
from kata.testing.cancelling import WAIT, Run, assert_ended_cancelled, settle, stop_calls
from kata.testing.clock import EARLY_WAKE

# A call far slower than any limit here: code without a timeout waits all of it,
# and still fails within a couple of seconds.
SLOW = 1.5
# How long after the limit a run may end. Scheduling noise on a loaded 2-core
# machine is under 0.05 s (FIELD-NOTES); a missing timeout costs SLOW.
LATE = 0.3
# asyncio may wake a sleeper a hair early; never by more than this.
EARLY = EARLY_WAKE  # asyncio may wake a sleeper a little early (kata.testing.clock)
BATCH_LIMIT = 0.3
# A far-off limit, for a test that ends the call another way (a cancel, an error) long before it.
FAR_LIMIT = 0.8

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


def labels(calls):
    return ", ".join(call.label("fetch") for call in calls)


def assert_stopped(fetch, keys, limit, what):
    """Every call for `keys` was cancelled when the limit was up: not left running, not let finish."""
    slow = [call for call in fetch.calls if call.args[0] in keys]
    running = [call for call in slow if call.outcome == "running"]
    if running:
        raise AssertionError(
            f"{labels(running)} {'was' if len(running) == 1 else 'were'} still running when {what} "
            f"returned: giving up must also stop the call. `asyncio.timeout` and `asyncio.wait_for` "
            f"cancel it for you; after `asyncio.wait(..., timeout=...)`, cancel every pending task "
            f"and await it yourself."
        )
    finished = [call for call in slow if call.outcome == "returned"]
    if finished:
        raise AssertionError(
            f"{labels(finished)} ran to its end ({SLOW:.2f} s) though the limit was {limit:.2f} s: "
            f"{what} should cancel a call still running when the limit is up. Is there a timeout "
            "at all, and is it given `limit`?"
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

    assert_call_count(fetch, 1)
    if result is None and run.elapsed >= limit - EARLY:  # it gave up at the limit: late on a busy machine?
        margins.cut_off("11 fetch_or_none: an answer inside the limit is returned")
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

    await fetch_or_none_of(ex, fetch, key, limit)

    assert_call_count(fetch, 1)
    assert_stopped(fetch, {key}, limit, "fetch_or_none")


@pytest.mark.task(1)
async def test_an_error_from_fetch_is_not_a_timeout(ex, rng):
    key = rng.randrange(100, 1000)
    error = LookupError(f"no item {key}")
    fetch = FakeService("fetch", delay=0.05, reply=value_for, fail=lambda _key: error)

    limit = 0.5
    with stopwatch() as run:
        try:
            result = await ex.fetch_or_none(fetch, key, limit)
        except LookupError as raised:
            if raised is not error:
                raise AssertionError(
                    f"fetch_or_none should let fetch's own error through, that very object: {error!r}; "
                    f"found {describe(raised)}"
                ) from None
            return
    if run.elapsed >= limit - EARLY:  # it gave up at the limit: the error came late on a busy machine?
        margins.cut_off("11 fetch_or_none: an error inside the limit reaches the caller")
    raise AssertionError(
        f"fetch({key}) raised {error!r} after 0.05 s, well inside the limit, and fetch_or_none "
        f"returned {describe(result)} after {run.elapsed:.2f} s. Only a timeout means None: catch "
        "`TimeoutError` alone, not every exception, and let other errors reach the caller."
    )


@pytest.mark.task(1)
async def test_a_cancel_from_the_caller_is_not_a_timeout(ex, rng):
    key = rng.randrange(100, 1000)
    fetch = FakeService("fetch", delay=SLOW, reply=value_for)
    during = f"while fetch({key}) ran, long before the limit of {FAR_LIMIT:.2f} s"

    run = Run(ex.fetch_or_none(fetch, key, FAR_LIMIT))
    fetch.on_start = lambda _call: run.cancel(during)
    finished = await run.finish(FAR_LIMIT + WAIT)
    # A call left running is not this test's business: stop it, so the loop guard does not report it.
    await settle()
    await stop_calls(fetch.calls)

    if not finished:
        await run.stop()
    assert_ended_cancelled(
        run,
        "fetch_or_none",
        unreached=f"without calling fetch({key})",
        cancel_advice="A cancel from outside is not a timeout: only its own limit means None. Catch "
        "`TimeoutError` alone; `asyncio.timeout` turns its own cancellation into TimeoutError for you, "
        "and lets any other cancellation through.",
    )


# Task 2 -------------------------------------------------------------------------------


def make_batch(rng, count, slow_count):
    """Keys, the slow ones among them, and a fetch where those take SLOW and the rest answer fast."""
    keys = some_keys(rng, count)
    slow = set(rng.sample(keys, slow_count))
    fast_delay = {key: round(rng.uniform(0.02, 0.1), 3) for key in keys}
    fetch = FakeService("fetch", delay=lambda key: SLOW if key in slow else fast_delay[key], reply=value_for)
    return keys, slow, fetch


PROBE_DELAY = 0.3  # a call that fetch_or_none gives up on, when run_batch asks why a TimeoutError escaped
PROBE_LIMIT = 0.05


async def fetch_or_none_raises_timeout(ex):
    """Whether fetch_or_none, given a call slower than its limit, raises TimeoutError instead of
    returning None (the likely source of a TimeoutError out of fetch_all_within)."""
    fetch = FakeService("fetch", delay=PROBE_DELAY, reply=value_for)
    try:
        await ex.fetch_or_none(fetch, 1, PROBE_LIMIT)
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


@pytest.mark.task(2)
async def test_fast_answers_are_kept_and_slow_ones_are_none(ex, rng):
    keys, slow, fetch = make_batch(rng, 6, rng.randint(2, 3))

    result = await run_batch(ex, fetch, keys, BATCH_LIMIT)

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
            if any(c.outcome == "cancelled" for c in fetch.calls if c.args[0] in lost):
                # Still running when the limit was up: late on a busy machine, or started late.
                margins.cut_off("11 fetch_all_within: a fast call answers within the limit")
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


@pytest.mark.task(2)
async def test_every_call_starts_at_once(ex, rng):
    keys, _, fetch = make_batch(rng, 5, 2)

    await run_batch(ex, fetch, keys, BATCH_LIMIT)

    assert_call_count(fetch, len(keys))
    if margins.short_of(fetch.peak, len(keys), "11 run_batch: every call in flight at once"):
        raise AssertionError(
            f"{not_all_at_once(fetch, len(keys))}: with a timeout for each call in turn, every slow call "
            "costs the whole limit again. Start them all together (gather), each with its own timeout.\n"
            f"observed:\n{draw_timeline(fetch.calls, 'fetch')}"
        )


@pytest.mark.task(2)
async def test_the_whole_batch_ends_when_the_limit_is_up(ex, rng):
    keys, slow, fetch = make_batch(rng, 6, 3)

    with stopwatch() as run:
        await run_batch(ex, fetch, keys, BATCH_LIMIT)

    if margins.over(run.elapsed, BATCH_LIMIT + LATE, "11 fetch_all_within: batch ends < limit + LATE"):
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
async def test_slow_calls_are_stopped_when_the_limit_is_up(ex, rng):
    keys, slow, fetch = make_batch(rng, 6, rng.randint(2, 3))

    await run_batch(ex, fetch, keys, BATCH_LIMIT)

    assert_call_count(fetch, len(keys))
    assert_stopped(fetch, slow, BATCH_LIMIT, "fetch_all_within")


@pytest.mark.task(2)
async def test_when_every_call_is_fast_it_does_not_wait_for_the_limit(ex, rng):
    keys = some_keys(rng, 5)
    delays = {key: round(rng.uniform(0.05, 0.1), 3) for key in keys}
    limit = 0.8
    fetch = FakeService("fetch", delay=delays.__getitem__, reply=value_for)

    with stopwatch() as run:
        result = await run_batch(ex, fetch, keys, limit)

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
async def test_an_error_from_a_call_reaches_the_caller(ex, rng):
    keys = some_keys(rng, 5)
    bad = rng.choice(keys)
    error = LookupError(f"no item {bad}")
    delays = {key: round(rng.uniform(0.02, 0.05), 3) for key in keys}
    delays[bad] = 0.15  # it fails last: every other call has answered by then
    fetch = FakeService(
        "fetch", delay=delays.__getitem__, reply=value_for, fail=lambda key: error if key == bad else None
    )

    try:
        result = await run_batch(ex, fetch, keys, FAR_LIMIT)
    except LookupError as raised:
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

    found = describe(result.get(bad)) if type(result) is dict and bad in result else "no entry"
    raise AssertionError(
        f"fetch({bad}) raised {error!r} after {delays[bad]:.2f} s, well inside the limit of "
        f"{FAR_LIMIT:.2f} s, and fetch_all_within returned a result with {found} for it. None means "
        "only that a call was still running when the limit was up, and an error is not a timeout: "
        "let it reach the caller. `gather(..., return_exceptions=True)` turns every error into a "
        "value: leave that out, and catch `TimeoutError` alone (fetch_or_none too)."
    )


@pytest.mark.task(2)
async def test_no_keys_gives_an_empty_dict(ex):
    fetch = FakeService("fetch", delay=0.05, reply=value_for)

    result = await run_batch(ex, fetch, [], BATCH_LIMIT)

    assert_same(result, {}, "fetch_all_within(fetch, [], limit)")
