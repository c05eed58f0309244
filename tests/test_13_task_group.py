"""Exercise 13: a TaskGroup runs tasks together, stops them all when one fails, and
hands back its errors as an ExceptionGroup."""

import asyncio

import pytest

from kata.testing import (
    FakeService,
    assert_call_count,
    assert_ran_together,
    assert_same,
    clock,
    describe,
    holds,
    leaves,
    margins,
    stopwatch,
)
from kata.testing.cancelling import (
    WAIT,
    HeldStop,
    LeftRunning,
    Run,
    assert_ended_cancelled,
    finished_too_late_to_stop,
    left_running,
    left_running_message,
    stop_calls,
    through,
)
from kata.testing.caps import (
    MANY_CALLS_STALL_LIMIT,
    assert_no_cap_of_its_own,
    held_until_all_in_flight,
    more_than_any_cap,
)
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.sizes import (
    EVERY_SIZE,
    assert_every_size_ran_together,
    each_held_until_all_in_flight,
    lists_of_every_size,
)
from kata.testing.waiting import assert_slept_while_the_calls_ran

DELAY = 0.2
# A failing call fails quickly while the others would take much longer.
FAST = 0.05
SLOW = 0.5
# Raising "at once" after a FAST failure: well under SLOW, generous for a loaded machine.
PROMPT = FAST + 0.15
PARTS = ("user", "feed", "ads", "inbox", "friends", "weather", "news", "cart")
# How long a cancelled call takes to stop, in the test that a failing call stops the others (fetch_all
# by hand, not in a TaskGroup, may cancel and then wait a fixed time): it stops only when the test
# lets it (kata.testing.cancelling.HeldStop). A fixed wait ends before the calls have stopped, or
# keeps a timer of its own going while they stop (the `hold` fixture: kata.testing.cancelling.HOLD).
# The first call cancelled stops at once (`lead`).
WAIT_FOR_THEM = (
    "wait for the tasks themselves (`await asyncio.gather(*tasks, return_exceptions=True)`), which ends "
    "the moment they have stopped, or let a TaskGroup do it"
)


def labels(calls, name):
    return ", ".join(call.label(name) for call in calls)


def some_ids(rng, count):
    return rng.sample(range(100, 1000), count)


def item_for(item_id):
    return {"id": item_id, "name": f"item-{item_id}"}


def running_now(service):
    """The calls still running; read the instant the learner's function has ended."""
    return [call for call in service.calls if call.end is None]


async def assert_stopped_when_it_ended(held, ended_at, running, whose, name, unit, what):
    """Fail if `what` (the learner's function) ended, as `whose` says, with calls still running, or
    (with `held`, a HeldStop) long after the calls it cancelled had stopped: a fixed wait. Lets
    the held calls stop first; `ended_at`: when it ended (kata clock)."""
    if held is None:
        await assert_none_left_running(running, whose, name, unit, what)
        return
    await held.release()
    guessed = held.fixed_wait_words(ended_at, what)
    await assert_none_left_running(running, whose, name, unit, what, guessed)
    held.assert_not_waited_on(ended_at, what, whose, wait_for=WAIT_FOR_THEM)


async def assert_none_left_running(running, whose, name, unit, what, guessed=""):
    """Fail, in the words of what was seen, if calls were still running when `whose` happened
    ("load_page raised ...", "failure_report returned"); `what` is the learner's function.
    `guessed`: what to add when they had been cancelled and waited on a fixed time."""
    if not running:
        return
    stopping, untouched = await left_running(running)
    if untouched:
        advice = (
            f"When one {unit} fails, the others still running must be cancelled, and have stopped, "
            f"before {what} ends. A TaskGroup does both for you: start every call with "
            "`group.create_task(...)` inside `async with asyncio.TaskGroup() as group:`."
        )
    else:
        advice = (
            f"Wait until they have stopped before {what} ends (after cancelling them, "
            "`await asyncio.gather(*tasks, return_exceptions=True)`), or let a TaskGroup do both: "
            f"it cancels the others and waits for them.{guessed}"
        )
    raise AssertionError(f"{left_running_message(whose, stopping, untouched, name)} {advice}")


# Task 1 ------------------------------------------------------------------------------


async def fetch_all(ex, fetch, ids):
    """ex.fetch_all's result; reading a task's result too early reads as plain words."""
    try:
        return await ex.fetch_all(fetch, ids)
    except Exception as error:
        early = [leaf for leaf in leaves(error) if isinstance(leaf, asyncio.InvalidStateError)]
        if not early:
            raise
        raise AssertionError(
            f"a task's result was read before the task had finished ({early[0]!r}). Inside the "
            "`async with` block the tasks are still running: read `task.result()` after the "
            "block has ended, when every task is done."
        ) from None


