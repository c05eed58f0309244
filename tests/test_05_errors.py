"""Exercise 05: a failed call must not cost the other results, nor leave calls running."""

import pytest

from kata.testing import (
    FakeService,
    assert_call_count,
    assert_ran_together,
    assert_same,
    describe,
    leaves,
    stopwatch,
)
from kata.testing.cancelling import finished_too_late_to_stop, stop_calls

DELAY = 0.2
# Task 2: one call fails quickly while the others would take much longer.
FAST = 0.05
SLOW = 0.5
STOP_TIME = 0.2  # how long a cancelled call takes to stop, in the test of stopping them
ERROR_KINDS = (ConnectionError, TimeoutError, LookupError, PermissionError)


def item_for(item_id):
    return {"id": item_id, "name": f"item-{item_id}"}


class FlakyApi:
    """A fake `fetch` whose calls for some ids raise; it remembers each exception it raised."""

    def __init__(self, failing, delay=DELAY):
        self.failing = set(failing)
        self.raised = {}
        self.fetch = FakeService("fetch", delay=delay, reply=item_for, fail=self._fail)

    def _fail(self, item_id):
        if item_id not in self.failing:
            return None
        kind = ERROR_KINDS[item_id % len(ERROR_KINDS)]
        error = kind(f"item {item_id} is unavailable")
        self.raised[item_id] = error
        return error

    def origin_of(self, error):
        """The id whose call raised `error` (or an exception inside an ExceptionGroup), or None."""
        for leaf in leaves(error):
            for item_id, raised in self.raised.items():
                if leaf is raised:
                    return item_id
        return None


def some_ids(rng, count):
    return rng.sample(range(100, 1000), count)


def labels(calls):
    return ", ".join(call.label("fetch") for call in calls)


async def settle(ex, api, ids):
    """fetch_all_settled's (successes, failures), or a plain-words failure."""
    try:
        result = await ex.fetch_all_settled(api.fetch, ids)
    except Exception as error:
        origin = api.origin_of(error)
        if origin is None:
            raise
        raise AssertionError(
            f"fetch_all_settled raised {error!r}, the error of fetch({origin}): one failed call cost "
            f"you the results of all {len(ids)} calls. Have gather hand errors back as values: "
            "`asyncio.gather(..., return_exceptions=True)`."
        ) from None
    if type(result) is not tuple or len(result) != 2 or any(type(part) is not dict for part in result):
        raise AssertionError(
            f"fetch_all_settled should return a tuple of two dicts, (successes, failures); "
            f"found {describe(result)}"
        )
    return result


@pytest.mark.task(1)
async def test_successes_and_failures_are_split_by_id(ex, rng):
    ids = some_ids(rng, 7)
    failing = set(rng.sample(ids, rng.randint(1, len(ids) - 1)))
    api = FlakyApi(failing)

    successes, failures = await settle(ex, api, ids)

    assert_same(successes, {i: item_for(i) for i in ids if i not in failing}, "successes")
    assert_same(set(failures), failing, "the ids in failures (the ids whose call raised)")


@pytest.mark.task(1)
async def test_failures_hold_the_very_exceptions_that_were_raised(ex, rng):
    ids = some_ids(rng, 6)
    api = FlakyApi(rng.sample(ids, 3))

    _, failures = await settle(ex, api, ids)

    assert_same(set(failures), set(api.raised), "the ids in failures (the ids whose call raised)")
    for item_id, error in api.raised.items():
        if failures[item_id] is not error:
            raise AssertionError(
                f"failures[{item_id}] should be the exception fetch({item_id}) raised, that very "
                f"object: {error!r}; found {describe(failures[item_id])}. Keep the exception "
                "itself (its type, message and traceback), not its text or a new exception."
            )


@pytest.mark.task(1)
async def test_every_call_runs_at_the_same_time_even_when_some_fail(ex, rng):
    ids = some_ids(rng, 6)
    api = FlakyApi(rng.sample(ids, 2))

    with stopwatch() as run:
        await settle(ex, api, ids)

    assert_ran_together(api.fetch, run.elapsed, expected_calls=len(ids))


@pytest.mark.task(1)
async def test_when_nothing_fails_failures_is_empty(ex, rng):
    ids = some_ids(rng, 4)
    api = FlakyApi(failing=(), delay=FAST)

    result = await settle(ex, api, ids)

    assert_same(result, ({i: item_for(i) for i in ids}, {}), "fetch_all_settled's result")


@pytest.mark.task(1)
async def test_when_everything_fails_successes_is_empty(ex, rng):
    ids = some_ids(rng, 4)
    api = FlakyApi(failing=ids, delay=FAST)

    successes, failures = await settle(ex, api, ids)

    assert_same(successes, {}, "successes")
    assert_same(set(failures), set(ids), "the ids in failures (the ids whose call raised)")


