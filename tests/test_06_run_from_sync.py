"""Exercise 06: plain code runs async work with asyncio.run, or many calls on one asyncio.Runner.

These tests are plain `def` functions: like the learner's callers, they have no running loop,
and no current one either (see `loops_made`).
"""

import asyncio
import functools
import inspect
import traceback
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from kata.testing import (
    FakeService,
    assert_ran_together,
    assert_same,
    clock,
    describe,
    holds,
    margins,
    same,
    stopwatch,
)
from kata.testing.caps import assert_no_cap_of_its_own, held_until_all_in_flight, more_than_any_cap
from kata.testing.errors import Aborted
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.waiting import assert_slept_while_the_calls_ran

DELAY = 0.2
QUICK = 0.02
# The failing call of task 1: the others have answered by then, so nothing is left running.
SLOWER = 0.1
# The other calls of the test of a failing call that stops them: still running, long after the
# failing one, when it fails.
STILL_RUNNING = 1.0
STOP_THEM_YOURSELF = (
    "With a loop of your own, do the same before `loop.close()`: cancel the tasks still pending "
    "(`asyncio.all_tasks(loop)`), then `loop.run_until_complete(asyncio.gather(*pending, "
    "return_exceptions=True))` to wait until they have ended."
)
# How many calls the tests of "all at the same time" make: more than any small cap a learner might
# pick (a Semaphore(5) or (10), batches of 8) lets run at once.
MANY = 24
# The slowest call of the tests of order: longer than CONCURRENT_SLACK x DELAY, so a fixed pause
# short enough to pass the tests of "all at the same time" ends before this call has answered.
SLOWEST = 0.45


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


def slowest_first(keys):
    """Each key's delay: the first SLOWEST s, later ones sooner, so the calls finish in the reverse
    of the asking order, the first one long after the others."""
    step = (SLOWEST - 0.05) / (len(keys) - 1)
    return {key: SLOWEST - step * n for n, key in enumerate(keys)}


def assert_results_in_order(result, keys, delays, what):
    """Fail unless `result` holds value_for(key) for every key, in the order of `keys`; a result
    missing for the slowest call is explained: the code stopped waiting before it answered."""
    expected = [value_for(key) for key in keys]
    if isinstance(result, list | tuple) and len(result) == len(keys):
        missing = [key for key, found in zip(keys, result, strict=True) if found is None]
        if missing and not any(value is None for value in expected):
            slowest = max(missing, key=delays.__getitem__)
            raise AssertionError(
                f"{what} held None in place of fetch({slowest})'s result: fetch({slowest}) takes "
                f"{delays[slowest]:.2f} s, and your code gave up waiting for it before it answered (a "
                "fixed pause, or a loop that checks the tasks until a deadline). The docstring gives "
                "no time limit: wait until every call has answered, however long that takes "
                "(`await asyncio.gather(...)`)."
            )
    assert_same(result, expected, what)


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


def assert_fetched_every_time(api, what, asked, since=0):
    """Fail unless fetch ran once for every key in `asked` (repeats included), in any order, in its
    calls from number `since` on."""
    found = sorted(args[0] for args in api.fetch.started_args[since:])
    if found != sorted(asked):
        repeated = next((key for key in asked if asked.count(key) > 1), None)
        raise AssertionError(
            f"{what} asked for {len(asked)} keys, {repeated} among them more than once, but fetch "
            f"ran {len(found)} times: a key asked for again was not fetched again. fetch may answer "
            "differently each time (a price, a count), so the docstring asks for `await fetch(key)` "
            "for every key, every time, repeats included: no cache, no set() or dict of the keys."
        )