@pytest.mark.task(1)
async def test_results_come_back_in_the_order_of_the_ids(ex, rng):
    ids = some_ids(rng, 5)
    # Later ids answer sooner, so finishing order is the reverse of the asking order.
    delays = {item_id: 0.05 + 0.03 * (len(ids) - n) for n, item_id in enumerate(ids)}
    fetch = FakeService("fetch", delay=delays.__getitem__, reply=item_for)

    result = await fetch_all(ex, fetch, ids)

    assert_same(result, [item_for(i) for i in ids], "fetch_all's result")


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(1)
async def test_a_list_of_any_size_has_all_its_calls_run_at_the_same_time(ex, rng):
    # Every size from two up, side by side, each with a fetch of its own: code can choose to make
    # its calls one after another for sizes no other test draws (a red team's, in 02).
    lists = lists_of_every_size(rng, range(100, 1000))
    services = {n: FakeService("fetch", delay=DELAY, reply=item_for) for n in EVERY_SIZE}

    with each_held_until_all_in_flight(services):
        results = await asyncio.gather(*(fetch_all(ex, services[n], lists[n]) for n in EVERY_SIZE))

    fix = "Make a task for every id in the one TaskGroup, whatever their number."
    assert_every_size_ran_together("fetch_all", services, "ids", fix=fix)
    for n, result in zip(EVERY_SIZE, results, strict=True):
        assert_same(result, [item_for(i) for i in lists[n]], f"fetch_all's result for {n} ids")


# Two ids (parts) as well as many, in every task: a learner trial's fetch_all awaited the calls one
# after another when it had two ids or fewer, and made its TaskGroup only from three on; two is the
# smallest list whose calls can be seen to run together, so an answer sequential below any size fails.
@pytest.mark.parametrize("size", ["two_ids", "many_ids"])
@pytest.mark.task(1)
async def test_every_call_runs_at_the_same_time(ex, rng, wake_watch, size):
    # A prime number of ids, above 10: calls made in batches of any size up to 10 never all run at
    # once. Long calls, so that in judge mode the last call starts before the first has ended.
    many = size == "many_ids"
    ids = some_ids(rng, rng.choice((11, 13)) if many else 2)
    fetch = FakeService("fetch", delay=SLOW if many else DELAY, reply=item_for)

    fix = (
        "Await them instead: leave the `async with asyncio.TaskGroup()` block, which waits until "
        "every task is done."
    )
    async with wake_watch(ex) as wakes:
        with stopwatch() as run, OwnTimersProbe(wakes, "fetch_all", fetch) as timers:
            task = asyncio.create_task(fetch_all(ex, fetch, ids))
            await timers.awaited(task, [item_for(i) for i in ids], fix=fix)

    assert_ran_together(fetch, run.elapsed - timers.held_for, expected_calls=len(ids))
    # Tasks checked on in a loop run together too, and a test of the time alone passes them.
    assert_slept_while_the_calls_ran(wakes, fetch.calls, {task: "fetch_all"}, "fetch_all", fix, probe=timers)


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(1)
async def test_more_than_a_hundred_ids_all_run_at_the_same_time(ex, rng):
    # "At most 50 at a time, to spare the service" (a semaphore, or batches) passed the test above,
    # with its 11 or 13 ids, every time (a red team's; kata.testing.caps).
    count = more_than_any_cap(rng)
    ids = some_ids(rng, count)
    fetch = FakeService("fetch", delay=0.02, reply=item_for)
    with held_until_all_in_flight(fetch, count):
        result = await fetch_all(ex, fetch, ids)

    assert_no_cap_of_its_own(
        fetch, count, f"fetch_all(fetch, <{count} ids>)", "ids", "one task for each id in one TaskGroup"
    )
    assert_same(result, [item_for(i) for i in ids], "fetch_all's result")


@pytest.mark.task(1)
async def test_no_ids_means_no_calls_and_an_empty_list(ex):
    fetch = FakeService("fetch", delay=DELAY, reply=item_for)

    result = await fetch_all(ex, fetch, [])

    assert_same(result, [], "fetch_all([])")


@pytest.mark.task(1)
async def test_a_second_call_asks_fetch_afresh(ex, rng):
    # The same ids twice, with a fetch whose answers have changed by the second call, as a live
    # service's do: nothing is kept from one call to the next (a red team's answer kept every
    # result in a dict at module level, and the second call returned the first call's answers).
    ids = some_ids(rng, 5)
    for round_number in (1, 2):
        fetch = FakeService("fetch", delay=FAST, reply=lambda i, n=round_number: {**item_for(i), "round": n})
        asked = rng.sample(ids, len(ids))

        result = await fetch_all(ex, fetch, asked)

        if round_number == 2 and len(fetch.calls) < len(asked):
            fetched = sorted(call.args[0] for call in fetch.calls)
            calls = f"called fetch only for {fetched}" if fetched else "never called fetch"
            raise AssertionError(
                f"fetch_all was called a second time, with the ids {asked} again, and a fetch whose "
                f"answers have changed since the first call: it {calls}, and returned "
                f"{describe(result)}. Keep nothing from one call to the next (no dict of results in a "
                "variable outside the function): every call asks `fetch` afresh for every id."
            )
        assert_same(
            result,
            [{**item_for(i), "round": round_number} for i in asked],
            f"call {round_number} of fetch_all, with the ids {asked}",
        )