async def run_until_it_raises(ex, api, ids):
    """The exception fetch_all_or_nothing raised; a failure if it returned instead."""
    try:
        result = await ex.fetch_all_or_nothing(api.fetch, ids)
    except NotImplementedError:
        raise
    except Exception as error:
        return error
    failed = ", ".join(f"fetch({i}) raised {e!r}" for i, e in api.raised.items())
    raise AssertionError(
        f"{failed}, so fetch_all_or_nothing should raise that exception too; "
        f"it returned {describe(result)} instead"
    )


def assert_raised(error, api, item_id):
    """`error` is the exception fetch(item_id) raised, or an ExceptionGroup holding only that one."""
    expected = api.raised.get(item_id)
    found = [leaf for leaf in leaves(error) if api.origin_of(leaf) is not None]
    if expected is not None and len(found) == 1 and found[0] is expected:
        return
    origin = api.origin_of(error)
    if origin is not None and origin != item_id:
        raise AssertionError(
            f"fetch_all_or_nothing raised the error of fetch({origin}), but fetch({item_id}) is the "
            f"call that fails first ({FAST:.2f} s after the start, when every call starts at once): "
            "raise the first failure as soon as it happens, and cancel the calls still running"
        )
    raise AssertionError(
        f"fetch({item_id}) fails with {ERROR_KINDS[item_id % len(ERROR_KINDS)].__name__}; "
        "fetch_all_or_nothing should raise that same exception object (an ExceptionGroup "
        f"holding it is fine too), found {describe(error)}"
    )


@pytest.mark.task(2)
async def test_returns_every_result_in_order_when_nothing_fails(ex, rng):
    ids = some_ids(rng, 5)
    # Later ids answer sooner, so finishing order is the reverse of the asking order.
    delays = {item_id: 0.05 + 0.03 * (len(ids) - n) for n, item_id in enumerate(ids)}
    api = FlakyApi(failing=(), delay=delays.__getitem__)

    result = await ex.fetch_all_or_nothing(api.fetch, ids)

    assert_same(result, [item_for(i) for i in ids], "fetch_all_or_nothing's result")


@pytest.mark.task(2)
async def test_every_call_runs_at_the_same_time(ex, rng):
    ids = some_ids(rng, 5)
    api = FlakyApi(failing=())

    with stopwatch() as run:
        await ex.fetch_all_or_nothing(api.fetch, ids)

    assert_ran_together(api.fetch, run.elapsed, expected_calls=len(ids))


@pytest.mark.task(2)
async def test_a_failure_raises_that_very_exception(ex, rng):
    ids = some_ids(rng, 5)
    bad = rng.choice(ids)
    api = FlakyApi({bad}, delay=lambda i: FAST if i == bad else SLOW)

    error = await run_until_it_raises(ex, api, ids)

    assert_raised(error, api, bad)


@pytest.mark.task(2)
async def test_the_other_calls_are_stopped_before_it_raises(ex, rng):
    ids = some_ids(rng, 5)
    bad = rng.choice(ids)
    api = FlakyApi({bad}, delay=lambda i: FAST if i == bad else SLOW)
    # A cancelled call takes this long to stop, as a real request does: code that raises without
    # waiting for the calls it cancelled leaves them still stopping, there to see even after its
    # error has crossed from another process (judge mode).
    api.fetch.stop_delay = STOP_TIME

    with stopwatch() as run:
        await run_until_it_raises(ex, api, ids)

    others = [call for call in api.fetch.calls if call.args != (bad,)]
    running = [call for call in others if call.end is None]  # still running, or still stopping
    if running:
        await stop_calls(running)
        why = (
            "You cancelled them, but `task.cancel()` only asks a task to stop, and it stops later, "
            "the next time it runs: "
            if all(call.outcome == "cancelled" for call in running)
            else "gather does not stop the other calls when one fails, and `task.cancel()` only asks a "
            "task to stop. Cancel every unfinished task, then "
        )
        raise AssertionError(
            f"{len(running)} calls were still running when fetch_all_or_nothing raised: "
            f"{labels(running)}. {why}wait for them with "
            "`await asyncio.gather(*tasks, return_exceptions=True)` before raising."
        )
    finished = [call for call in others if call.outcome == "returned"]
    if finished:
        failed = [call for call in api.fetch.calls if call.args == (bad,)]
        finished_too_late_to_stop(
            finished, failed, "05 fetch_all_or_nothing: the other calls are cancelled before they end"
        )
        raise AssertionError(
            f"fetch({bad}) failed after {FAST:.2f} s, but you let the other calls finish "
            f"({labels(finished)}) and raised after {run.elapsed:.2f} s. Once one call fails the "
            "answer is known: cancel the calls still running instead of waiting for them."
        )
    assert_call_count(api.fetch, len(ids), "every call starts at once, before any fails")


@pytest.mark.task(2)
async def test_the_first_error_wins(ex, rng):
    ids = some_ids(rng, 5)
    # The call that fails later comes first in the list, so "first in the list" is wrong.
    late, early = (ids[n] for n in sorted(rng.sample(range(len(ids)), 2)))
    delays = {late: 0.25, early: FAST}
    api = FlakyApi({late, early}, delay=lambda i: delays.get(i, SLOW))

    error = await run_until_it_raises(ex, api, ids)

    assert_raised(error, api, early)