def times(count):
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def assert_each_place_has_its_own_answer(result, keys, api, before, what):
    """Fail unless `result` holds, in the place of each key of `keys`, an answer fetch gave for that
    key during the call (FreshAnswers; `before`: its `asked` before the call), each answer once: a
    key asked for twice gets both of its answers, one in each of its places."""
    given = {key: [answer(key, n) for n in range(before.get(key, 0) + 1, api.asked[key] + 1)] for key in keys}
    expected = [None] * len(keys)
    if isinstance(result, list | tuple) and len(result) == len(keys):
        for key in dict.fromkeys(keys):
            places = [n for n, asked in enumerate(keys) if asked == key]
            answers = given[key]
            one_answer = all(same(result[n], result[places[0]]) for n in places)
            if len(places) > 1 and len(answers) > 1 and one_answer:
                raise AssertionError(
                    f"{what} asked for {key} {times(len(places))}, and fetch({key}) ran "
                    f"{times(len(answers))} and answered {' then '.join(map(describe, answers))}, but "
                    f"every place of {key} in the result holds one answer, {describe(result[places[0]])}: "
                    "the results were looked up by key (a dict from key to result?), so one call's answer "
                    "filled the place of another. Keep each call's own result in its own place: "
                    "`await asyncio.gather(*(fetch(key) for key in keys))` gives them in the order of "
                    "`keys`, repeats included."
                )
        left = {key: list(answers) for key, answers in given.items()}
        for n, key in enumerate(keys):  # an answer in its key's place keeps it, in whatever order
            match = next((found for found in left[key] if same(result[n], found)), None)
            if match is not None:
                left[key].remove(match)
                expected[n] = match
        for n, key in enumerate(keys):
            if expected[n] is None and left[key]:
                expected[n] = left[key].pop(0)
    else:
        expected = [given[key][0] if given[key] else None for key in keys]
    assert_same(result, expected, what)


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
    except asyncio.InvalidStateError as error:
        raise AssertionError(
            f"{what} raised InvalidStateError ({str(error).rstrip('.')}): it asked a task for its "
            "result before the task had finished. A pause of a fixed length (`await asyncio.sleep(...)`) "
            "does not wait for the calls: one slower than the pause is still running when it ends. "
            "Wait for the calls themselves: `await asyncio.gather(...)` (or `await` each task) returns "
            "once every call has answered, however long that takes."
        ) from None
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


AWAIT_THEM = "Await them instead: `await asyncio.gather(...)` sleeps until every call is done."


def called_with_its_timers_probed(wakes, api, function, call, expected):
    """`call()` (plain: the learner's `function`, which runs a loop of its own), its own timers on
    that loop judged by what they do as the calls to `api` end (kata.testing.own_timers): a time
    limit gives up, a poll goes on only once its timer, held back, goes again; a timer that only
    logs or warns is fine. Gives the probe, for `assert_waited_for_the_calls`."""
    with OwnTimersProbe(wakes, function, api.fetch) as timers:
        timers.called_plain(call, expected, fix=AWAIT_THEM)
    return timers


def assert_waited_for_the_calls(wakes, api, function, timers):
    """Fail if `function`, plain code, checked on its calls in a loop while they ran (`wakes`: the
    test's own_loops_watch; `timers`: the probe that judged its timers): answers that do pass every
    test of results and of time."""
    assert_slept_while_the_calls_ran(wakes, api.fetch.calls, {}, function, AWAIT_THEM, probe=timers)


def assert_no_keys_give_an_empty_list(what, function, api):
    """Fail unless `function([])` returns an empty list without calling fetch (`what`: the call,
    as the learner would write it)."""
    try:
        result = call_plain(what, function, [])
    except Exception as error:
        if isinstance(error, AssertionError | NotImplementedError):
            raise
        raise AssertionError(
            f"{what} raised {error!r}: an empty list is a list too, with nothing to fetch, so "
            "the result is an empty list. (`asyncio.wait` refuses an empty set of tasks; "
            "`asyncio.gather()` with nothing to gather returns [], and a TaskGroup with no tasks "
            "in it simply ends.)"
        ) from error
    if api.fetch.calls:
        raise AssertionError(
            f"{what} called fetch {times(len(api.fetch.calls))}: with no keys, there is nothing to fetch."
        )
    assert_same(result, [], what)


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
    delays = slowest_first(ids)
    api = LoopWatchingApi(delay=delays.__getitem__)

    result = call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)

    assert_results_in_order(result, ids, delays, "fetch_all_sync's result")