@pytest.mark.task(1)
async def test_an_id_listed_twice_is_fetched_each_time(ex, rng):
    ids = some_ids(rng, 5)
    repeated = rng.choice(ids)
    ids.insert(rng.randint(ids.index(repeated) + 1, len(ids)), repeated)
    # Each call answers with a number of its own, as a live service may answer an id differently
    # from one call to the next: each place in the list holds the answer of its own call.
    answers = iter(range(1, len(ids) + 1))
    fetch = FakeService("fetch", delay=FAST, reply=lambda i: {**item_for(i), "answer": next(answers)})

    result = await fetch_all(ex, fetch, ids)

    if len(fetch.calls) != len(ids):
        raise AssertionError(
            f"ids was {ids}: {repeated} is listed twice, so fetch_all should call fetch({repeated}) "
            f"twice, once for each time it is listed: {len(ids)} calls in all; it made {len(fetch.calls)}."
        )
    if type(result) is list and len(result) == len(ids) and all(type(r) is dict for r in result):
        twice = [r.get("answer") for r, i in zip(result, ids, strict=True) if i == repeated]
        if len(set(twice)) == 1:
            raise AssertionError(
                f"ids was {ids}: {repeated} is listed twice, and each call of fetch({repeated}) answered "
                f"differently, but fetch_all's list holds the same answer in both places: {describe(twice)}. "
                "The other answer is lost (a dict keyed by id keeps one task per id). Keep one task for "
                "each place in ids, repeats included: `[group.create_task(fetch(i)) for i in ids]`."
            )
    got = sorted(r.get("answer", 0) for r in result) if type(result) is list else result
    assert_same(got, list(range(1, len(ids) + 1)), "the answers in fetch_all's result (sorted)")
    assert_same(
        [{**r, "answer": 0} for r in result],
        [{**item_for(i), "answer": 0} for i in ids],
        "fetch_all's result",
    )


class FailingFetch:
    """A fake `fetch` whose call for `bad` raises after FAST seconds; the others take SLOW."""

    def __init__(self, rng):
        self.ids = some_ids(rng, 5)
        self.bad = rng.choice(self.ids)
        self.error = ConnectionError(f"item {self.bad} is unavailable")
        self.service = FakeService(
            "fetch",
            delay=lambda i: FAST if i == self.bad else SLOW,
            reply=item_for,
            fail=lambda i: self.error if i == self.bad else None,
        )

    async def run(self, ex, held=None):
        """The exception fetch_all raised; a failure if it returned, or left calls running. With
        `held` (HeldStop), also if it waited a fixed time for the calls it cancelled."""
        try:
            result = await through(held, ex.fetch_all(self.service, self.ids))
        except NotImplementedError:
            raise
        except Exception as error:
            ended_at, running = clock.monotonic(), running_now(self.service)
            whose = f"fetch_all raised {error!r}"
            await assert_stopped_when_it_ended(held, ended_at, running, whose, "fetch", "call", "fetch_all")
            return error
        finally:
            if held is not None:
                await held.release()
        await stop_calls(self.service.calls)
        raise AssertionError(
            f"fetch({self.bad}) raised {self.error!r}, so fetch_all has no list of results to give: "
            f"the error should reach its caller (a TaskGroup raises it in an ExceptionGroup), but "
            f"fetch_all returned {describe(result)}. Catching the error and returning something "
            "else (None in the failed call's place) hides the failure from your caller."
        )


@pytest.mark.task(1)
async def test_a_failing_call_reaches_the_caller(ex, rng):
    broken = FailingFetch(rng)

    error = await broken.run(ex)

    if not holds(error, broken.error):
        raise AssertionError(
            f"fetch({broken.bad}) raised {broken.error!r}; fetch_all should let that very exception "
            f"reach its caller (in the ExceptionGroup a TaskGroup raises), found {describe(error)}"
        )


@pytest.mark.task(1)
async def test_a_failing_call_cancels_the_others_before_it_raises(ex, rng, hold, wake_watch):
    broken = FailingFetch(rng)
    held = HeldStop(hold, broken.service, lead=0.0)

    async with wake_watch(ex) as wakes:
        with stopwatch() as run:
            await broken.run(ex, held)

    others = [call for call in broken.service.calls if call.args != (broken.bad,)]
    finished = [call for call in others if call.outcome == "returned"]
    if finished:
        failed = [call for call in broken.service.calls if call.args == (broken.bad,)]
        finished_too_late_to_stop(
            finished, failed, "13 fetch_all: the calls still running are cancelled before they end"
        )
        raise AssertionError(
            f"fetch({broken.bad}) failed after {FAST:.2f} s, but you let the other calls finish "
            f"({labels(finished, 'fetch')}) and raised after {run.elapsed:.2f} s. In a TaskGroup "
            "the first failure cancels the tasks still running, and the group waits for them."
        )
    if len(broken.service.calls) != len(broken.ids):
        raise AssertionError(
            f"only {len(broken.service.calls)} of the {len(broken.ids)} calls to fetch were made: "
            "start every call at once, before any of them fails"
        )
    held.assert_waited_on_the_calls(wakes, "fetch_all", WAIT_FOR_THEM)


# Task 2 ------------------------------------------------------------------------------


def part_for(name, user_id):
    return {"part": name, "user": user_id}


def page(names, delay, fail=None):
    """(loaders for these part names, the one FakeService behind all of them)."""
    loader = FakeService("loader", delay=delay, reply=part_for, fail=fail)
    loaders = {name: (lambda user_id, name=name: loader(name, user_id)) for name in names}
    return loaders, loader


