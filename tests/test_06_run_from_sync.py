"""Exercise 06: plain code runs async work with asyncio.run, or many calls on one asyncio.Runner.

These tests are plain `def` functions: like the learner's callers, they have no running loop,
and no current one either (see `loops_made`).
"""

import asyncio
import inspect
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest

from kata.testing import FakeService, assert_ran_together, assert_same, describe, holds, same, stopwatch

DELAY = 0.2
QUICK = 0.02
# The failing call of task 1: the others have answered by then, so nothing is left running.
SLOWER = 0.1


def value_for(key):
    return {"key": key, "value": f"value-{key}"}


class LoopWatchingApi:
    """A fake async `fetch` that also notes the event loop each call ran on."""

    def __init__(self, delay=DELAY, fail=None):
        self.loops = []  # the loop objects themselves: an id() could be reused by a later loop
        self.fetch = FakeService("fetch", delay=delay, reply=self._reply, fail=fail)

    def _reply(self, key):
        self.loops.append(asyncio.get_running_loop())
        return value_for(key)

    def distinct_loops(self):
        return list({id(loop): loop for loop in self.loops}.values())


@pytest.fixture(autouse=True)
def loops_made(event_loops_made):
    """Every event loop created during the test, in order; each test starts with no current
    loop, and its leftover loops are closed when it ends (the kata's `event_loops_made`).

    A loop left open is reported by the one test that checks for it. Without this, it would
    also be reported as "never closed" by whichever test happened to free it, maybe a later
    one, and a loop set as current (or handed out by asyncio.get_event_loop()) would carry
    one test's state into the next. No current loop is also what plain code finds on
    Python 3.14, or after any asyncio.run.
    """
    return event_loops_made


def some_keys(rng, count):
    return rng.sample(range(100, 1000), count)


def keys_with_a_repeat(rng, count):
    """`count` keys, one of them listed twice (never side by side): a key may repeat."""
    keys = some_keys(rng, count - 1)
    first = rng.randrange(count - 2)
    keys.insert(rng.randrange(first + 2, count), keys[first])
    return keys


class FreshAnswers:
    """A fake async `fetch` whose answer for a key changes at every call, as a live price does."""

    def __init__(self):
        self.asked = {}
        self.fetch = FakeService("fetch", delay=QUICK, reply=self._reply)

    def _reply(self, key):
        self.asked[key] = self.asked.get(key, 0) + 1
        return answer(key, self.asked[key])


def answer(key, n):
    return {"key": key, "value": f"value-{key}", "answer": n}


def assert_fetched_every_time(api, what, asked):
    """Fail unless fetch ran once for every key in `asked` (repeats included), in any order."""
    found = sorted(args[0] for args in api.fetch.started_args)
    if found != sorted(asked):
        repeated = next((key for key in asked if asked.count(key) > 1), None)
        raise AssertionError(
            f"{what} asked for {len(asked)} keys, {repeated} among them more than once, but fetch "
            f"ran {len(found)} times: a key asked for again was not fetched again. fetch may answer "
            "differently each time (a price, a count), so the docstring asks for `await fetch(key)` "
            "for every key, every time, repeats included: no cache, no set() or dict of the keys."
        )


# asyncio.gather called in plain code, to hand to asyncio.run, runner.run or loop.run_until_complete.
# With no current loop the gather itself fails (RuntimeError), with one asyncio.run refuses it
# (ValueError): one mistake, one message.
GATHER_OUTSIDE_ASYNC = (
    "asyncio.gather(...) was called in plain code, where no event loop is running: it makes a "
    "future at once, and that needs a running loop (asyncio.run and runner.run take only a "
    "coroutine anyway). Put the gather in an `async def` function, and run a call of that "
    "function (asyncio.run(...), runner.run(...) or loop.run_until_complete(...))"
)

# Errors asyncio raises for the classic ways of running async code from plain code, explained.
LOOP_ERRORS = {
    "a coroutine was expected": GATHER_OUTSIDE_ASYNC,
    "no current event loop": (
        "something asked for the current event loop while no loop was running: "
        "asyncio.get_event_loop(), or another asyncio call that needs a loop, made in plain code. "
        "In plain code, put the async work in an `async def` function and run it with "
        "asyncio.run(...) or an asyncio.Runner"
    ),
    "Event loop is closed": (
        "your code used an event loop that was already closed (asyncio.run closes its loop when "
        "it returns, and asyncio.get_event_loop() can hand back an old, closed one): use a loop "
        "you own, asyncio.run for one job or one asyncio.Runner kept open for several"
    ),
    "from a running event loop": (
        "asyncio.run (or runner.run) was called from code that is already running on an event "
        "loop: inside async code, `await` instead"
    ),
}