# Two ids (keys) as well as many, in both tasks: a learner trial's fetch_all_sync awaited the calls one
# after another when it had two ids or fewer, and gathered them only from three on; two is the
# smallest list whose calls can be seen to run together, so an answer sequential below any size fails.
SIZES = pytest.mark.parametrize("size", ["two", "many"])


@SIZES
@pytest.mark.task(1)
def test_every_call_runs_at_the_same_time(ex, rng, size):
    ids = some_keys(rng, 2 if size == "two" else MANY)
    api = LoopWatchingApi()

    with stopwatch() as run:
        call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)

    assert_ran_together(api.fetch, run.elapsed, expected_calls=len(ids))


@pytest.mark.task(1)
def test_however_many_ids_there_are_fetch_all_sync_runs_every_call_at_once(ex, rng):
    # A cap of the code's own (a semaphore of 25 "to spare the service") passed the test above,
    # with its 24 ids, every time (a red team's; kata.testing.caps).
    count = more_than_any_cap(rng)
    ids = some_keys(rng, count)
    api = LoopWatchingApi(delay=0.02)
    with held_until_all_in_flight(api.fetch, count):
        result = call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)

    assert_no_cap_of_its_own(
        api.fetch, count, f"fetch_all_sync(fetch, <{count} ids>)", "ids", "gather all of them at once"
    )
    assert_same(result, [value_for(key) for key in ids], "fetch_all_sync's result")


@pytest.mark.task(1)
def test_waits_for_the_calls_with_no_time_limit_and_no_checks_of_its_own(ex, rng, own_loops_watch):
    ids = some_keys(rng, 4)
    api = LoopWatchingApi()

    with own_loops_watch(ex) as wakes:
        expected = [value_for(key) for key in ids]
        call = functools.partial(call_plain, "fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)
        timers = called_with_its_timers_probed(wakes, api, "fetch_all_sync", call, expected)

    assert_waited_for_the_calls(wakes, api, "fetch_all_sync", timers)


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


def assert_the_others_were_not_waited_for(api, raised_at):
    """Fail if the error reached the caller (at `raised_at`, kata clock) only once the other calls,
    which take STILL_RUNNING s where the failing one takes QUICK s, had answered: the code waited for
    every call (`return_exceptions=True`, asyncio.wait until all are done) instead of cancelling them.

    Correct code cancels them as the failing call raises, long before they could answer; the time
    from the failure to the caller is the margin. A machine stalled so long that the calls' timers
    fired together (the failure late, the others on time) leaves no gap, and is not judged."""
    finished = [call for call in api.fetch.calls if call.outcome == "returned"]
    failed = next((call for call in api.fetch.calls if call.outcome == "raised" and call.end), None)
    if not finished or failed is None:
        return
    late = raised_at - failed.end
    if margins.over(
        late, STILL_RUNNING / 2, "06 task 1: the error reaches the caller before the others answer"
    ):
        which = ", ".join(call.label("fetch") for call in finished)
        raise AssertionError(
            f"{failed.label('fetch')} raised {failed.end - failed.start:.2f} s after it started, but "
            "fetch_all_sync let its error reach the "
            f"caller only {late:.2f} s later, once {which} had answered: it waited for every call to "
            "finish instead of cancelling the ones still running. The docstring asks for the calls still "
            "running to be cancelled (and to have ended) before the error reaches the caller: their "
            "answers would be thrown away, and the caller should not wait for them. Gathering with "
            "`return_exceptions=True` (or asyncio.wait until every call is done) and raising afterwards "
            "waits for all of them; `await asyncio.gather(...)` without it raises the first error at "
            "once, and asyncio.run(...) then cancels the calls still running and waits until they have "
            "ended."
        )


@pytest.mark.task(1)
def test_a_failing_call_stops_the_others_before_the_error_reaches_the_caller(ex, rng):
    ids = some_keys(rng, 4)
    # Never the first: code that reads the first result after a fixed pause, before that call has
    # answered, is told so (InvalidStateError) every time, whatever the inputs.
    bad = rng.choice(ids[1:])
    error = LookupError(f"item {bad} is unavailable")
    api = LoopWatchingApi(
        delay=lambda key: QUICK if key == bad else STILL_RUNNING,
        fail=lambda key: error if key == bad else None,
    )
    api.fetch.stop_delay = QUICK  # as a request closing its connection: one loop turn is not enough

    try:
        call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)
    except NotImplementedError:
        raise
    except Exception as raised:
        raised_at = clock.perf_counter()
        if not holds(raised, error):
            raise
    else:  # the error never reached the caller: the test above says so
        return
    assert_the_others_were_not_waited_for(api, raised_at)
    # A call cancelled but not stopped yet ends "cancelled" only once it has stopped (call.end).
    untouched = [call.label("fetch") for call in api.fetch.calls if call.outcome == "running"]
    stopping = [
        call.label("fetch") for call in api.fetch.calls if call.outcome == "cancelled" and call.end is None
    ]
    if untouched:
        raise AssertionError(
            f"fetch({bad}) raised {error!r}, and fetch_all_sync let it through while "
            f"{', '.join(untouched)} {'was' if len(untouched) == 1 else 'were'} still running: they "
            "were left pending on an event loop that no longer runs, where they never finish nor stop "
            "(a `finally:` of theirs runs only when the garbage collector finds them, with no loop, and "
            'Python logs "Task was destroyed but it is pending!"). asyncio.gather raises the first '
            "error at once and leaves the other calls running, and `loop.close()` does not stop them. "
            "asyncio.run(...) (or `with asyncio.Runner() as runner:`) cancels whatever is still "
            "running and waits until it has ended before it closes its loop: let it run your gather. "
            f"{STOP_THEM_YOURSELF}"
        )
    if stopping:
        raise AssertionError(
            f"fetch({bad}) raised {error!r}, and fetch_all_sync cancelled {', '.join(stopping)} but let "
            "the error through before they had stopped: a cancelled call takes a moment to stop (a "
            "request closes its connection), and on a closed loop it never does. asyncio.run(...) waits "
            f"until the calls it cancelled have ended before it closes its loop. {STOP_THEM_YOURSELF}"
        )