class BrokenPage:
    """A page whose `bad` part fails after FAST seconds; the other parts take SLOW."""

    def __init__(self, rng):
        names = rng.sample(PARTS, 5)
        self.bad = rng.choice(names)
        self.error = LookupError(f"the {self.bad} service is down")
        self.user_id = rng.randrange(100, 1000)
        self.loaders, self.loader = page(
            names,
            delay=lambda name, _: FAST if name == self.bad else SLOW,
            fail=lambda name, _: self.error if name == self.bad else None,
        )

    async def load(self, ex, held=None):
        """The exception load_page raised; a failure if it returned instead, or left loaders
        running. With `held` (HeldStop), also if it waited a fixed time for the loaders it
        cancelled."""
        try:
            result = await through(held, ex.load_page(self.loaders, self.user_id))
        except NotImplementedError:
            raise
        except Exception as error:
            ended_at, running = clock.monotonic(), running_now(self.loader)
            whose = f"load_page raised {error!r}"
            await assert_stopped_when_it_ended(held, ended_at, running, whose, "loader", "part", "load_page")
            return error
        finally:
            if held is not None:
                await held.release()
        await stop_calls(self.loader.calls)
        raise AssertionError(
            f"the {self.bad!r} loader raised {self.error!r}, so the page cannot be built and "
            f"load_page should raise; it returned {describe(result)} instead. Catching the "
            "error and returning something else hides a broken page from your caller."
        )


@pytest.mark.task(2)
async def test_the_page_holds_every_part_by_name(ex, rng, wake_watch):
    names, user_id = rng.sample(PARTS, 5), rng.randrange(100, 1000)
    delays = {name: rng.uniform(0.03, 0.12) for name in names}
    loaders, loader = page(names, delay=lambda name, _: delays[name])
    expected = {name: part_for(name, user_id) for name in names}

    # Its own timers are judged by what they do as each part loads (kata.testing.own_timers): a red
    # team's `async with asyncio.timeout(10):` around the group passed every test of load_page.
    fix = "Wait in the TaskGroup: leaving its `async with` block waits for every part, however long."
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "load_page", loader) as timers:
            result = await timers.awaited(
                asyncio.create_task(ex.load_page(loaders, user_id)), expected, fix=fix
            )

    assert_same(result, expected, "load_page's result")


@pytest.mark.task(2)
async def test_a_part_that_loads_as_something_false_is_still_on_the_page(ex, rng):
    # Every value here is false in an `if`, and each is what its loader returned.
    falsy = [None, 0, "", [], {}, False]
    names, user_id = rng.sample(PARTS, len(falsy) + 1), rng.randrange(100, 1000)
    values = dict(zip(names, [*falsy, part_for(names[-1], user_id)], strict=True))
    loader = FakeService("loader", delay=FAST, reply=lambda name, _: values[name])
    loaders = {name: (lambda user_id, name=name: loader(name, user_id)) for name in names}

    result = await ex.load_page(loaders, user_id)

    missing = [name for name in names if type(result) is dict and name not in result]
    if missing:
        raise AssertionError(
            "load_page left out "
            + ", ".join(f"{name!r} (its loader returned {values[name]!r})" for name in missing)
            + ". The page maps each name to what its loader returned, whatever that is: an empty "
            "list or None is a part too. A test such as `if task.result():` drops them; keep "
            "every part."
        )
    assert_same(result, values, "load_page's result")


@pytest.mark.task(2)
async def test_a_second_call_loads_every_part_afresh(ex, rng):
    # The same parts for the same user twice, with loaders whose answers have changed by the second
    # call: nothing is kept from one call to the next.
    names, user_id = rng.sample(PARTS, 4), rng.randrange(100, 1000)
    for round_number in (1, 2):
        loader = FakeService(
            "loader", delay=FAST, reply=lambda name, uid, n=round_number: {**part_for(name, uid), "round": n}
        )
        loaders = {name: (lambda user_id, name=name, loader=loader: loader(name, user_id)) for name in names}

        result = await ex.load_page(loaders, user_id)

        if round_number == 2 and len(loader.calls) < len(names):
            loaded = sorted(call.args[0] for call in loader.calls)
            calls = f"called only the loaders of {loaded}" if loaded else "called none of the loaders"
            raise AssertionError(
                f"load_page was called a second time, with the parts {names} for user {user_id} again, "
                f"and loaders whose answers have changed since the first call: it {calls}, and returned "
                f"{describe(result)}. Keep nothing from one call to the next (no dict of pages or parts "
                "in a variable outside the function): every call runs every loader it is given."
            )
        assert_same(
            result,
            {name: {**part_for(name, user_id), "round": round_number} for name in names},
            f"call {round_number} of load_page, for user {user_id}",
        )


@pytest.mark.task(2)
async def test_no_parts_give_an_empty_page(ex, rng):
    user_id = rng.randrange(100, 1000)

    try:
        result = await ex.load_page({}, user_id)
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(
            f"load_page({{}}, {user_id}) raised {error!r}: a page with no parts is an empty page, and "
            "load_page should return an empty dict, {}. (`asyncio.wait` raises ValueError when given "
            "no tasks; a TaskGroup with no tasks simply ends.)"
        ) from None

    assert_same(result, {}, f"load_page({{}}, {user_id}), a page with no parts")