def raised_in_asyncio_gather(error):
    """Whether `error` came out of a call of asyncio.gather (made where no loop was running)."""
    frames = traceback.walk_tb(error.__traceback__)
    return any(
        frame.f_code.co_name == "gather" and Path(frame.f_code.co_filename).parent.name == "asyncio"
        for frame, _ in frames
    )


def call_plain(what, function, *args):
    """What `function(*args)` returns, with plain words for the classic mistakes of plain code."""
    try:
        result = function(*args)
    except (RuntimeError, ValueError) as error:
        found = f"{type(error).__name__} ({str(error).rstrip('.')})"
        if raised_in_asyncio_gather(error):
            explained = f"{what} raised {found} in asyncio.gather: {GATHER_OUTSIDE_ASYNC}."
            raise AssertionError(explained) from None
        for text, explanation in LOOP_ERRORS.items():
            if text in str(error):
                raise AssertionError(f"{what} raised {found}: {explanation}.") from None
        raise
    if inspect.iscoroutine(result):
        result.close()
        raise AssertionError(
            f"{what} returned a coroutine, so nothing ran: it must be a plain `def` that runs the "
            "async work itself (asyncio.run, or an asyncio.Runner) and returns the finished result"
        )
    return result


@contextmanager
def client_for(ex, api):
    client = call_plain("SyncClient(fetch)", ex.SyncClient, api.fetch)
    try:
        yield client
    finally:
        call_plain("client.close()", client.close)


def assert_one_loop(api, what):
    loops = api.distinct_loops()
    if len(loops) > 1:
        raise AssertionError(
            f"{what} ran on {len(loops)} different event loops; they must all share the client's "
            "one loop. asyncio.run makes a new loop for every call and closes it afterwards, and "
            "what is bound to a loop (a session, a connection pool, a lock) dies with it. Create "
            "one asyncio.Runner for the client and call `runner.run(...)` on it every time."
        )


@pytest.mark.task(1)
def test_returns_the_results_in_the_order_of_the_ids(ex, rng):
    ids = some_keys(rng, 5)
    # Later ids answer sooner, so finishing order is the reverse of the asking order.
    delays = {item_id: 0.05 + 0.03 * (len(ids) - n) for n, item_id in enumerate(ids)}
    api = LoopWatchingApi(delay=delays.__getitem__)

    result = call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)

    assert_same(result, [value_for(i) for i in ids], "fetch_all_sync's result")


@pytest.mark.task(1)
def test_every_call_runs_at_the_same_time(ex, rng):
    ids = some_keys(rng, 5)
    api = LoopWatchingApi()

    with stopwatch() as run:
        call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)

    assert_ran_together(api.fetch, run.elapsed, expected_calls=len(ids))


@pytest.mark.task(1)
def test_every_call_runs_on_one_event_loop(ex, rng):
    ids = some_keys(rng, 4)
    api = LoopWatchingApi(delay=QUICK)

    call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)

    loops = api.distinct_loops()
    if len(loops) > 1:
        raise AssertionError(
            f"fetch_all_sync ran your {len(ids)} calls to fetch on {len(loops)} different event "
            "loops (an asyncio.run per call, in threads or one after another?); the docstring asks "
            "for one loop. One loop runs every call at the same time by itself, and the calls can "
            "share what belongs to a loop (a session, a lock): make one `async def` that gathers "
            "every call, and run it once with asyncio.run(...)."
        )


@pytest.mark.task(1)
def test_its_event_loop_is_closed_when_it_returns(ex, rng, loops_made):
    ids = some_keys(rng, 3)
    api = LoopWatchingApi(delay=QUICK)

    call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)

    still_open = [loop for loop in loops_made if not loop.is_closed()]
    if still_open:
        which = "its event loop" if len(loops_made) == 1 else f"{len(still_open)} of its event loops"
        raise AssertionError(
            f"fetch_all_sync returned but left {which} open. asyncio.run(...) creates a "
            "loop, runs your coroutine and closes the loop for you; a loop you get from "
            "asyncio.get_event_loop() or asyncio.new_event_loop() stays open unless you close it."
        )