@pytest.mark.task(1)
def test_a_call_that_raises_a_baseexception_stops_the_others_too(ex, rng):
    # "If a call raises", whatever it raised: not only an Exception (a red team's fetch_all_sync ran
    # its own loop, and cancelled the calls under `except Exception:`, which passed every other test).
    ids = some_keys(rng, 4)
    bad = rng.choice(ids[1:])
    error = Aborted(f"fetch({bad}) was told to stop")
    api = LoopWatchingApi(
        delay=lambda key: QUICK if key == bad else STILL_RUNNING,
        fail=lambda key: error if key == bad else None,
    )
    api.fetch.stop_delay = QUICK  # as a request closing its connection: one loop turn is not enough

    try:
        result = call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)
    except NotImplementedError:
        raise
    except (Aborted, BaseExceptionGroup) as raised:
        raised_at = clock.perf_counter()
        if not holds(raised, error):
            raise
    else:
        raise AssertionError(
            f"fetch({bad}) raised {error!r}, but fetch_all_sync returned {describe(result)}: let that "
            "error reach the caller, whatever its class."
        )
    assert_the_others_were_not_waited_for(api, raised_at)
    untouched = [call.label("fetch") for call in api.fetch.calls if call.outcome == "running"]
    stopping = [
        call.label("fetch") for call in api.fetch.calls if call.outcome == "cancelled" and call.end is None
    ]
    if untouched or stopping:
        left = untouched or stopping
        how = "still running" if untouched else "cancelled, but not stopped yet"
        raise AssertionError(
            f"fetch({bad}) raised {error!r}, and fetch_all_sync let it through while {', '.join(left)} "
            f"{'was' if len(left) == 1 else 'were'} {how}, left pending on an event loop that no longer "
            "runs. The error was a BaseException that is not an Exception (as SystemExit and "
            "KeyboardInterrupt are), and `except Exception:` does not catch it. Nothing may be left "
            "running however the calls end: stop them in a `finally:` block, which runs for every "
            "exception, or let asyncio.run(...) (or `with asyncio.Runner() as runner:`) run your gather: "
            f"it cancels whatever is still running, whatever was raised, and waits until it has ended. "
            f"{STOP_THEM_YOURSELF}"
        )