@pytest.mark.parametrize("size", ["two_parts", "five_parts"])
@pytest.mark.task(2)
async def test_every_part_loads_at_the_same_time(ex, rng, size):
    names, user_id = rng.sample(PARTS, 2 if size == "two_parts" else 5), rng.randrange(100, 1000)
    loaders, loader = page(names, delay=DELAY)

    with stopwatch() as run:
        await ex.load_page(loaders, user_id)

    assert_ran_together(loader, run.elapsed, expected_calls=len(names))


@pytest.mark.task(2)
async def test_a_failing_part_reaches_the_caller(ex, rng):
    broken = BrokenPage(rng)

    error = await broken.load(ex)

    if not holds(error, broken.error):
        raise AssertionError(
            f"the {broken.bad!r} loader raised {broken.error!r}; load_page should let that very "
            f"exception reach its caller (or the ExceptionGroup a TaskGroup raises, holding it), "
            f"found {describe(error)}"
        )


@pytest.mark.task(2)
async def test_a_failing_part_cancels_the_others_at_once(ex, rng):
    broken = BrokenPage(rng)

    with stopwatch() as run:
        await broken.load(ex)

    others = [call for call in broken.loader.calls if call.args[0] != broken.bad]
    finished = [call for call in others if call.outcome == "returned"]
    if finished:
        failed = [call for call in broken.loader.calls if call.args[0] == broken.bad]
        finished_too_late_to_stop(
            finished, failed, "13 load_page: the parts still loading are cancelled before they end"
        )
        raise AssertionError(
            f"the {broken.bad!r} loader failed after {FAST:.2f} s, but you let the other parts "
            f"finish ({labels(finished, 'loader')}) and raised after {run.elapsed:.2f} s. Once "
            "one part fails the page is lost: a TaskGroup cancels the parts still loading."
        )
    if len(others) != len(broken.loaders) - 1:
        raise AssertionError(
            f"only {len(broken.loader.calls)} of the {len(broken.loaders)} loaders were called: "
            "start every part at once, before any of them fails"
        )
    if margins.over(run.elapsed, PROMPT, "13 load_page: raises < PROMPT after a part fails"):
        raise AssertionError(
            f"the {broken.bad!r} loader failed after {FAST:.2f} s, but load_page raised only "
            f"after {run.elapsed:.2f} s: let the error reach your caller as soon as it happens."
        )


@pytest.mark.task(2)
async def test_a_failing_part_stops_the_others_before_it_raises(ex, rng, hold, wake_watch):
    broken = BrokenPage(rng)
    held = HeldStop(hold, broken.loader, lead=0.0)

    async with wake_watch(ex) as wakes:
        await broken.load(ex, held)

    held.assert_waited_on_the_calls(wakes, "load_page", WAIT_FOR_THEM)


@pytest.mark.task(2)
async def test_cancelling_load_page_stops_every_loader(ex, rng, hold, wake_watch):
    names, user_id = rng.sample(PARTS, 5), rng.randrange(100, 1000)
    loaders, loader = page(names, delay=SLOW)
    held = HeldStop(hold, loader, lead=0.0)
    loading = "while its loaders were running"
    async with wake_watch(ex) as wakes:
        run = Run(ex.load_page(loaders, user_id), snapshot=lambda: running_now(loader))
        loader.on_start = lambda _call: len(loader.calls) == len(names) and run.cancel(loading)
        finished = await run.finish(SLOW + WAIT, held=hold)
    await held.release()
    stopping, untouched = await left_running(run.left or [])
    if not finished:
        await run.stop()
        await stop_calls(loader.calls)
    assert_ended_cancelled(
        run,
        "load_page",
        unreached=f"having called {len(loader.calls)} of the {len(names)} loaders: start every part at once",
        started="the loaders it started",
        left=LeftRunning.calls(stopping, untouched, "loader"),
        stop_advice=(
            "Whatever way load_page ends, a cancellation included, the loaders it started must be "
            "cancelled and have stopped. A TaskGroup does it for you: cancelled while it waits, it "
            "cancels its tasks and waits for them before the CancelledError goes on."
            if untouched
            else held.fixed_wait_words(run.ended_at, "load_page")
            + " Wait until they have stopped before load_page ends, however long they take to "
            "stop, or let a TaskGroup do it."
        ).lstrip(),
    )
    whose = f"load_page was cancelled by its caller {loading}"
    held.assert_not_waited_on(run.ended_at, "load_page", whose, wait_for=WAIT_FOR_THEM)
    held.assert_waited_on_the_calls(wakes, "load_page", WAIT_FOR_THEM, run=run)


# Task 3 ------------------------------------------------------------------------------


class Outage:
    """A fake `fetch`: the calls for the ids in `errors` all raise the same moment, FAST
    seconds after the first call (several calls failing at once, as in a real outage);
    the other calls take SLOW seconds."""

    def __init__(self, errors):
        self.errors = errors
        self.service = FakeService("fetch", delay=lambda i: 0 if i in errors else SLOW, fail=errors.get)
        self._gate = asyncio.Event()
        self._timer = None

    def fetch(self, item_id):
        coro = self._fetch(item_id)
        coro.__name__ = coro.__qualname__ = "fetch"
        return coro

    async def _fetch(self, item_id):
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FAST, self._gate.set)
        if item_id in self.errors:
            # Every failing call raises in one turn of the loop, so a TaskGroup has seen
            # all of them before it cancels the rest: the report does not depend on luck.
            await self._gate.wait()
        return await self.service(item_id)

    def ids_raising(self, kind):
        return sorted(i for i, error in self.errors.items() if type(error) is kind)