@pytest.mark.task(1)
def test_a_failing_call_reaches_the_caller_and_the_loop_is_closed_all_the_same(ex, rng, loops_made):
    # Whether the loop is closed when fetch_all_sync returns is the test above's to say; this
    # test judges the loop of a call that raises only for code that closes it on return.
    call_plain("fetch_all_sync", ex.fetch_all_sync, LoopWatchingApi(delay=QUICK).fetch, some_keys(rng, 2))
    closed_on_return = all(loop.is_closed() for loop in loops_made)
    ids = some_keys(rng, 4)
    bad = rng.choice(ids)
    error = LookupError(f"item {bad} is unavailable")
    api = LoopWatchingApi(
        delay=lambda key: SLOWER if key == bad else QUICK,
        fail=lambda key: error if key == bad else None,
    )
    before = len(loops_made)

    try:
        result = call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)
    except NotImplementedError:
        raise
    except Exception as raised:
        # A TaskGroup reports its tasks' errors as an ExceptionGroup holding them.
        if not holds(raised, error):
            raise
    else:
        raise AssertionError(
            f"fetch({bad}) raised {error!r}, but fetch_all_sync returned {describe(result)}: the error "
            "never reached the caller. Let it go on: no `return_exceptions=True`, and no `except` "
            "that drops it."
        )

    still_open = [loop for loop in loops_made[before:] if not loop.is_closed()]
    if closed_on_return and still_open:
        raise AssertionError(
            f"fetch({bad}) raised {error!r} and fetch_all_sync let it through, but left its event "
            "loop open: a `loop.close()` (or `runner.close()`) written after the run is never "
            "reached when the run raises. Close the loop in a `finally:` block, or let asyncio.run(...) "
            "(or `with asyncio.Runner() as runner:`) close it for you, whether the work returns or "
            "raises."
        )


@pytest.mark.task(1)
def test_it_can_be_called_again_and_again(ex, rng):
    for _ in range(3):
        ids = some_keys(rng, 3)
        api = LoopWatchingApi(delay=QUICK)

        result = call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)

        assert_same(result, [value_for(i) for i in ids], "the result of a later fetch_all_sync call")


@pytest.mark.task(1)
def test_an_id_listed_twice_is_fetched_twice_and_every_call_fetches_again(ex, rng):
    ids = keys_with_a_repeat(rng, 4)
    api = LoopWatchingApi(delay=QUICK)

    for _ in range(2):
        result = call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)
        assert_same(result, [value_for(i) for i in ids], f"fetch_all_sync({ids})'s result")

    assert_fetched_every_time(api, f"two calls of fetch_all_sync({ids})", ids + ids)


@pytest.mark.task(2)
def test_get_returns_what_fetch_returns(ex, rng):
    api = LoopWatchingApi(delay=QUICK)

    with client_for(ex, api) as client:
        for key in some_keys(rng, 3):
            result = call_plain("client.get", client.get, key)
            assert_same(result, value_for(key), f"client.get({key})")


@pytest.mark.task(2)
def test_every_get_calls_fetch_again_and_returns_its_fresh_answer(ex, rng):
    key = rng.randrange(100, 1000)
    api = FreshAnswers()

    with client_for(ex, api) as client:
        for n in (1, 2, 3):
            result = call_plain("client.get", client.get, key)
            if n > 1 and same(result, answer(key, n - 1)):
                raise AssertionError(
                    f"client.get({key}) number {n} returned the answer of the one before, "
                    f"{describe(result)}, though fetch({key}) now answers {describe(answer(key, n))}: "
                    "get kept an old result. Every get must run `await fetch(key)` again and return "
                    "what it answers now: no cache in the client."
                )
            assert_same(result, answer(key, n), f"client.get({key}) number {n}")


@pytest.mark.task(2)
def test_every_get_runs_on_the_same_event_loop(ex, rng):
    api = LoopWatchingApi(delay=QUICK)

    with client_for(ex, api) as client:
        for key in some_keys(rng, 3):
            call_plain("client.get", client.get, key)

    assert_one_loop(api, "your 3 calls to client.get")