def assert_results_of_their_own(calls, function):
    """`calls`: (the keys, the list `function` returned for them, in call order) for calls made one
    after another. Fail if two of them are the very list, or if one no longer holds what it was
    returned with: a list kept outside the function (on the client, or at module level), filled in
    afresh at every call, changes under each caller at the next call. (In judge mode the results
    are copies taken as they were returned, and only the values are compared.)"""
    for n, (keys, result) in enumerate(calls):
        later = [other for _, other in calls[n + 1 :]]
        if isinstance(result, list) and any(result is other for other in later):
            raise AssertionError(
                f"{function}({keys}) and a later call of {function} returned the very same list, now "
                f"{describe(result)}: one list kept outside the function (on the client or at module "
                "level), filled in afresh at every call, so each caller's result changes under them "
                "at the next call. Return a new list at every call (the list asyncio.gather gives is "
                "a new one each time: return it as it is), and keep no list between calls."
            )
        if isinstance(result, list) and later and not same(result, [value_for(key) for key in keys]):
            raise AssertionError(
                f"the list {function}({keys}) returned had changed by the time the later calls had run: "
                f"it held {describe(result)}. Keep nothing between calls, and return a new list every "
                "time (asyncio.gather gives a new list at each call)."
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
    api = FreshAnswers()  # a repeated id is answered differently each time: each answer in its place

    for number in ("first", "second"):
        before, since = dict(api.asked), len(api.fetch.calls)
        result = call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)
        assert_fetched_every_time(api, f"the {number} call of fetch_all_sync({ids})", ids, since)
        assert_each_place_has_its_own_answer(result, ids, api, before, f"fetch_all_sync({ids})'s result")


@pytest.mark.task(1)
def test_each_call_returns_a_list_of_its_own(ex, rng):
    # As a red team's get_many (`self._last[:] = ...`): one list filled in afresh and returned every
    # time changes the caller's earlier list at the next call. Three calls, every result checked
    # again once all three have returned. (Seen in one process only: in judge mode each result is a
    # copy taken as it was returned, and plain calls cannot overlap.)
    api = LoopWatchingApi(delay=QUICK)
    calls = []
    for count in (3, 2, 4):
        ids = some_keys(rng, count)
        result = call_plain("fetch_all_sync", ex.fetch_all_sync, api.fetch, ids)
        assert_same(result, [value_for(i) for i in ids], f"fetch_all_sync(fetch, {ids})")
        calls.append((ids, result))

    assert_results_of_their_own(calls, "fetch_all_sync")