def outage(rng, ids, timeouts, not_found, other=0):
    """An Outage in which that many of `ids` raise TimeoutError, KeyError, PermissionError."""
    picked = rng.sample(ids, timeouts + not_found + other)
    errors = {i: TimeoutError(i) for i in picked[:timeouts]}
    errors |= {i: KeyError(i) for i in picked[timeouts : timeouts + not_found]}
    errors |= {i: PermissionError(i) for i in picked[timeouts + not_found :]}
    return Outage(errors)


async def run_failure_report(ex, api, ids, held=None):
    """(failure_report's result, None), or (None, the exception it raised); calls it left
    running fail the test, in the words of how it ended, and with `held` (HeldStop) so does a
    fixed wait for the calls it cancelled."""
    try:
        report = await through(held, ex.failure_report(api.fetch, ids))
    except NotImplementedError:
        raise
    except Exception as error:
        ended_at, running = clock.monotonic(), running_now(api.service)
        whose = f"failure_report raised {error!r}"
        await assert_stopped_when_it_ended(held, ended_at, running, whose, "fetch", "call", "failure_report")
        return None, error
    else:
        ended_at, running = clock.monotonic(), running_now(api.service)
        whose = "failure_report returned"
        await assert_stopped_when_it_ended(held, ended_at, running, whose, "fetch", "call", "failure_report")
        return report, None
    finally:
        if held is not None:
            await held.release()


async def report_of(ex, api, ids, held=None):
    """failure_report's result; raising the errors it should sort reads as plain words."""
    report, error = await run_failure_report(ex, api, ids, held)
    if error is None:
        return report
    ours = [leaf for leaf in leaves(error) if any(leaf is e for e in api.errors.values())]
    if not ours or len(ours) != len(leaves(error)):
        raise error
    raise AssertionError(
        f"failure_report raised {describe(error)}: the TimeoutErrors and KeyErrors are yours to "
        "catch and report. A TaskGroup wraps them in an ExceptionGroup, which `except KeyError:` "
        "never matches: catch them with `except* KeyError as errors:`."
    )


@pytest.mark.task(3)
async def test_timeouts_and_missing_ids_are_reported_apart(ex, rng):
    ids = some_ids(rng, 8)
    api = outage(rng, ids, timeouts=rng.randint(1, 3), not_found=rng.randint(1, 3))

    report = await report_of(ex, api, ids)

    expected = {"timeouts": api.ids_raising(TimeoutError), "not_found": api.ids_raising(KeyError)}
    assert_same(report, expected, "failure_report's result")


class ItemGone(KeyError):
    """A service's own kind of KeyError: a KeyError all the same, for `except* KeyError`."""


class ReadTimedOut(TimeoutError):
    """A service's own kind of TimeoutError: a TimeoutError all the same."""


@pytest.mark.task(3)
async def test_a_subclass_of_timeouterror_or_keyerror_is_reported_as_one(ex, rng):
    # A service raises its own kinds of these errors, subclasses of them (as a client library's
    # ReadTimeout is a TimeoutError). A red team's report kept `type(error) is KeyError` alone, and
    # let the others go on up as errors it does not handle.
    ids = some_ids(rng, 8)
    picked = rng.sample(ids, 4)
    errors = {
        picked[0]: TimeoutError(picked[0]),
        picked[1]: ReadTimedOut(picked[1]),
        picked[2]: KeyError(picked[2]),
        picked[3]: ItemGone(picked[3]),
    }
    api = Outage(errors)
    subclassed = " and ".join(f"fetch({i}) raised {errors[i]!r}" for i in picked[1::2])
    kinds = "errors of subclasses of TimeoutError and KeyError, so a TimeoutError and a KeyError all the same"
    expected = {
        "timeouts": sorted(i for i, error in errors.items() if isinstance(error, TimeoutError)),
        "not_found": sorted(i for i, error in errors.items() if isinstance(error, KeyError)),
    }

    report, error = await run_failure_report(ex, api, ids)

    if error is not None:
        escaped = [i for i in picked[1::2] if holds(error, errors[i])]
        if not escaped:
            raise error
        raise AssertionError(
            f"{subclassed}: {kinds} (isinstance says so, and `except*` catches them); "
            f"failure_report raised {describe(error)} instead of reporting "
            f"{' and '.join(map(str, escaped))}. An error of a subclass is of that kind too: no "
            "`type(error) is KeyError` (or a check of the class's name), let `except*` (or "
            "isinstance) sort them."
        )
    if type(report) is dict:
        reported = {i for key in expected for i in (report.get(key) or []) if isinstance(i, int)}
        lost = [i for i in picked[1::2] if i not in reported]
        if lost:
            raise AssertionError(
                f"{subclassed}: {kinds} (isinstance says so); failure_report returned "
                f"{describe(report)}, without {' and '.join(map(str, lost))}. An error of a subclass is "
                "of that kind too: no `type(error) is KeyError` (or a check of the class's name), let "
                "`except*` (or isinstance) sort them."
            )
    assert_same(report, expected, "failure_report's result")