@pytest.mark.task(2)
def test_the_loop_stays_open_until_close(ex, rng, loops_made):
    api = LoopWatchingApi(delay=QUICK)
    key = rng.randrange(100, 1000)
    client = call_plain("SyncClient(fetch)", ex.SyncClient, api.fetch)
    try:
        call_plain("client.get", client.get, key)
        if not api.loops:
            raise AssertionError(
                f"client.get({key}) returned without calling fetch({key}), so the client's event "
                "loop could not be seen: get must run `await fetch(key)` on the client's loop"
            )
        if any(loop.is_closed() for loop in api.loops):
            raise AssertionError(
                "the client's event loop was already closed when client.get returned: it must "
                "stay open for the next call (asyncio.run closes its loop; an asyncio.Runner "
                "keeps it until you close the runner)"
            )
    finally:
        call_plain("client.close()", client.close)

    if not all(loop.is_closed() for loop in loops_made):
        raise AssertionError(
            "after client.close() the client's event loop is still open: SyncClient.close must "
            "close it (runner.close(), or loop.close() for a loop you made yourself)"
        )


@pytest.mark.task(2)
def test_each_client_has_its_own_loop_and_closing_one_leaves_the_other_working(ex, rng):
    key_a, key_b, later_key = some_keys(rng, 3)
    api_a, api_b = LoopWatchingApi(delay=QUICK), LoopWatchingApi(delay=QUICK)
    with client_for(ex, api_b) as b:
        a = call_plain("SyncClient(fetch)", ex.SyncClient, api_a.fetch)
        try:
            assert_same(call_plain("a.get", a.get, key_a), value_for(key_a), f"a.get({key_a})")
            assert_same(call_plain("b.get", b.get, key_b), value_for(key_b), f"b.get({key_b})")
        finally:
            call_plain("a.close()", a.close)
        if {id(loop) for loop in api_a.loops} & {id(loop) for loop in api_b.loops}:
            raise AssertionError(
                "two SyncClients, a and b, ran their calls on the same event loop: every client must "
                "have one of its own, or closing one client closes the loop of every other. A loop "
                "(or asyncio.Runner) made once for the class or the module is shared by all of them: "
                "make it in __init__, `self._runner = asyncio.Runner()`."
            )
        try:
            result = b.get(later_key)
        except Exception as error:
            raise AssertionError(
                f"after a.close(), b.get({later_key}) raised {type(error).__name__} ({error}): closing "
                "one client must leave every other client working. Each client owns its own event "
                "loop, made in __init__, and close() closes that one only."
            ) from None
        assert_same(result, value_for(later_key), f"b.get({later_key}) after a.close()")


@pytest.mark.task(3)
def test_get_many_returns_the_results_in_the_order_of_the_keys(ex, rng):
    keys = some_keys(rng, 5)
    delays = {key: 0.05 + 0.03 * (len(keys) - n) for n, key in enumerate(keys)}
    api = LoopWatchingApi(delay=delays.__getitem__)

    with client_for(ex, api) as client:
        result = call_plain("client.get_many", client.get_many, keys)

    assert_same(result, [value_for(key) for key in keys], "client.get_many's result")


@pytest.mark.task(3)
def test_get_many_fetches_every_key_every_time_repeats_included(ex, rng):
    keys = keys_with_a_repeat(rng, 4)
    api = LoopWatchingApi(delay=QUICK)

    with client_for(ex, api) as client:
        for _ in range(2):
            result = call_plain("client.get_many", client.get_many, keys)
            assert_same(result, [value_for(key) for key in keys], f"client.get_many({keys})")

    assert_fetched_every_time(api, f"two calls of client.get_many({keys})", keys + keys)


@pytest.mark.task(3)
def test_get_many_runs_every_call_at_the_same_time(ex, rng):
    keys = some_keys(rng, 5)
    api = LoopWatchingApi()

    with client_for(ex, api) as client, stopwatch() as run:
        call_plain("client.get_many", client.get_many, keys)

    assert_ran_together(api.fetch, run.elapsed, expected_calls=len(keys))


@pytest.mark.task(3)
def test_get_many_uses_the_same_loop_as_get(ex, rng):
    first, *keys = some_keys(rng, 4)
    api = LoopWatchingApi(delay=QUICK)

    with client_for(ex, api) as client:
        call_plain("client.get", client.get, first)
        call_plain("client.get_many", client.get_many, keys)
        call_plain("client.get_many", client.get_many, keys)

    assert_one_loop(api, "your calls to client.get and client.get_many")