@pytest.mark.task(1)
def test_no_ids_give_an_empty_list(ex):
    api = LoopWatchingApi(delay=QUICK)

    def fetch_all_sync(ids):
        return ex.fetch_all_sync(api.fetch, ids)

    assert_no_keys_give_an_empty_list("fetch_all_sync(fetch, [])", fetch_all_sync, api)


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
def test_get_waits_for_its_call_with_no_time_limit_and_no_checks_of_its_own(ex, rng, own_loops_watch):
    api = LoopWatchingApi()

    key = rng.randrange(100, 1000)
    with own_loops_watch(ex) as wakes, client_for(ex, api) as client:
        call = functools.partial(call_plain, "client.get", client.get, key)
        timers = called_with_its_timers_probed(wakes, api, "get", call, value_for(key))

    assert_waited_for_the_calls(wakes, api, "get", timers)


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
    # Both clients wrap the same fetch (two parts of a program using one service): the loops its
    # calls ran on, one call at a time, tell the clients apart.
    api = LoopWatchingApi(delay=QUICK)
    with client_for(ex, api) as b:
        a = call_plain("SyncClient(fetch)", ex.SyncClient, api.fetch)
        try:
            assert_same(call_plain("a.get", a.get, key_a), value_for(key_a), f"a.get({key_a})")
            loops_of_a = list(api.loops)
            assert_same(call_plain("b.get", b.get, key_b), value_for(key_b), f"b.get({key_b})")
            loops_of_b = api.loops[len(loops_of_a) :]
        finally:
            call_plain("a.close()", a.close)
        if {id(loop) for loop in loops_of_a} & {id(loop) for loop in loops_of_b}:
            raise AssertionError(
                "two SyncClients of the same fetch, a and b, ran their calls on the same event loop: "
                "every client must have one of its own, or closing one client closes the loop of "
                "every other. A loop (or asyncio.Runner) made once for the class or the module, or "
                "kept in a dict by fetch, is shared by several clients: make it in __init__, "
                "`self._runner = asyncio.Runner()`."
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


def fetch_failing_for(errors):
    """A LoopWatchingApi whose fetch raises `errors[key]` for the keys listed there, and answers
    every other key."""
    return LoopWatchingApi(delay=QUICK, fail=errors.get)


def call_that_raises(what, function, key, error):
    """Call `function(key)`, plain code, where fetch(key) raises `error`. Gives what it returned,
    or None once `error` (or a group holding it) reached the caller; any other error goes on."""
    try:
        return (call_plain(what, function, key),)
    except NotImplementedError:
        raise
    except Exception as raised:
        # A TaskGroup reports its tasks' errors as an ExceptionGroup holding them.
        if holds(raised, error):
            return None
        if raised.__cause__ is error or raised.__context__ is error:
            raise AssertionError(
                f"fetch({key}) raised {error!r}, and {what} raised {raised!r} in its place: the caller "
                f"gets a different error from the one fetch raised. Let fetch's own error reach the "
                "caller, unchanged: no `except` that raises another one instead."
            ) from raised
        raise


@pytest.mark.task(2)
def test_an_error_of_fetch_reaches_the_caller_of_get(ex, rng):
    # "return its result": when `await fetch(key)` raises, get raises that error. Two classes of
    # error, so code that hides one kind of failure (`except LookupError: return None`) fails too.
    first, second = some_keys(rng, 2)
    errors = {
        first: LookupError(f"item {first} is unavailable"),
        second: ConnectionError(f"the service dropped the request for {second}"),
    }
    api = fetch_failing_for(errors)

    # A client each, all open until the end: whether an error ends a client is the next test's to
    # say, and whether clients share a loop another test's.
    with ExitStack() as clients:
        for key, error in errors.items():
            client = clients.enter_context(client_for(ex, api))
            returned = call_that_raises(f"client.get({key})", client.get, key, error)
            if returned is not None:
                raise AssertionError(
                    f"fetch({key}) raised {error!r}, but client.get({key}) returned "
                    f"{describe(returned[0])}: the error never reached the caller, who cannot tell the "
                    "failed call from an answer. get returns what `await fetch(key)` returns, and when "
                    "that raises, the same error must reach get's caller: no `except` around the run "
                    "that returns a value (None) in its place. Plain code that wants to handle it puts "
                    "its own try/except around client.get."
                )


@pytest.mark.task(2)
def test_the_client_goes_on_working_after_a_get_that_raised(ex, rng):
    # "stays open until close() is called": an error of one call does not end the client (a red
    # team's get closed its runner as the error went by: the next get raised "Runner is closed").
    before, bad, after = some_keys(rng, 3)
    error = LookupError(f"item {bad} is unavailable")
    api = fetch_failing_for({bad: error})

    with client_for(ex, api) as client:
        assert_same(call_plain("client.get", client.get, before), value_for(before), f"client.get({before})")
        call_that_raises(f"client.get({bad})", client.get, bad, error)  # whether it raised: the test above
        try:
            result = client.get(after)
        except Exception as later:
            raise AssertionError(
                f"fetch({bad}) raised {error!r} and client.get({bad}) let it through, but then "
                f"client.get({after}) raised {type(later).__name__} ({str(later).rstrip('.')}): the "
                "error ended the client. The docstring keeps the client's event loop open until "
                "close() is called: one call's error is its caller's to handle, and the next get runs "
                "as usual. Do not close the runner (or loop) when a call raises: close it in close() "
                "only."
            ) from None
        assert_same(result, value_for(after), f"client.get({after}) after a get that raised")

    assert_one_loop(api, "your calls to client.get, before and after the one that raised,")


@pytest.mark.task(3)
def test_get_many_returns_the_results_in_the_order_of_the_keys(ex, rng):
    keys = some_keys(rng, 5)
    delays = slowest_first(keys)
    api = LoopWatchingApi(delay=delays.__getitem__)

    with client_for(ex, api) as client:
        result = call_plain("client.get_many", client.get_many, keys)

    assert_results_in_order(result, keys, delays, "client.get_many's result")


@pytest.mark.task(3)
def test_get_many_fetches_every_key_every_time_repeats_included(ex, rng):
    keys = keys_with_a_repeat(rng, 4)
    api = FreshAnswers()  # a repeated key is answered differently each time: each answer in its place

    with client_for(ex, api) as client:
        for number in ("first", "second"):
            before, since = dict(api.asked), len(api.fetch.calls)
            result = call_plain("client.get_many", client.get_many, keys)
            assert_fetched_every_time(api, f"the {number} call of client.get_many({keys})", keys, since)
            assert_each_place_has_its_own_answer(result, keys, api, before, f"client.get_many({keys})")


@pytest.mark.task(3)
def test_each_get_many_returns_a_list_of_its_own(ex, rng):
    # A red team's get_many filled one list of the client's in afresh (`self._last[:] = ...`) and
    # returned it every time: the caller's earlier list changed at the next call. Two calls on one
    # client, one on another, every result checked again once all three have returned. (Seen in one
    # process only: in judge mode each result is a copy taken as it was returned.)
    api = LoopWatchingApi(delay=QUICK)
    calls = []
    with client_for(ex, api) as client, client_for(ex, api) as other:
        for count, which in ((3, client), (2, client), (4, other)):
            keys = some_keys(rng, count)
            result = call_plain("client.get_many", which.get_many, keys)
            assert_same(result, [value_for(key) for key in keys], f"client.get_many({keys})")
            calls.append((keys, result))

    assert_results_of_their_own(calls, "client.get_many")


@SIZES
@pytest.mark.task(3)
def test_get_many_runs_every_call_at_the_same_time(ex, rng, size):
    keys = some_keys(rng, 2 if size == "two" else MANY)
    api = LoopWatchingApi()

    with client_for(ex, api) as client, stopwatch() as run:
        call_plain("client.get_many", client.get_many, keys)

    assert_ran_together(api.fetch, run.elapsed, expected_calls=len(keys))


@pytest.mark.task(3)
def test_however_many_keys_there_are_get_many_runs_every_call_at_once(ex, rng):
    count = more_than_any_cap(rng)
    keys = some_keys(rng, count)
    api = LoopWatchingApi(delay=0.02)
    with client_for(ex, api) as client, held_until_all_in_flight(api.fetch, count):
        result = call_plain("client.get_many", client.get_many, keys)

    assert_no_cap_of_its_own(
        api.fetch, count, f"client.get_many(<{count} keys>)", "keys", "gather all of them at once"
    )
    assert_same(result, [value_for(key) for key in keys], "get_many's result")


@pytest.mark.task(3)
def test_get_many_waits_for_the_calls_with_no_time_limit_and_no_checks_of_its_own(ex, rng, own_loops_watch):
    api = LoopWatchingApi()

    keys = some_keys(rng, 4)
    with own_loops_watch(ex) as wakes, client_for(ex, api) as client:
        call = functools.partial(call_plain, "client.get_many", client.get_many, keys)
        timers = called_with_its_timers_probed(wakes, api, "get_many", call, [value_for(k) for k in keys])

    assert_waited_for_the_calls(wakes, api, "get_many", timers)


@pytest.mark.task(3)
def test_get_many_uses_the_same_loop_as_get(ex, rng):
    first, *keys = some_keys(rng, 4)
    api = LoopWatchingApi(delay=QUICK)

    with client_for(ex, api) as client:
        call_plain("client.get", client.get, first)
        call_plain("client.get_many", client.get_many, keys)
        call_plain("client.get_many", client.get_many, keys)

    assert_one_loop(api, "your calls to client.get and client.get_many")


@pytest.mark.task(3)
def test_get_many_of_no_keys_gives_an_empty_list(ex):
    api = LoopWatchingApi(delay=QUICK)

    with client_for(ex, api) as client:
        assert_no_keys_give_an_empty_list("client.get_many([])", client.get_many, api)


@pytest.mark.task(3)
def test_an_error_of_fetch_reaches_the_caller_of_get_many(ex, rng):
    # "Return a list of the results": a call that raised has no result, so its error is raised. The
    # failing call is the slowest, so the others have answered by then (nothing is left running).
    keys = some_keys(rng, 4)
    bad = rng.choice(keys)
    error = LookupError(f"item {bad} is unavailable")
    api = LoopWatchingApi(
        delay=lambda key: SLOWER if key == bad else QUICK,
        fail=lambda key: error if key == bad else None,
    )

    with client_for(ex, api) as client:
        returned = call_that_raises(f"client.get_many({keys})", client.get_many, keys, error)
    if returned is not None:
        raise AssertionError(
            f"fetch({bad}) raised {error!r}, but client.get_many({keys}) returned "
            f"{describe(returned[0])}: the error never reached the caller, and what stands in the place "
            f"of {bad} (None, or the error object itself) looks like an answer. A call that raised has "
            "no result to put in the list: let its error go on. `await asyncio.gather(...)`, with no "
            "`return_exceptions=True`, raises it."
        )


@pytest.mark.task(3)
def test_the_client_goes_on_working_after_a_get_many_that_raised(ex, rng):
    # As for get: an error of one get_many does not end the client, and the later calls run on its
    # one loop. The failing call is the slowest, so nothing is left running when get_many raises.
    keys = some_keys(rng, 6)
    failing, later = keys[:3], keys[3:]
    bad = rng.choice(failing)
    error = LookupError(f"item {bad} is unavailable")
    api = LoopWatchingApi(
        delay=lambda key: SLOWER if key == bad else QUICK,
        fail=lambda key: error if key == bad else None,
    )

    with client_for(ex, api) as client:
        call_that_raises(f"client.get_many({failing})", client.get_many, failing, error)  # the test above's
        for what, call, expected in (
            (
                f"client.get_many({later[:2]})",
                functools.partial(client.get_many, later[:2]),
                [value_for(k) for k in later[:2]],
            ),
            (f"client.get({later[2]})", functools.partial(client.get, later[2]), value_for(later[2])),
        ):
            try:
                result = call()
            except Exception as raised:
                raise AssertionError(
                    f"fetch({bad}) raised {error!r} and client.get_many({failing}) let it through, but "
                    f"then {what} raised {type(raised).__name__} ({str(raised).rstrip('.')}): the error "
                    "ended the client. The docstring keeps the client's event loop open until close() is "
                    "called: one call's error is its caller's to handle, and the next call runs as usual. "
                    "Do not close the runner (or loop) when a call raises: close it in close() only."
                ) from None
            assert_same(result, expected, f"{what} after a get_many that raised")

    assert_one_loop(
        api, "your calls to client.get_many and client.get, before and after the one that raised,"
    )