@pytest.mark.task(3)
async def test_ids_are_sorted_by_value_not_as_text(ex, rng):
    # Each list gets a one-digit id and a larger two-digit id that sorts before it as text
    # ("12" < "7"), and three-digit ids: sorted as strings, both lists come out wrong every run.
    small, middle = rng.sample(range(5, 10), 2), rng.sample(range(10, 50), 2)
    ids = [*small, *middle, *some_ids(rng, 6)]
    rng.shuffle(ids)
    large = [i for i in ids if i >= 100]
    errors = {
        small[0]: TimeoutError(small[0]),
        middle[0]: TimeoutError(middle[0]),
        large[0]: TimeoutError(large[0]),
    }
    errors |= {small[1]: KeyError(small[1]), middle[1]: KeyError(middle[1]), large[1]: KeyError(large[1])}
    api = Outage(errors)

    report = await report_of(ex, api, ids)

    expected = {"timeouts": api.ids_raising(TimeoutError), "not_found": api.ids_raising(KeyError)}
    if type(report) is dict:
        for key, numbers in expected.items():
            if report.get(key) == sorted(numbers, key=str) != numbers:
                raise AssertionError(
                    f"failure_report's {key!r} is {report[key]}: sorted as text, where "
                    f"{sorted(numbers, key=str)[0]} comes before {numbers[0]}. The ids are numbers; "
                    f"sorted from smallest to largest they are {numbers}: sort the numbers "
                    "themselves (`sorted(ids)`), not their text."
                )
    assert_same(report, expected, "failure_report's result")


@pytest.mark.task(3)
async def test_the_calls_still_running_are_cancelled(ex, rng):
    ids = some_ids(rng, 8)
    api = outage(rng, ids, timeouts=2, not_found=1)

    with stopwatch() as run:
        await report_of(ex, api, ids)

    slow = [call for call in api.service.calls if call.args[0] not in api.errors]
    finished = [call for call in slow if call.outcome == "returned"]
    if finished:
        failed = [call for call in api.service.calls if call.args[0] in api.errors]
        finished_too_late_to_stop(
            finished, failed, "13 failure_report: the calls still running are cancelled before they end"
        )
        raise AssertionError(
            f"{len(api.errors)} calls failed after {FAST:.2f} s, but you let the other calls finish "
            f"({labels(finished, 'fetch')}) and returned after {run.elapsed:.2f} s. In a TaskGroup "
            "the first failures cancel the calls still running: report what the group raised."
        )
    late = margins.over(run.elapsed, PROMPT, "13 failure_report: reports < PROMPT after the failures")
    if late or len(api.service.calls) != len(ids):
        raise AssertionError(
            f"calls failed {FAST:.2f} s after the start, but failure_report returned after "
            f"{run.elapsed:.2f} s, having made {len(api.service.calls)} of {len(ids)} calls: start "
            "every call at once, and report as soon as the group has stopped."
        )


@pytest.mark.task(3)
async def test_the_calls_it_cancelled_have_stopped_before_it_reports(ex, rng, hold, wake_watch):
    ids = some_ids(rng, 6)
    api = outage(rng, ids, timeouts=1, not_found=1)
    held = HeldStop(hold, api.service, lead=0.0)

    async with wake_watch(ex) as wakes:
        await report_of(ex, api, ids, held)

    held.assert_waited_on_the_calls(wakes, "failure_report", WAIT_FOR_THEM)


@pytest.mark.task(3)
async def test_any_other_error_reaches_the_caller(ex, rng):
    # Two other errors, raised the same moment: each of them must reach the caller. (A red team's
    # answer raised the first of them alone, and passed while there was only one.)
    ids = some_ids(rng, 6)
    api = outage(rng, ids, timeouts=1, not_found=1, other=2)
    other_ids = api.ids_raising(PermissionError)
    others = [api.errors[i] for i in other_ids]
    raised = " and ".join(f"fetch({i}) raised {api.errors[i]!r}" for i in other_ids)

    result, error = await run_failure_report(ex, api, ids)

    if error is not None:
        lost = [i for i in other_ids if not holds(error, api.errors[i])]
        if not lost:
            return
        if len(lost) < len(others):
            raise AssertionError(
                f"{raised}, neither a timeout nor a missing id; failure_report raised "
                f"{describe(error)}, and the error of fetch({lost[0]}) never reached its caller. "
                "Every one of them must: raising only the first loses the others. Let them go on "
                "up together, in an ExceptionGroup (what `except*` does by itself with every error "
                "it does not match), not one of them alone."
            )
        raise AssertionError(
            f"{raised}, and failure_report should let them reach its caller (an ExceptionGroup "
            f"holding them is fine); found {describe(error)}"
        )
    raise AssertionError(
        f"{raised}, neither a timeout nor a missing id, so failure_report should raise them; it "
        f"returned {describe(result)} instead. `except*` lets every error it does not match go on "
        "up by itself; `except ExceptionGroup` or `except Exception` swallows them all."
    )


@pytest.mark.task(3)
async def test_an_indexerror_is_another_error_not_a_missing_id(ex, rng):
    # A red team's failure_report caught `except* LookupError`, which takes an IndexError (a
    # LookupError, as KeyError is, but not a KeyError) for a missing id: the other errors of the test
    # above are PermissionErrors (an OSError, as TimeoutError is: `except* OSError` is caught there).
    ids = some_ids(rng, 8)
    timeout, missing, other = rng.sample(ids, 3)
    errors = {timeout: TimeoutError(timeout), missing: KeyError(missing), other: IndexError(other)}
    api = Outage(errors)
    raised = f"fetch({other}) raised {errors[other]!r}"
    kin = (
        "an IndexError is a LookupError, as KeyError is, but it is not a KeyError: it is no missing id, "
        "but an error of another kind, which must reach the caller"
    )
    fix = (
        "Catch the kinds the docstring names, `except* KeyError` and `except* TimeoutError`, not a "
        "class above them (`except* LookupError`, `except* OSError`, `except* Exception`), which "
        "catches errors of other kinds too."
    )

    report, error = await run_failure_report(ex, api, ids)

    if error is not None:
        if holds(error, errors[other]):
            return
        raise error
    if type(report) is dict and any(other in (report.get(key) or []) for key in ("timeouts", "not_found")):
        raise AssertionError(
            f"{raised}: {kin}. failure_report returned {describe(report)}, which reports {other} as "
            f"one of its own. {fix}"
        )
    raise AssertionError(
        f"{raised}: {kin}; failure_report returned {describe(report)} instead of raising it (an "
        "ExceptionGroup holding it is fine). Let every error of another kind reach the caller: "
        "`except* KeyError` and `except* TimeoutError` leave the rest in the group, which is raised "
        "again; code that sorts the group by hand (`except ExceptionGroup`) must raise what is left."
    )


@pytest.mark.task(3)
async def test_a_second_call_reports_its_own_failures_alone(ex, rng):
    # The same ids twice, failing differently each time: each report holds the failures of its own
    # call, nothing kept from the one before (as a report made once, at module level or as a
    # default argument, keeps them).
    ids = some_ids(rng, 8)
    first = outage(rng, ids, timeouts=2, not_found=1)
    rest = rng.sample([i for i in ids if i not in first.errors], 3)
    second = Outage({rest[0]: TimeoutError(rest[0]), rest[1]: KeyError(rest[1]), rest[2]: KeyError(rest[2])})

    for round_number, api in ((1, first), (2, second)):
        report = await report_of(ex, api, ids)

        expected = {"timeouts": api.ids_raising(TimeoutError), "not_found": api.ids_raising(KeyError)}
        if round_number == 2 and type(report) is dict:
            reported = {i for key in expected for i in (report.get(key) or []) if isinstance(i, int)}
            stale = sorted(reported & set(first.errors) - set(second.errors))
            if stale:
                raise AssertionError(
                    "failure_report was called a second time, with the same ids, and this time the "
                    f"calls for {expected['timeouts']} timed out and those for {expected['not_found']} "
                    f"found nothing; it returned {describe(report)}, which still holds {stale}, whose "
                    "calls failed the first time only. Make the report anew on each call, "
                    "inside the function: a dict or list made at module level (or as a default "
                    "argument) is made once, and keeps every call's failures."
                )
        assert_same(report, expected, f"call {round_number} of failure_report")


@pytest.mark.parametrize("size", ["two_ids", "five_ids"])
@pytest.mark.task(3)
async def test_no_failures_give_empty_lists_and_calls_run_at_once(ex, rng, wake_watch, size):
    ids = some_ids(rng, 2 if size == "two_ids" else 5)
    fetch = FakeService("fetch", delay=DELAY, reply=item_for)
    expected = {"timeouts": [], "not_found": []}

    # Its own timers are judged by what they do while the calls run (kata.testing.own_timers): a
    # red team's group raced against a 20 s sleep passed every test of failure_report.
    fix = "Wait in the TaskGroup: leaving its `async with` block waits for every call, however long."
    async with wake_watch(ex) as wakes:
        with stopwatch() as run, OwnTimersProbe(wakes, "failure_report", fetch) as timers:
            task = asyncio.create_task(ex.failure_report(fetch, ids))
            report = await timers.awaited(task, expected, fix=fix)

    assert_same(report, expected, "failure_report's result")
    assert_ran_together(fetch, run.elapsed - timers.held_for, expected_calls=len(ids))


@pytest.mark.task(3)
async def test_no_ids_give_empty_lists(ex):
    fetch = FakeService("fetch", delay=DELAY, reply=item_for)

    try:
        report = await ex.failure_report(fetch, [])
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(
            f"failure_report(fetch, []) raised {error!r}: with no ids nothing can fail, and "
            'failure_report should return {"timeouts": [], "not_found": []}. (`asyncio.wait` raises '
            "ValueError when given no tasks; a TaskGroup with no tasks simply ends.)"
        ) from None

    assert_same(report, {"timeouts": [], "not_found": []}, "failure_report(fetch, [])")
    assert_call_count(fetch, 0, "failure_report(fetch, []) has no id to fetch")
