"""Exercise 15: a semaphore keeps exactly `limit` calls in flight: never more, and no fewer."""

import asyncio
import math
from collections import Counter
from urllib.parse import urlsplit

import pytest

from kata.testing import (
    Call,
    FakeService,
    assert_peak_in_flight,
    assert_ran_together,
    assert_same,
    clock,
    describe,
    draw_timeline,
    holds,
    margins,
    stopwatch,
)
from kata.testing.cancelling import (
    STOPPING,
    WAIT,
    LeftRunning,
    Run,
    assert_ended_cancelled,
    cancelled_again_advice,
    left_running,
    stop_calls,
)
from kata.testing.caps import MANY_CALLS_STALL_LIMIT, held_until_all_in_flight, more_than_any_cap
from kata.testing.letting_run import let_the_code_run
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.refill import RefillRounds, spun_said
from kata.testing.sizes import (
    EVERY_SIZE,
    assert_every_limit_reached,
    assert_every_size_ran_together,
    each_held_until_all_in_flight,
    lists_for_every_bound,
    lists_of_every_size,
)
from kata.testing.slots import longest_empty_slot, most_at_once
from kata.testing.waiting import (
    MIN_QUIET,
    assert_loop_ran,
    assert_no_thread_at_work,
    assert_slept,
    longest_quiet,
    not_watched,
)

DELAY = 0.05
# The refill test: one slow call heads every batch of `limit` ids. Batches, or a fixed
# share of the ids per slot, leave slots empty for about SLOW - FAST while calls wait.
SLOW = 0.15
FAST = 0.01
# A shared semaphore refills a slot within one turn of the loop: microseconds, about
# 30 ms on a badly loaded machine (FIELD-NOTES). Batches leave it empty for 0.14 s.
EMPTY_SLOT_LIMIT = 0.07
# The sleeping test: the first `limit` calls take LONG (random, so no poll period lines up with it)
# while as many ids wait. Nothing starts or ends meanwhile: a caller waiting on a semaphore is not
# woken at all; one that polls a counter wakes once per period. Wake-ups are counted from
# QUIET_MARGIN after the last start (a late first step, or in judge mode a reply crossing back)
# to the first end: about 0.25 s, so a poll every 0.2 s or less wakes at least once; a slower one
# has its sleep pending there, which fails too.
LONG = (0.33, 0.38)
QUIET_MARGIN = 0.08
QUIET_WOKEN = 1
# Said of a thread of the code's own at work while calls wait for a slot (waiting.assert_no_thread_at_work).
NO_THREAD_NEEDED = "Waiting for a slot needs no thread: it is the event loop's own work"
WAITED_FOR_A_SLOT = dict(
    what="whether a slot is free",
    until="a call ends",
    fix="Wait on ONE shared `asyncio.Semaphore(limit)`: `async with semaphore:` sleeps until a "
    "slot is released and wakes the moment it is.",
)
# Some hosts share their last labels (api.shop.test, cdn.shop.test): each is a host of its own,
# and code that takes the domain ("shop.test") for the host gives them one limit. Two differ only by
# a leading "www." (img.test, www.img.test): code that drops it gives them one limit too. And two
# share their first label (api.shop.test, api.news.test): code that keys by it, the same.
HOST_NAMES = ("api.shop.test", "cdn.shop.test", "img.test", "www.img.test", "feed.news.test", "api.news.test")
# Some URLs of each host name a port: "https://api.test:8443/p/3" is on the host api.test too;
# some spell the host in capitals: "https://API.TEST/p/4" is on api.test too; and some are plain
# http: "http://api.test/p/5" is on api.test too (the scheme is no part of the host).
PORTS = (443, 8080, 8443)
# Hosts written as IPv6 addresses, in brackets in a URL: "https://[2001:db8::1f]:8443/p/3". Their
# hostname is the address alone ("2001:db8::1f"), whose ':'s a host split from the URL's text at ':'
# (for the port) by hand cuts into: one host with and without a port becomes two, and two hosts one
# (two addresses of one network, as here, differ only in their last part).
IPV6_NETWORKS = ("2001:db8::", "2001:db8:4:7::", "fd00:ab::")
ERROR_KINDS = (ConnectionError, LookupError, ValueError, PermissionError)


def item_for(item_id):
    return {"id": item_id, "name": f"item-{item_id}"}


def some_ids(rng, count):
    return rng.sample(range(100, 1000), count)


def rounds_for(rng, limit):
    """How many rounds of `limit` calls the inputs make: 3, 4 or 5, never `limit` itself.

    Code that cuts the inputs into chunks of `limit` and runs every chunk at once keeps one call
    per chunk in flight: as many as there are rounds. Were that number `limit`, the mistake would
    pass; so it never is (nor is half the inputs `limit`: there are 3 rounds at least).
    """
    return rng.choice([rounds for rounds in (3, 4, 5) if rounds != limit])


def calls_waiting(calls):
    """Each call waits from the start until it starts: (since, until, its index) for the slots."""
    return [(-math.inf, call.start, n) for n, call in enumerate(calls)]


def calls_word(count):
    return "1 call" if count == 1 else f"{count} calls"


# All calls at once: nothing held any of them back. Through the fake, a semaphore made in each
# task and one that is not held around the call look the same, so the message names both.
NOTHING_HELD = (
    "A semaphore made inside each task (or for each call) limits nothing, and a slot taken only "
    "before or after the call, or only while the call or its task is created, does not hold the "
    "call while it runs."
)


def assert_no_chunk_per_call(fetch, ids, limit):
    """Not one call in flight per chunk of `limit` ids: the chunks' first ids started together."""
    if len(fetch.calls) != len(ids) or any(c.end is None for c in fetch.calls):
        return  # assert_peak_in_flight says what is missing
    if fetch.peak == limit or len(set(ids)) != len(ids):
        # The limit was kept (a late start on a busy machine can make the first calls look like
        # chunk heads), or repeated ids make the heads a guess: assert_peak_in_flight judges.
        return
    first_end = min(c.end for c in fetch.calls)
    started_first = {c.args[0] for c in fetch.calls if c.start < first_end}
    heads = ids[::limit]
    if len(heads) != limit and started_first == set(heads):
        raise AssertionError(
            f"fetch_all_limited(fetch, <{len(ids)} ids>, {limit}): {fetch.peak} calls ran at the same time, "
            f"not {limit}: one for each chunk of {limit} ids. The first id of every chunk (ids[0], "
            f"ids[{limit}], ids[{2 * limit}]...) started together, and each chunk's calls ran one after "
            f"another, so the number of chunks ({len(ids)} ids / {limit}) set how many calls ran at once. "
            f"`limit` is how many calls run at once, whatever the number of ids: ONE "
            "`asyncio.Semaphore(limit)` held around every call keeps exactly that many in flight.\n"
            f"observed:\n{draw_timeline(fetch.calls, 'fetch')}"
        )


# A semaphore that outlives a call: its limit, or its slots, are an earlier call's.
KEPT_BETWEEN_CALLS = (
    "A semaphore kept outside the function (at module level, made on the first call, or in a dict "
    "by limit or by host) outlives the call: the next call gets its limit, and calls made at the same "
    "time share its slots. Nothing is shared between calls: make the semaphore inside the function, "
    "anew on each call."
)


def assert_limit_not_kept(fetch, ids, limit, earlier):
    """Not an earlier call's limit: the peak of this call is the limit of the call before it."""
    if earlier is None or earlier == limit or fetch.peak != earlier or fetch.peak == len(ids):
        return
    if fetch.peak < limit and not margins.short_of(fetch.peak, limit, "peak in flight: the limit reached"):
        return
    raise AssertionError(
        f"fetch_all_limited(fetch, <{len(ids)} ids>, {limit}) ran {fetch.peak} calls at the same time, "
        f"not {limit}: {fetch.peak} was the limit of the call before it, fetch_all_limited(..., {earlier}). "
        f"{KEPT_BETWEEN_CALLS}\nobserved:\n{draw_timeline(fetch.calls, 'fetch')}"
    )


def assert_limit_kept(fetch, ids, limit, earlier=None):
    """Exactly `limit` calls in flight at the peak, said with the call that was made (and, when a
    call with another limit came just before, `earlier` is its limit)."""
    assert_no_chunk_per_call(fetch, ids, limit)
    assert_limit_not_kept(fetch, ids, limit, earlier)
    try:
        assert_peak_in_flight(fetch, limit, expected_calls=len(ids))
    except AssertionError as error:
        call = f"fetch_all_limited(fetch, <{len(ids)} ids>, {limit})"
        if fetch.peak == len(ids) > limit:
            raise AssertionError(
                f"{call}: all {len(ids)} calls to fetch ran at the same time; at most {limit} may. Nothing "
                "held any of them back: each `await fetch(item_id)` must run inside `async with semaphore:`, "
                f"with ONE semaphore shared by every call. {NOTHING_HELD}\n"
                f"observed:\n{draw_timeline(fetch.calls, 'fetch')}"
            ) from None
        if limit < fetch.peak < len(ids):
            raise AssertionError(
                f"{call}: {fetch.peak} calls ran at the same time, more than the {limit} allowed but "
                f"fewer than all {len(ids)}: is your semaphore made from the `limit` you were given, "
                f"`asyncio.Semaphore(limit)`?\nobserved:\n{draw_timeline(fetch.calls, 'fetch')}"
            ) from None
        raise AssertionError(f"{call}: {error}") from None


@pytest.mark.task(1)
async def test_results_come_back_in_the_order_of_the_ids(ex, rng):
    limit = rng.randint(2, 4)
    ids = some_ids(rng, limit * 3)
    # Later ids answer sooner, so finishing order is not the asking order.
    delays = {item_id: 0.01 + 0.005 * (len(ids) - n) for n, item_id in enumerate(ids)}
    fetch = FakeService("fetch", delay=delays.__getitem__, reply=item_for)

    result = await ex.fetch_all_limited(fetch, ids, limit)

    assert_same(result, [item_for(i) for i in ids], "fetch_all_limited's result")


@pytest.mark.task(1)
async def test_exactly_limit_calls_run_at_once(ex, rng):
    # Two different limits, so a number written into the code cannot pass both.
    earlier = None
    for limit in rng.sample((2, 3, 4), 2):
        ids = some_ids(rng, limit * rounds_for(rng, limit))
        fetch = FakeService("fetch", delay=DELAY, reply=item_for)

        await ex.fetch_all_limited(fetch, ids, limit)

        assert_limit_kept(fetch, ids, limit, earlier)
        earlier = limit


# The tests of two calls under the limit: each takes this long; together, both end by then.
TWO_CALLS = 0.15


@pytest.mark.task(1)
async def test_two_ids_run_at_the_same_time_under_a_limit_of_two_or_more(ex, rng):
    # The fewest calls that can run together: code that awaits a few ids one after another (and
    # takes the semaphore only for more of them) is caught here, whatever its threshold (learner
    # trial AA: one after another for two ids or fewer passed every test of 6 ids and more).
    limit = rng.randint(2, 4)
    ids = some_ids(rng, 2)
    fetch = FakeService("fetch", delay=TWO_CALLS, reply=item_for)
    with stopwatch() as run:
        result = await ex.fetch_all_limited(fetch, ids, limit)

    assert_same(result, [item_for(i) for i in ids], f"fetch_all_limited(fetch, {ids}, {limit})")
    try:
        assert_ran_together(fetch, run.elapsed, expected_calls=2)
    except AssertionError as error:
        raise AssertionError(
            f"fetch_all_limited(fetch, {ids}, {limit}): {error}\nA limit of {limit} lets both run at "
            "once, however few ids there are: take the semaphore around every call, and start them all."
        ) from None


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(1)
async def test_a_list_of_any_size_within_its_limit_has_all_its_calls_run_at_the_same_time(ex, rng):
    # Every size from two up, side by side, each with a fetch of its own and a limit of its size:
    # code can choose to make its calls one after another for sizes no other test draws (a red
    # team's, in 02); a limit of n lets n calls run at once.
    lists = lists_of_every_size(rng, range(100, 1000))
    services = {n: FakeService("fetch", delay=DELAY, reply=item_for) for n in EVERY_SIZE}

    with each_held_until_all_in_flight(services):
        results = await asyncio.gather(*(ex.fetch_all_limited(services[n], lists[n], n) for n in EVERY_SIZE))

    fix = (
        "A limit as large as the list lets every call run at once: start them all, each under the semaphore."
    )
    assert_every_size_ran_together("fetch_all_limited", services, "ids", fix=fix)
    for n, result in zip(EVERY_SIZE, results, strict=True):
        assert_same(
            result, [item_for(i) for i in lists[n]], f"fetch_all_limited's result for {n} ids, limit {n}"
        )


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(1)
async def test_every_limit_has_that_many_calls_run_at_once(ex, rng):
    # Every limit from 2 to 16, side by side, each with twice as many ids and a fetch of its own:
    # code can choose to run fewer calls than its limit for the limits no other test gives it (2 to
    # 4, 12 to 20), as it can choose to run a list one call at a time for some sizes. Each list's
    # calls are held until `limit` of them run at once (1 s at most), however slowly a busy machine
    # starts them.
    lists = lists_for_every_bound(rng, range(100, 1000))
    services = {limit: FakeService("fetch", delay=DELAY, reply=item_for) for limit in EVERY_SIZE}

    with each_held_until_all_in_flight(services):
        results = await asyncio.gather(
            *(ex.fetch_all_limited(services[limit], lists[limit], limit) for limit in EVERY_SIZE)
        )

    assert_every_limit_reached(
        "fetch_all_limited",
        services,
        every="limit",
        at=lambda limits: f"a limit of {limits}",
        items="ids",
        fix=(
            "Keep `limit` calls running while ids wait, whatever the limit: ONE "
            "`asyncio.Semaphore(limit)`, made from the limit you were given, held around each call."
        ),
    )
    for limit, result in zip(EVERY_SIZE, results, strict=True):
        assert_same(
            result,
            [item_for(i) for i in lists[limit]],
            f"fetch_all_limited's result for {2 * limit} ids, limit {limit}",
        )


@pytest.mark.task(1)
async def test_each_call_keeps_its_own_limit_after_a_call_with_another(ex, rng):
    # One call with a larger limit, then one with a smaller, then one with a larger again: a
    # semaphore kept from the call before runs too many calls once and too few once.
    low, high = sorted(rng.sample((2, 3, 4), 2))
    earlier = None
    for limit in (high, low, high):
        ids = some_ids(rng, limit * rounds_for(rng, limit))
        fetch = FakeService("fetch", delay=DELAY, reply=item_for)

        result = await ex.fetch_all_limited(fetch, ids, limit)

        assert_limit_kept(fetch, ids, limit, earlier)
        assert_same(
            result, [item_for(i) for i in ids], f"fetch_all_limited(fetch, <{len(ids)} ids>, {limit})"
        )
        earlier = limit


@pytest.mark.task(1)
async def test_two_calls_at_the_same_time_each_run_limit_calls(ex, rng):
    limit = rng.randint(2, 4)
    rounds = rounds_for(rng, limit)
    both = some_ids(rng, 2 * limit * rounds)
    jobs = [both[: limit * rounds], both[limit * rounds :]]
    fetches = [FakeService("fetch", delay=DELAY, reply=item_for) for _ in jobs]

    results = await asyncio.gather(
        *(ex.fetch_all_limited(f, ids, limit) for f, ids in zip(fetches, jobs, strict=True))
    )

    for ids, result in zip(jobs, results, strict=True):
        assert_same(
            result, [item_for(i) for i in ids], f"fetch_all_limited(fetch, <{len(ids)} ids>, {limit})"
        )
    together = most_at_once([call for fetch in fetches for call in fetch.calls])
    if margins.short_of(together, 2 * limit, "15 fetch_all_limited: two calls at once, each its own limit"):
        picture = draw_timeline(
            [
                Call((Bare(f"call {n + 1}: {c.args[0]}"),), c.start, c.end, c.outcome)
                for n, f in enumerate(fetches)
                for c in f.calls
            ],
            "fetch",
        )
        raise AssertionError(
            f"two calls to fetch_all_limited(fetch, <{limit * rounds} ids>, {limit}) ran at the same time, "
            f"and at most {together} calls to fetch ran at once over both of them, though each call may run "
            f"{limit}: {2 * limit} together. The two calls shared their slots. {KEPT_BETWEEN_CALLS}"
            f"\nobserved:\n{picture}"
        )
    for fetch, ids in zip(fetches, jobs, strict=True):
        assert_limit_kept(fetch, ids, limit)


class FailsLast:
    """A fake `fetch(id)` that raises `error` for the id `broken`, once every other call has ended:
    when the error comes, nothing else is running (what the calls left behind is not this test's
    business; that the error reaches the caller is)."""

    def __init__(self, ids, broken, error):
        self.others = len(ids) - 1
        self.broken, self.error = broken, error
        self.service = FakeService("fetch", delay=DELAY, reply=item_for)

    async def fetch(self, item_id):
        value = await self.service(item_id)
        if item_id != self.broken:
            return value
        ended = [c for c in self.service.calls if c.end is not None and c.args[0] != self.broken]
        for _ in range(200):  # at most 1 s, for code that never makes the other calls
            if len(ended) >= self.others:
                break
            await asyncio.sleep(0.005)
            ended = [c for c in self.service.calls if c.end is not None and c.args[0] != self.broken]
        raise self.error


@pytest.mark.task(1)
async def test_an_error_of_fetch_reaches_the_caller(ex, rng):
    limit = rng.randint(2, 4)
    ids = some_ids(rng, limit * rounds_for(rng, limit))
    broken = rng.choice(ids)
    error = ERROR_KINDS[broken % len(ERROR_KINDS)](f"item {broken} is gone")
    fails = FailsLast(ids, broken, error)

    try:
        result = await ex.fetch_all_limited(fails.fetch, ids, limit)
    except Exception as raised:
        if holds(raised, error):
            return
        raise
    inside = isinstance(result, list) and any(value is error for value in result)
    raise AssertionError(
        f"fetch({broken}) raised {error!r}, and fetch_all_limited returned {describe(result)}: the error "
        + (
            "became part of the result, and the caller, who asked for items, gets an exception object "
            "where an item should be. "
            if inside
            else "was lost. "
        )
        + "An error of fetch must reach the caller of fetch_all_limited: "
        "leave out `return_exceptions=True` (and any `except` around the call), so that the error "
        "goes on."
    )


# Calls left running after an error go on by themselves: they have all been made once none has been
# running, and none started, for SETTLED s (in judge mode each crosses from the other process).
SETTLED = 0.3


async def calls_settled(fetch, longest):
    """Wait until every call made has ended and no new one started for SETTLED s, at most `longest` s."""
    deadline = clock.monotonic() + longest
    while clock.monotonic() < deadline:
        made = len(fetch.calls)
        await let_the_code_run(SETTLED)
        if len(fetch.calls) == made and all(call.end is not None for call in fetch.calls):
            return


@pytest.mark.task(1)
async def test_a_failed_call_gives_back_its_slot_once_and_the_limit_still_holds(ex, rng, leftovers):
    # A call of the first round fails while more than `limit` ids still wait. Whether the calls
    # still waiting are then made (by tasks the error left running) or not, at most `limit` of them
    # run at once: a slot given back twice for one failed call (in an `except` and again in
    # `finally:`) lets one more call in after every error. That the error reaches the caller is
    # test_an_error_of_fetch_reaches_the_caller's business, and a limit broken before the error
    # other tests'.
    limit = rng.randint(2, 4)
    ids = some_ids(rng, limit * rounds_for(rng, limit))
    broken = rng.choice(ids[:limit])
    error = LookupError(f"item {broken} is gone")
    fetch = FakeService(
        "fetch", delay=DELAY, reply=item_for, fail=lambda item_id: error if item_id == broken else None
    )

    before = leftovers.mark()
    try:
        await ex.fetch_all_limited(fetch, ids, limit)
    except Exception as raised:
        if not holds(raised, error):
            raise
    await calls_settled(fetch, len(ids) * DELAY + 1.0)
    await leftovers.stop(before)  # tasks the error left running (none by now, but on a busy machine)

    failed = next((call for call in fetch.calls if call.args[0] == broken and call.end is not None), None)
    if any(call.end is None for call in fetch.calls):
        return  # calls still running long after: not this test's business
    if failed is None or most_at_once([call for call in fetch.calls if call.start < failed.end]) > limit:
        return  # fetch(broken) never failed, or the limit was broken before it did: other tests say so
    if fetch.peak > limit:
        raise AssertionError(
            f"fetch_all_limited(fetch, <{len(ids)} ids>, {limit}): fetch({broken}) raised {error!r} while "
            f"{len(ids) - limit} ids still waited, and then {fetch.peak} calls ran at the same time; at most "
            f"{limit} may. A call that fails gives its slot back once, as any other does: releasing the "
            "semaphore in an `except` block and again in `finally:` (or after the `try`) frees two slots "
            "for one, so one more call runs at once after every error. Hold the slot with `async with "
            "semaphore:`, which gives it back exactly once however the call ends."
            f"\nobserved:\n{draw_timeline(fetch.calls, 'fetch')}"
        )


@pytest.mark.task(1)
async def test_a_repeated_id_is_fetched_each_time_it_appears(ex, rng):
    limit = rng.randint(2, 4)
    ids = some_ids(rng, limit * rounds_for(rng, limit) - 2)
    # Two ids appear twice, each time at a random place: fetch may answer differently each time
    # (a price, a stock count), so every id in `ids` is a call.
    for again in rng.sample(ids, 2):
        ids.insert(rng.randint(0, len(ids)), again)
    # Each answer is numbered: an id asked twice answers differently each time.
    answers = AnswerLog(item_for)
    fetch = FakeService("fetch", delay=DELAY, reply=answers.reply)

    result = await ex.fetch_all_limited(fetch, ids, limit)

    asked = Counter(call.args[0] for call in fetch.calls)
    wanted = Counter(ids)
    fewer = [i for i in wanted if asked[i] < wanted[i]]
    if fewer:
        raise AssertionError(
            f"id {fewer[0]} appears {wanted[fewer[0]]} times in ids, and fetch_all_limited called "
            f"fetch({fewer[0]}) {asked[fewer[0]]} time(s). The docstring asks for `await fetch(id)` for "
            "every id in `ids`, each time it appears: fetch may answer differently each time, and the caller "
            "decides what to ask for. Make one call per entry of `ids`, repeated ones too."
        )
    answers.assert_each_answer_in_its_place(result, ids, "fetch_all_limited", "id")
    assert_limit_kept(fetch, ids, limit)


class AnswerLog:
    """A fake's reply that numbers every answer (`{..., "answer": 3}`) and notes which key got it:
    a key asked twice gets two different answers, and each must have a place of its own in the result."""

    def __init__(self, make):
        self.make = make
        self.given = {}  # key -> the answers it got, in the order they were given

    def reply(self, key):
        answer = {**self.make(key), "answer": sum(map(len, self.given.values())) + 1}
        self.given.setdefault(key, []).append(answer)
        return answer

    def assert_each_answer_in_its_place(self, result, keys, function, what):
        """Each key's places in `result` hold the answers its calls got, each once (two calls for
        one key may end in either order, so which of its places gets which is not judged)."""
        if not isinstance(result, list) or len(result) != len(keys):
            assert_same(result, [self.given.get(k, ["?"])[0] for k in keys], f"{function}'s result")
            return
        for key in dict.fromkeys(keys):
            placed = [result[n] for n, k in enumerate(keys) if k == key]
            got = self.given.get(key, [])
            if sorted(map(repr, placed)) == sorted(map(repr, got)):
                continue
            if len(got) > 1 and len({repr(p) for p in placed}) < len(placed):
                raise AssertionError(
                    f"{what} {key!r} appears {len(placed)} times, fetch answered it differently each "
                    f"time ({', '.join(map(describe, got))}), and {function} put {describe(placed[0])} "
                    "in each of its places: the results were kept by "
                    f"{what} (a dict keyed by it), so the last answer overwrote the others. Keep each "
                    "call's result in the place of its own entry: `asyncio.gather(...)` returns them "
                    f"in the order of the {what}s, one per entry; or store them by index, not by {what}."
                )
            assert_same(placed, got, f"{function}'s results for the {len(placed)} places of {what} {key!r}")


@pytest.mark.task(1)
async def test_a_finished_call_makes_room_for_the_next_one_at_once(ex, rng):
    limit = rng.randint(2, 4)
    ids = some_ids(rng, limit * rounds_for(rng, limit))
    slow = set(ids[::limit])
    fetch = FakeService("fetch", delay=lambda i: SLOW if i in slow else FAST, reply=item_for)

    await ex.fetch_all_limited(fetch, ids, limit)

    assert_limit_kept(fetch, ids, limit)
    slot = longest_empty_slot(fetch.calls, calls_waiting(fetch.calls), limit)
    empty, waiting = slot.seconds, len(slot.waiting)
    if margins.over(empty, EMPTY_SLOT_LIMIT, "15 fetch_all_limited: a slot stands empty < EMPTY_SLOT_LIMIT"):
        raise AssertionError(
            f"a slot stood empty for {empty:.2f} s while {waiting} calls were still waiting to start: "
            "when a call finishes, the next one should start right away. Batches of "
            f"{limit} (or a fixed share of the ids for each slot) wait for their slowest call, and a "
            "wait of your own after a call, inside the semaphore's block, keeps its slot; one shared "
            "semaphore held around the call alone lets the next call in the moment any slot is free.\n"
            f"observed:\n{draw_timeline(fetch.calls, 'fetch')}"
        )


# The refill test with calls that end together: the fake holds each round of `limit` calls until
# all of them are in flight, then lets them end at one moment. A semaphore (or any code that starts
# one call for each call that ended) fills every slot again within a few turns of the loop; code
# that starts one call per wake-up starts one, and no more calls end to wake it: the round never
# fills. REFILL_WAIT is how long a round may take to fill: correct code takes milliseconds. As a
# round ends, the timers the code then has pending are held back until the next round has filled:
# a slot is free the moment its call ends, and code that keeps it a while longer (a sleep after the
# call, inside `async with semaphore:`: a learner trial's, 20 ms, within EMPTY_SLOT_LIMIT) never
# lets the next call in while its timer is held. Code that refills waits on none of its timers.
REFILL_WAIT = 0.2
ROUNDS_ENDING_TOGETHER = 12


class EndTogether:
    """A fake `fetch(id)` whose calls end in rounds (kata.testing.refill): each waits until `limit`
    calls are in flight, and then they all end at the same moment; until the next round has come,
    the code's own timers are held back. A round that does not fill within REFILL_WAIT ends anyway,
    and from then on calls end at once (`rounds.short` says what was seen)."""

    def __init__(self, ids, limit, wakes):
        self.rounds = RefillRounds(wakes, limit, len(ids), REFILL_WAIT)
        self.calls = []
        self.named = {}  # the test's task of the learner's call: the function it runs

    async def awaited(self, call, function):
        """The learner's `call` (of `function`), run in a task the wake watch sees wake up."""
        task = asyncio.create_task(call)
        self.named[task] = function
        return await task

    async def fetch(self, item_id):
        call = Call((item_id,), clock.perf_counter())
        self.calls.append(call)
        try:
            await self.rounds.through()
            await asyncio.sleep(0)
            call.outcome = "returned"
            return item_for(item_id)
        except BaseException:
            call.outcome = "cancelled"
            raise
        finally:
            call.end = clock.perf_counter()


@pytest.mark.task(1)
async def test_calls_that_end_together_each_make_room_for_a_next_one(ex, rng, wake_watch):
    limit = rng.randint(2, 4)
    # Many rounds: in judge mode the ends of one round may reach the code one at a time (then
    # starting one call per wake-up refills them all); they come together in some round.
    ids = some_ids(rng, limit * ROUNDS_ENDING_TOGETHER)

    async with wake_watch(ex) as wakes:
        fake = EndTogether(ids, limit, wakes)
        try:
            result = await fake.awaited(ex.fetch_all_limited(fake.fetch, ids, limit), "fetch_all_limited")
        finally:
            await fake.rounds.settle()

    assert_same(result, [item_for(i) for i in ids], "fetch_all_limited's result")
    assert_each_ended_call_made_room(fake, "fetch_all_limited", f"<{len(ids)} ids>, {limit}", limit, "ids")


def assert_each_ended_call_made_room(fake, function, args, limit, what, host=""):
    """What `fake` (EndTogether) saw: every round refilled, or why not (`what` waited: ids, urls;
    `host`: the one host the calls went to, for fetch_per_host)."""
    rounds = fake.rounds
    short = rounds.fell_short(
        f"15 {function}: a round of calls refilled < REFILL_WAIT",
        f"15 {function}: slots refilled after calls end together",
    )
    call = f"{function}(fetch, {args})"
    if short is None:
        spin = rounds.spun(f"15 {function}: wake-ups of one task while a round refills < SPIN_WAKES")
        if spin is not None:
            raise AssertionError(
                f"{call}: as {limit} calls to fetch ended at the same moment, "
                f"{spun_said(spin, fake.named, function)}: it kept the slot after its call had ended, until "
                "the clock said so, as a sleep does. A slot is free the "
                "moment its call ends: hold the semaphore around the call alone (`async with semaphore: "
                "return await fetch(...)`), with no wait of your own inside the block after it.\n"
                f"observed:\n{draw_timeline(fake.calls, 'fetch')}"
            )
        return
    running, waiting, ended = short
    to = f" to {host}" if host else ""
    if ended == 0:
        raise AssertionError(
            f"{call}: only {calls_word(running)}{to} started while {waiting} {what} waited, though {limit} "
            f"may run at once: keep {limit} calls in flight while there are {what} waiting.\n"
            f"observed:\n{draw_timeline(fake.calls, 'fetch')}"
        )
    ended_while = (
        f"{call}: {ended} calls to fetch{to} ended at the same moment while {waiting + running} {what} "
        f"still waited, and only {calls_word(running)} started in their place"
    )
    empty = (
        f"{limit - running} of the {limit} slots stood empty for {REFILL_WAIT:.2f} s, until the test gave up"
    )
    if rounds.held_back:
        raise AssertionError(
            f"{ended_while} while this test held back {rounds.held_said}: {empty}. {function} waited "
            "on a timer of its own before the "
            "next call could start: it kept the slot after its call had ended. A slot is free the moment "
            "its call ends: hold the semaphore around the call alone (`async with semaphore: return "
            "await fetch(...)`), with no wait of your own inside the block after it.\n"
            f"observed:\n{draw_timeline(fake.calls, 'fetch')}"
        )
    raise AssertionError(
        f"{ended_while}: {empty}. Every call that ends frees a slot: start one new call for each call "
        "that ended, not one per wake-up (`asyncio.wait(..., return_when=FIRST_COMPLETED)` returns every "
        "task that has finished, often several). One shared "
        f"`asyncio.Semaphore({'per_host' if host else 'limit'})` held around every call does this for "
        "you: each slot released lets the next call in.\n"
        f"observed:\n{draw_timeline(fake.calls, 'fetch')}"
    )


@pytest.mark.task(1)
async def test_waiting_calls_sleep_until_a_slot_frees(ex, rng, wake_watch, loop_breaker):
    limit = rng.randint(2, 4)
    ids = some_ids(rng, 2 * limit)
    long = rng.uniform(*LONG)
    # The first `limit` calls to start are the long ones, whatever order the code starts them in.
    fetch = FakeService("fetch", reply=item_for)
    fetch.delay = lambda i: long if len(fetch.calls) <= limit else FAST

    async with wake_watch(ex) as wakes, loop_breaker(ex, SPUN_FOR_A_SLOT):
        with OwnTimersProbe(wakes, "fetch_all_limited", fetch) as timers:
            task = asyncio.create_task(ex.fetch_all_limited(fetch, ids, limit))
            await timers.awaited(task, fix=WAITED_FOR_A_SLOT["fix"])

    # Only how the callers waited: the result and the limit are other tests' to judge. Its timers
    # were judged by what they did as each call ended (kata.testing.own_timers), its threads here.
    since, until = longest_quiet([c.start for c in fetch.calls] + [c.end for c in fetch.calls], QUIET_MARGIN)
    until = timers.watched_until(until)
    while_ = f"while {limit} calls ran for {until - since + QUIET_MARGIN:.2f} s and {len(ids) - limit} waited"
    if until - since < MIN_QUIET:
        raise not_watched(since, until, "fetch_all_limited", while_)
    assert_slept(
        wakes.with_callbacks(untimed=True),  # a wake-up its timers made was judged by the probe
        since,
        until,
        {task: "fetch_all_limited"},
        while_,
        WAITED_FOR_A_SLOT,
        "15 fetch_all_limited: wake-ups while every slot is busy < QUIET_WOKEN",
        "fetch_all_limited",
        woken=QUIET_WOKEN,
    )
    waited = f"while {limit} calls ran and {len(ids) - limit} waited for a slot"
    assert_no_thread_at_work(wakes, since, until, waited, NO_THREAD_NEEDED, WAITED_FOR_A_SLOT["fix"])
    assert_loop_ran(wakes, since, until, "fetch_all_limited", while_)


SPUN_FOR_A_SLOT = (
    "{function} kept the event loop frozen for {seconds:.2f} s and was still going (a loop with no "
    "`await` in it, or with time.sleep): while the loop is frozen no call can end and free a slot, "
    "so this would hang forever. Wait on ONE shared `asyncio.Semaphore(limit)`: `async with "
    "semaphore:` sleeps until a slot is free."
)


async def called_with_nothing(call, awaitable, what):
    """The result of `awaitable`, a learner's function given no `what`s; a ValueError out of it
    (asyncio.wait given an empty set) is explained."""
    try:
        return await awaitable
    except ValueError as error:
        raise AssertionError(
            f"{call} raised {error!r}: with no {what}s there is nothing to wait for, and `asyncio.wait` "
            f"refuses an empty set. No {what}s means no calls and an empty list: return [] when there "
            f"are none (`if not {what.lower()}s: return []` before the wait), or gather, which gives [] "
            "for nothing to run."
        ) from error


@pytest.mark.task(1)
async def test_no_ids_means_no_calls_and_an_empty_list(ex, rng):
    fetch = FakeService("fetch", delay=DELAY, reply=item_for)

    call = "fetch_all_limited(fetch, [], limit)"
    result = await called_with_nothing(call, ex.fetch_all_limited(fetch, [], rng.randint(2, 4)), "id")

    assert_same(result, [], "fetch_all_limited(fetch, [], limit)")


# The cancel tests: the caller cancels the learner's function once as many calls as the limits allow
# have started, and each call would take CANCELLED_CALL s more: a call left running is still running
# when the function ends (a cancelled call stops at once).
CANCELLED_CALL = 0.5
LEFT_RUNNING = (
    "Whatever way {name} ends, a cancellation included, the calls to fetch it started must be "
    "cancelled and have stopped. Await them with `asyncio.gather(...)`, or start them in a TaskGroup: "
    "either cancels them when {name} is cancelled. Tasks you create yourself and await with "
    "`asyncio.wait(tasks)` (or `asyncio.as_completed`) are not cancelled with it: cancel every one in "
    "a `finally:` block, then `await asyncio.gather(*tasks, return_exceptions=True)`."
)
STILL_STOPPING = (
    "Wait until they have stopped before {name} ends: cancel every task in a `finally:` block, then "
    "`await asyncio.gather(*tasks, return_exceptions=True)`; or let gather or a TaskGroup do it."
)


# Cancelled a second time while its cleanup waits for the calls it cancelled (a caller that gives up
# twice, a timeout around a call already cancelled): a cancelled call takes STOPPING s to stop, so
# code that waits for them is surely still waiting when the second cancel lands, even in judge mode.
# gather keeps waiting for them, `asyncio.wait` does not, and either may end then: what is checked is
# that the cancel goes on, and that no call was left never cancelled.
STOPPING_AGAIN = "while the calls it had cancelled were stopping"
CANCELLED_AGAIN = cancelled_again_advice("task")


async def assert_cancel_stops_every_call(
    coro, name, services, calls, enough, moment, unreached, leftovers, again=False
):
    """Run the learner's `coro` (their function `name`), cancel it as its caller would the moment
    `enough` calls to `services` have started (`calls()` are those calls), and fail unless it ended
    cancelled with none of them still running. With `again`, each cancelled call takes STOPPING s
    to stop, and the first one cancelled cancels the function a second time: calls still stopping
    when it ends are then let off, calls never cancelled are not."""
    before = leftovers.mark()
    run = Run(coro, snapshot=lambda: [call for call in calls() if call.end is None])
    for service in services:
        service.on_start = lambda _call: len(calls()) >= enough and run.cancel(moment)
        if again:
            service.stop_delay = STOPPING
            service.on_cancel = lambda _call: run.cancel_again(STOPPING_AGAIN)
    # Code that runs fewer calls at once than it may (one at a time) gets there later.
    finished = await run.finish(enough * CANCELLED_CALL + WAIT)
    stopping, untouched = await left_running(run.left or [])
    if not finished:
        await run.stop()
    # Calls left running free their slots when the test stops them, and the ids that waited then
    # start calls of their own: stop the learner's tasks, and then every call still running.
    await leftovers.stop(before)
    await stop_calls(calls())
    if again:
        stopping = []
    stop_advice = (LEFT_RUNNING if untouched else STILL_STOPPING).format(name=name)
    assert_ended_cancelled(
        run,
        name,
        unreached=unreached,
        started="the calls to fetch it started",
        left=LeftRunning.calls(stopping, untouched, "fetch"),
        stop_advice=f"{stop_advice} {CANCELLED_AGAIN}" if again else stop_advice,
        cancel_advice=CANCELLED_AGAIN if again else "",
    )


async def cancel_fetch_all_limited(ex, rng, leftovers, again):
    limit = rng.randint(2, 4)
    ids = some_ids(rng, limit * rounds_for(rng, limit))
    fetch = FakeService("fetch", delay=CANCELLED_CALL, reply=item_for)

    await assert_cancel_stops_every_call(
        ex.fetch_all_limited(fetch, ids, limit),
        "fetch_all_limited",
        [fetch],
        lambda: fetch.calls,
        limit,
        f"while its first {limit} calls to fetch were running, with {len(ids) - limit} ids still waiting",
        f"before {limit} of its {len(ids)} calls to fetch had started (limit={limit})",
        leftovers,
        again=again,
    )


@pytest.mark.task(1)
async def test_a_cancelled_fetch_all_limited_ends_cancelled_with_no_call_left_running(ex, rng, leftovers):
    await cancel_fetch_all_limited(ex, rng, leftovers, again=False)


@pytest.mark.task(1)
async def test_fetch_all_limited_cancelled_again_while_its_calls_stop_ends_cancelled(ex, rng, leftovers):
    await cancel_fetch_all_limited(ex, rng, leftovers, again=True)


def changed_answers(make, round_number):
    """A fake's reply whose answer for the same key changes from one call of the learner's function
    to the next (`{..., "round": 2}`), as a live service's does."""
    return lambda key: {**make(key), "round": round_number}


def assert_asked_afresh(function, what, keys, service_calls, result, expected):
    """The second of two calls with the same `keys`: fail, in plain words, if it gave the first
    call's answers without asking fetch, or asked for other keys than it was given."""
    asked = Counter(call.args[0] for call in service_calls)
    stale = [
        n
        for n, key in enumerate(keys)
        if asked[key] < Counter(keys)[key]
        and isinstance(result, list)
        and len(result) == len(keys)
        and result[n] != expected[n]
    ]
    if stale:
        key = keys[stale[0]]
        calls = f"called fetch {len(service_calls)} time(s)" if service_calls else "never called fetch"
        raise AssertionError(
            f"{function} was called a second time with the same {len(keys)} {what}s, and a fetch whose "
            f"answers have changed since (for {key!r}: {describe(expected[stale[0]])}): it {calls}, and "
            f"gave {describe(result[stale[0]])} for {key!r}, the first call's answer. Keep nothing from "
            "one call to the next (no cache of results in a variable outside the function): every call "
            f"asks `fetch` afresh, once for each entry of its {what}s."
        )
    assert_same(
        sorted(asked.elements()), sorted(keys), f"the {what}s fetch was asked for, sorted, by the second call"
    )


@pytest.mark.task(1)
async def test_a_second_call_with_the_same_ids_asks_fetch_afresh(ex, rng):
    limit = rng.randint(2, 4)
    ids = some_ids(rng, limit * rounds_for(rng, limit))
    for round_number in (1, 2):
        fetch = FakeService("fetch", delay=FAST, reply=changed_answers(item_for, round_number))

        result = await ex.fetch_all_limited(fetch, ids, limit)

        expected = [{**item_for(i), "round": round_number} for i in ids]
        if round_number == 2:
            assert_asked_afresh("fetch_all_limited", "id", ids, fetch.calls, result, expected)
        assert_same(result, expected, f"call {round_number} of fetch_all_limited")


# Many ids and a large limit: a cap of the code's own on `limit` (`min(limit, 8)`) runs too few
# calls at once, and tasks made and gathered a chunk at a time (64 ids, 100...) stall at the end of
# every chunk. The first call to start is held until every other call has ended: one shared
# semaphore keeps the other slots busy with the ids still waiting meanwhile; a chunk (or batch)
# that holds it waits for it, and no other call starts. The test looks every LOOK_EVERY seconds
# from HELD_FOR on: once no call has started for STALLED seconds while ids wait, it lets the held
# call end and says so; while calls still start (a busy machine, code that is slow to refill), it
# waits on, for HELD_LONGEST seconds at most.
MANY_IDS = (130, 201)
LARGE_LIMIT = (12, 20)
HELD_FOR = 0.5
STALLED = 0.5
LOOK_EVERY = 0.1
HELD_LONGEST = 3.0


@pytest.mark.task(1)
async def test_a_large_limit_keeps_every_slot_busy_through_many_ids(ex, rng):
    limit = rng.randint(*LARGE_LIMIT)
    count = rng.randrange(*MANY_IDS)
    if -(-count // limit) == limit:
        count += limit  # never `limit` chunks of `limit` ids: one call per chunk would keep the limit
    ids = rng.sample(range(1000, 10000), count)
    everyone_else_done = asyncio.Event()
    # The first `limit` calls end only once `limit` calls are in flight together (or the test's
    # first look, HELD_FOR s in), so that the peak does not depend on how fast a busy machine
    # starts them; the rest end at once.
    first_round = asyncio.Event()
    held, stalled = [], []

    def on_start(call):
        if fetch.in_flight >= limit:
            first_round.set()

    def hold(call):
        if not held:
            held.append(call)
            return everyone_else_done
        if next(n for n, c in enumerate(fetch.calls) if c is call) < limit:
            return first_round
        return None

    def on_end(call):
        if held and call is not held[0] and sum(c.end is not None for c in fetch.calls) == len(ids) - 1:
            everyone_else_done.set()

    def look():
        if everyone_else_done.is_set():
            return
        now = clock.perf_counter()
        if not first_round.is_set():  # never `limit` calls at once: the peak check says so
            first_round.set()
            timer[0] = loop.call_later(LOOK_EVERY, look)
            return
        quiet = now - max(call.start for call in fetch.calls)
        waiting = len(ids) - len(fetch.calls)
        if waiting and margins.over(quiet, STALLED, "15 fetch_all_limited: no call starts while ids wait"):
            stalled.append((waiting, fetch.in_flight, quiet))
        elif now - began < HELD_LONGEST:
            timer[0] = loop.call_later(LOOK_EVERY, look)
            return
        everyone_else_done.set()

    fetch = FakeService("fetch", delay=FAST, reply=item_for, hold=hold, on_start=on_start, on_end=on_end)
    loop, began = asyncio.get_running_loop(), clock.perf_counter()
    timer = [loop.call_later(HELD_FOR, look)]
    try:
        result = await ex.fetch_all_limited(fetch, ids, limit)
    finally:
        timer[0].cancel()

    call = f"fetch_all_limited(fetch, <{len(ids)} ids>, {limit})"
    if len(fetch.calls) == len(ids) and fetch.peak > limit:
        raise AssertionError(
            f"{call}: {fetch.peak} calls to fetch ran at the same time; at most {limit} may. {NOTHING_HELD}"
        )
    if margins.short_of(fetch.peak, limit, "15 fetch_all_limited: a large limit reached"):
        raise AssertionError(
            f"{call}: at most {fetch.peak} calls to fetch ran at the same time, though {limit} may, "
            f"and {len(ids)} ids waited for them. `limit` is the caller's to choose, however large: "
            "make the semaphore from it as it is, `asyncio.Semaphore(limit)`, with no cap of your own "
            "(`min(limit, 8)`) on it."
        )
    if stalled:
        waiting, running, quiet = stalled[0]
        raise AssertionError(
            f"{call}: the first call to fetch ran on (the test held it), and no other call started "
            f"for {quiet:.2f} s while {waiting} ids had not started yet: only "
            f"{calls_word(running)} {'was' if running == 1 else 'were'} running, and "
            f"{limit - running} of the {limit} slots stood empty. One slow call takes one slot; the "
            "others should go on with the ids that wait. Tasks made and gathered a chunk at a time "
            "(64 ids, say), or batches of `limit`, wait for their slowest call before the next chunk "
            "starts: make one task per id, all at once, and let ONE `asyncio.Semaphore(limit)` held "
            "around each call decide when each one runs."
        )
    assert_same(result, [item_for(i) for i in ids], "fetch_all_limited's result")


# A limit above any round cap (129 to 160; kata.testing.caps): a cap of the code's own on `limit` just
# above the large-limit test's 12 to 20 (`min(limit, 32)`) is seen only above it. Every call is held
# until `limit` calls are in flight at once (or HELD_ALL s have passed), then the rest run at once.
ABOVE_ANY_CAP_EXTRA = (10, 40)  # ids beyond the limit, waiting for a slot
HELD_ALL = 1.0


def assert_no_cap_on_the_limit(service, limit, call, what):
    if margins.short_of(service.peak, limit, f"15 {what}: a limit above any cap reached"):
        raise AssertionError(
            f"{call}: at most {service.peak} calls to fetch ran at the same time, though {limit} may, "
            f"and more were waiting (this test kept each call going until {limit} were running, or "
            f"{HELD_ALL:g} s had passed). `{what}` is the caller's to choose, however large: make the "
            f"semaphore from it as it is, `asyncio.Semaphore({what})`, with no cap of your own "
            f"(`min({what}, 32)`) on it."
        )


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(1)
async def test_a_limit_above_any_cap_of_your_own_is_kept_as_given(ex, rng):
    limit = more_than_any_cap(rng)
    ids = rng.sample(range(1000, 10000), limit + rng.randint(*ABOVE_ANY_CAP_EXTRA))
    fetch = FakeService("fetch", delay=FAST, reply=item_for)

    with held_until_all_in_flight(fetch, limit, longest=HELD_ALL):
        result = await ex.fetch_all_limited(fetch, ids, limit)

    call = f"fetch_all_limited(fetch, <{len(ids)} ids>, {limit})"
    if len(fetch.calls) == len(ids) and fetch.peak > limit:
        raise AssertionError(
            f"{call}: {fetch.peak} calls to fetch ran at the same time; at most {limit} may. {NOTHING_HELD}"
        )
    assert_no_cap_on_the_limit(fetch, limit, call, "limit")
    assert_same(result, [item_for(i) for i in ids], "fetch_all_limited's result")


def page_for(url):
    return {"url": url, "title": f"page {urlsplit(url).path.rsplit('/', 1)[-1]}"}


class Bare(str):
    """A string shown without quotes in a timeline label."""

    def __repr__(self):
        return str(self)


class Hosts:
    """A fake `fetch(url)`: one FakeService per host, and a count of calls in flight over all hosts."""

    def __init__(self, names, delay=DELAY):
        self.services = {name: FakeService("fetch", delay=delay, reply=page_for) for name in names}
        self.in_flight = self.peak = 0

    async def fetch(self, url):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await self.services[urlsplit(url).hostname](url)
        finally:
            self.in_flight -= 1

    @property
    def calls(self):
        return [call for service in self.services.values() for call in service.calls]

    def picture(self):
        """Every call on one time scale, labelled by its URL without the https:// (short enough to read)."""
        shown = [
            Call((Bare(c.args[0].removeprefix("https://")),), c.start, c.end, c.outcome) for c in self.calls
        ]
        return draw_timeline(shown, "fetch")


def urls_by_host(rng, hosts, per_host):
    """Each host gets 3 to 5 rounds of `per_host` URLs (never `per_host` rounds), listed host after
    host, as a crawler finds them. `per_host` URLs of each host or more name a port, as many or more
    spell the host in capitals ("API.TEST", "Api.test"), and as many or more do neither: a host
    counted once per port, or once per spelling, then gets `per_host` calls at once twice over.
    Besides, `per_host` URLs of each host, drawn from all three kinds, name a user before the host
    ("https://user7@api.test/p/3"), one at least with a password too ("user7:secret@"), each a user
    of its own: a host taken from the netloc with the user part left in counts each of those as a
    host of its own, with no limit. And `per_host` URLs of each host, drawn from all three kinds, are
    http:// ("http://api.test/p/5"), the rest https://: a host counted once per scheme gets `per_host`
    calls at once twice over (`per_host` is 2 or more)."""
    urls = []
    for host in hosts:
        pages = rng.sample(range(1, 1000), per_host * rounds_for(rng, per_host))
        port = rng.choice(PORTS)
        # An IPv6 address keeps its small letters: spelled in capitals only now and then (a digit
        # first: capitalize() changes nothing), it failed an answer keeping the name as written in the
        # IPv6 test for some seeds only. Capitals are the host names' tests' business.
        spelled = host if ":" in host else rng.choice((host.upper(), host.capitalize(), host.title()))
        host, spelled = in_a_url(host), in_a_url(spelled)
        with_port = rng.randint(per_host, len(pages) - 2 * per_host)
        in_capitals = rng.randint(per_host, len(pages) - with_port - per_host)
        with_user = rng.sample(range(len(pages)), per_host)
        # One plain URL at least and one of the other kinds: http never takes a whole kind, so a
        # host counted once per scheme is told apart from one counted per port or per spelling.
        plain = range(with_port + in_capitals, len(pages))
        over_http = {rng.choice(plain), rng.randrange(with_port + in_capitals)}
        others = [n for n in range(len(pages)) if n not in over_http]
        over_http.update(rng.sample(others, max(0, per_host - 2)))
        for n, page in enumerate(pages):
            scheme = "http" if n in over_http else "https"
            user = ""
            if n in with_user:
                user = f"user{page}:secret@" if n == with_user[0] or rng.random() < 0.5 else f"user{page}@"
            if n < with_port:
                urls.append(f"{scheme}://{user}{host}:{port}/p/{page}")
            elif n < with_port + in_capitals:
                urls.append(f"{scheme}://{user}{spelled}/p/{page}")
            else:
                urls.append(f"{scheme}://{user}{host}/p/{page}")
    return urls


def in_a_url(host):
    """The host as a URL writes it: an IPv6 address in brackets ("[2001:db8::1]"), a name as it is."""
    return f"[{host}]" if ":" in host else host


def name_as_written(url):
    """The host of a URL as it is written: "API.TEST" in "https://API.TEST:8443/p/3"."""
    return urlsplit(url).netloc.rpartition("@")[2].partition(":")[0]


def scheme_and_host(url):
    """The host of a URL with its scheme before it: "http://api.test" for "http://API.TEST:8080/p/3"."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{in_a_url(parts.hostname)}"


# What a host may be taken to be by mistake: the name as written (capitals kept), the netloc (the
# user part and the port kept), the netloc cut at its first ":" (the user part kept: and for
# "user7:secret@api.test", the user name alone), with or without `.lower()`; and first, the hostname
# with the scheme (http and https counted apart: urls_by_host never makes http a whole kind of the
# others, so this grouping fits none of them).
HOST_MISTAKES = (
    scheme_and_host,
    name_as_written,
    lambda url: urlsplit(url).netloc,
    lambda url: urlsplit(url).netloc.split(":")[0],
    lambda url: urlsplit(url).netloc.split(":")[0].lower(),
)


def split_host(service, per_host):
    """The names ("api.test", "API.TEST", "api.test:8443", "user7@api.test", "http://api.test") a
    host's calls came under, when each of them had a limit of `per_host` of its own (as many of its
    calls at once as it had, up to `per_host`): one host was counted as several, by its spelling
    (case), its port, its user part (netloc) or its scheme."""
    for key in HOST_MISTAKES:
        groups = {}
        for call in service.calls:
            groups.setdefault(key(call.args[0]), []).append(call)
        if len(groups) > 1 and all(
            most_at_once(calls) == min(per_host, len(calls)) for calls in groups.values()
        ):
            return sorted(groups)
    return None


def counted_per_scheme(service, per_host):
    """Whether a host's calls had a limit for each scheme of their URLs (assert_host_limits says so)."""
    names = split_host(service, per_host)
    return names is not None and any("://" in name for name in names)


def assert_host_limits(hosts, urls, per_host):
    """Each host reached exactly `per_host` calls at once."""
    for name, service in hosts.services.items():
        if service.peak > per_host:
            if hosts.peak == len(urls):
                why = (
                    f"All {len(urls)} calls ran at once, none held back: each `await fetch(url)` must run "
                    "inside `async with` the semaphore of its host, one per host and shared by all that "
                    f"host's URLs. {NOTHING_HELD}"
                )
            elif hosts.peak < sum(other.peak for other in hosts.services.values()):
                # The hosts' busiest moments did not add up: they shared the slots of one limit.
                why = (
                    f"At most {hosts.peak} calls ran at once over all the hosts, and {name} took "
                    f"{service.peak} of them: one semaphore shared by every host lets one host take all "
                    "the slots. Each host needs a semaphore of its own."
                )
            elif names := split_host(service, per_host):
                how = []
                if any("://" in n for n in names):  # the scheme kept: the names are otherwise right
                    how.append(
                        "the scheme is no part of it: http://api.test and https://api.test are one host"
                    )
                else:
                    if any(":" in n.rpartition("@")[2] for n in names):
                        how.append("`netloc` also holds the port")
                    if any("@" in n for n in names):
                        how.append("`netloc` also holds the user part (`user7@`, `user7:secret@`)")
                    if any("." not in n for n in names):
                        how.append('cut at its first ":", `user7:secret@api.test` gives the user name, user7')
                    if any(n != n.lower() for n in names):
                        how.append("the name as written keeps its capitals (`hostname` lowercases it)")
                why = (
                    f"Its URLs came as {', '.join(names[:-1])} and {names[-1]}, and each of those got "
                    f"a limit of {per_host} calls of its own. They are one host, {name}: the host of a URL "
                    "is `urlsplit(url).hostname`, the name alone, without scheme, user part or port, "
                    f"in lower case (host names ignore case); {'; '.join(how)}: one host counted as "
                    f"{len(names)}."
                )
            else:
                why = (
                    f"The hosts ran side by side, {name} with {service.peak} calls at once: is each host's "
                    "semaphore made from the `per_host` you were given, `asyncio.Semaphore(per_host)`?"
                )
            raise AssertionError(
                f"{service.peak} calls to {name} ran at the same time; at most {per_host} may per host. "
                f"{why}\nobserved:\n{hosts.picture()}"
            )
        if margins.short_of(service.peak, per_host, "15 fetch_per_host: each host's limit reached"):
            raise AssertionError(
                f"at most {calls_word(service.peak)} to {name} ran at the same time, though {per_host} may: "
                f"keep {per_host} calls to each host in flight while it has URLs waiting."
                f"\nobserved:\n{hosts.picture()}"
            )


@pytest.mark.task(2)
async def test_every_url_is_fetched_each_time_it_appears_and_results_come_back_in_order(ex, rng):
    per_host = rng.randint(2, 3)
    names = rng.sample(HOST_NAMES, 3)
    urls = urls_by_host(rng, names, per_host)
    rng.shuffle(urls)
    # Two URLs appear twice, the second time at a random place: a page may change between two
    # calls, so every URL in `urls` is a call.
    for again in rng.sample(urls, 2):
        urls.insert(rng.randint(0, len(urls)), again)
    # Later URLs answer sooner, so finishing order is not the asking order.
    delays = {url: 0.01 + 0.003 * (len(urls) - n) for n, url in enumerate(urls)}
    hosts = Hosts(names, delay=delays.__getitem__)
    # Each answer is numbered: a page asked twice answers differently each time.
    answers = AnswerLog(page_for)
    for service in hosts.services.values():
        service.reply = answers.reply

    result = await ex.fetch_per_host(hosts.fetch, urls, per_host)

    asked, wanted = Counter(call.args[0] for call in hosts.calls), Counter(urls)
    fewer = [url for url in wanted if asked[url] < wanted[url]]
    if fewer:
        raise AssertionError(
            f"{fewer[0]} appears {wanted[fewer[0]]} times in urls, and fetch_per_host called "
            f"fetch({fewer[0]!r}) {asked[fewer[0]]} time(s). The docstring asks for `await fetch(url)` "
            "for every URL in `urls`, each time it appears: a page may change between two calls, and "
            "the caller decides what to ask for. Make one call per entry of `urls`, repeated ones too."
        )
    answers.assert_each_answer_in_its_place(result, urls, "fetch_per_host", "URL")


@pytest.mark.task(2)
async def test_each_host_gets_exactly_per_host_calls_at_once(ex, rng):
    per_host = rng.randint(2, 3)
    names = rng.sample(HOST_NAMES, rng.randint(2, 3))
    urls = urls_by_host(rng, names, per_host)
    hosts = Hosts(names)

    await ex.fetch_per_host(hosts.fetch, urls, per_host)

    assert_same(sorted(call.args[0] for call in hosts.calls), sorted(urls), "the URLs fetched")
    assert_host_limits(hosts, urls, per_host)


# Task 2's large-limit test, as task 1's: a cap of the code's own on `per_host` (`min(per_host, 8)`,
# or any number below the caller's) keeps fewer calls to a host in flight than it allows. Each host's
# calls are held until that host has `per_host` calls in flight together, so the peak does not depend
# on how fast a busy machine starts them; code that never gets there waits HOST_FILLED_WITHIN s, and
# then no call is held any more. Two hosts of different domains (a domain taken for the host is
# another test's business), so a cap over all the hosts together is told apart from a cap per host.
HOST_FILLED_WITHIN = 1.5


def hosts_of_two_domains(rng):
    """Two host names whose last two labels differ (not api.shop.test and cdn.shop.test)."""
    domains = {}
    for name in HOST_NAMES:
        domains.setdefault(".".join(name.split(".")[-2:]), []).append(name)
    return [rng.choice(domains[domain]) for domain in rng.sample(sorted(domains), 2)]


@pytest.mark.task(2)
async def test_a_large_per_host_keeps_that_many_calls_to_each_host_in_flight(ex, rng):
    per_host = rng.randint(*LARGE_LIMIT)
    names = hosts_of_two_domains(rng)
    urls = urls_by_host(rng, names, per_host)
    hosts = Hosts(names)
    filled = {name: asyncio.Event() for name in names}  # set once the host has per_host in flight

    def on_start(call):
        host = urlsplit(call.args[0]).hostname
        if hosts.services[host].in_flight >= per_host:
            filled[host].set()

    def hold(call):
        return filled[urlsplit(call.args[0]).hostname]

    for service in hosts.services.values():
        service.hold, service.on_start = hold, on_start

    def let_every_call_go():
        for event in filled.values():
            event.set()

    timer = asyncio.get_running_loop().call_later(HOST_FILLED_WITHIN, let_every_call_go)
    try:
        await ex.fetch_per_host(hosts.fetch, urls, per_host)
    finally:
        timer.cancel()

    call = f"fetch_per_host(fetch, <{len(urls)} urls>, {per_host})"
    for name, service in hosts.services.items():
        if service.peak > per_host or not margins.short_of(
            service.peak, per_host, "15 fetch_per_host: a large per_host reached"
        ):
            continue  # too many at once: the other tests say what
        its_urls = sum(urlsplit(url).hostname == name for url in urls)
        if hosts.peak < sum(other.peak for other in hosts.services.values()):
            raise AssertionError(
                f"{call}: at most {calls_word(hosts.peak)} ran at the same time over both hosts, and "
                f"{name}, which allows {per_host}, never had more than {service.peak} of its {its_urls} "
                "URLs in flight at once: a cap of your own over all the hosts together (a semaphore "
                "shared by every call, `asyncio.Semaphore(10)`) holds each host below its limit. Each "
                "host's semaphore, `asyncio.Semaphore(per_host)`, is the only limit: add none over them."
            )
        raise AssertionError(
            f"{call}: {name} had {its_urls} URLs, and at most {calls_word(service.peak)} to it ran at "
            f"the same time, though {per_host} may. `per_host` is the caller's to "
            "choose, however large: make each host's semaphore from it as it is, "
            "`asyncio.Semaphore(per_host)`, with no cap of your own (`min(per_host, 8)`) on it."
        )


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(2)
async def test_a_per_host_above_any_cap_of_your_own_is_kept_as_given(ex, rng):
    # As in Task 1: one host, `per_host` above any round cap, more URLs of it waiting.
    per_host = more_than_any_cap(rng)
    name = rng.choice(HOST_NAMES)
    pages = rng.sample(range(1, 10000), per_host + rng.randint(*ABOVE_ANY_CAP_EXTRA))
    urls = [f"https://{name}/p/{page}" for page in pages]
    hosts = Hosts([name], delay=FAST)
    service = hosts.services[name]

    with held_until_all_in_flight(service, per_host, longest=HELD_ALL):
        result = await ex.fetch_per_host(hosts.fetch, urls, per_host)

    call = f"fetch_per_host(fetch, <{len(urls)} urls of {name}>, {per_host})"
    if len(service.calls) == len(urls) and service.peak > per_host:
        raise AssertionError(
            f"{call}: {service.peak} calls to {name} ran at the same time; at most {per_host} may. "
            f"{NOTHING_HELD}"
        )
    assert_no_cap_on_the_limit(service, per_host, call, "per_host")
    assert_same(result, [page_for(url) for url in urls], "fetch_per_host's result")


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # its calls are made in one step of the loop
@pytest.mark.task(2)
async def test_every_per_host_has_that_many_calls_to_the_host_run_at_once(ex, rng):
    # As in Task 1: every per_host from 2 to 16, side by side, each with twice as many URLs of one
    # host and a fetch of its own; the other tests give it 2 to 5, 12 to 20 and over a hundred.
    pages = lists_for_every_bound(rng, range(1, 10000))
    names = {n: rng.choice(HOST_NAMES) for n in EVERY_SIZE}
    urls = {n: [f"https://{names[n]}/p/{page}" for page in pages[n]] for n in EVERY_SIZE}
    hosts = {n: Hosts([names[n]]) for n in EVERY_SIZE}
    services = {n: hosts[n].services[names[n]] for n in EVERY_SIZE}

    with each_held_until_all_in_flight(services):
        results = await asyncio.gather(*(ex.fetch_per_host(hosts[n].fetch, urls[n], n) for n in EVERY_SIZE))

    assert_every_limit_reached(
        "fetch_per_host",
        services,
        every="per_host",
        at=lambda per_host: f"a per_host of {per_host}",
        items="URLs of one host",
        fix=(
            "Keep `per_host` calls to a host running while its URLs wait, whatever the number: "
            "one `asyncio.Semaphore(per_host)` per host, made from the per_host you were given."
        ),
    )
    for n, result in zip(EVERY_SIZE, results, strict=True):
        assert_same(
            result,
            [page_for(url) for url in urls[n]],
            f"fetch_per_host's result for {2 * n} URLs, per_host {n}",
        )


@pytest.mark.task(2)
@pytest.mark.parametrize("hosts_of_the_two", ["one_host", "two_hosts"])
async def test_two_urls_run_at_the_same_time_under_a_per_host_of_two_or_more(ex, rng, hosts_of_the_two):
    # The fewest calls that can run together, to one host or to two: code that awaits a few URLs
    # one after another (and takes the hosts' semaphores only for more of them) is caught here,
    # whatever its threshold (learner trial AA, in fetch_all_limited: one after another for two ids
    # or fewer passed every test of larger inputs).
    per_host = rng.randint(2, 3)
    names = rng.sample(HOST_NAMES[:3], 1 if hosts_of_the_two == "one_host" else 2)
    pages = rng.sample(range(1, 1000), 2)
    urls = [f"https://{names[n % len(names)]}/p/{page}" for n, page in enumerate(pages)]
    hosts = Hosts(names, delay=TWO_CALLS)
    with stopwatch() as run:
        result = await ex.fetch_per_host(hosts.fetch, urls, per_host)

    assert_same(result, [page_for(url) for url in urls], f"fetch_per_host(fetch, {urls}, {per_host})")
    if margins.short_of(hosts.peak, 2, "15 fetch_per_host: two URLs under the limit at once"):
        where = f"both of {names[0]}" if len(names) == 1 else f"one of {names[0]}, one of {names[1]}"
        raise AssertionError(
            f"fetch_per_host(fetch, <2 URLs, {where}>, {per_host}): at most {calls_word(hosts.peak)} ran "
            f"at the same time, {run.elapsed:.2f} s in all; with per_host {per_host} both may run at "
            f"once, in about {TWO_CALLS:.2f} s. Start every call at once, however few URLs there are, each "
            f"held by its host's semaphore.\nobserved:\n{hosts.picture()}"
        )


@pytest.mark.task(2)
async def test_hosts_do_not_wait_for_each_other(ex, rng):
    # Every host, each with a limit of 4 or 5: 24 to 30 calls may run together, clearly more than a
    # cap over all the hosts that a learner might add "to be polite" (10, 16, 20).
    per_host = rng.randint(4, 5)
    names = rng.sample(HOST_NAMES, len(HOST_NAMES))
    urls = urls_by_host(rng, names, per_host)
    hosts = Hosts(names)

    await ex.fetch_per_host(hosts.fetch, urls, per_host)

    together = per_host * len(names)
    if margins.short_of(hosts.peak, together, "15 fetch_per_host: every host's limit at once"):
        shared = hosts_sharing_a_limit(hosts, per_host)
        if shared:
            names_shared, cut = shared
            raise AssertionError(
                f"at most {calls_word(hosts.peak)} ran at the same time over {len(names)} hosts, though "
                f"each host allows {per_host}: {' and '.join(names_shared)} never had more than "
                f"{per_host} calls at once between them, as if they were one host. They are two: the "
                f"host of a URL is `urlsplit(url).hostname`, all of it: {cut}."
            )
        raise AssertionError(
            f"at most {calls_word(hosts.peak)} ran at the same time over {len(names)} hosts; each host "
            f"allows {per_host}, so {together} could run together. One host's limit must not hold back the "
            "others, and nothing else may either: give each host its own semaphore, start the calls to "
            "every host at once, and add no limit of your own over all the hosts together."
        )
    assert_host_limits(hosts, urls, per_host)


# What a host name may be cut down to by mistake, and what a message says of it. HOST_NAMES holds two
# hosts that each of these makes one.
NAME_CUTS = (
    (lambda name: ".".join(name.split(".")[-2:]), "not its last labels (the domain)"),
    (
        lambda name: name.removeprefix("www."),
        '"www." included: www.img.test and img.test are two names, so two hosts',
    ),
    (lambda name: name.split(".")[0], "not its first label"),
)


def hosts_sharing_a_limit(hosts, per_host):
    """Two hosts that a cut of their names (NAME_CUTS: the domain, "www." dropped, the first label)
    makes one, and that had one limit between them: every such group of hosts never had more than
    `per_host` calls at once, and all the groups together had exactly `per_host` each (a cap over
    all the hosts falls short too, but does not add up so). The names, and what the message says of
    the cut; or None."""
    for cut, said in NAME_CUTS:
        groups = {}
        for name in hosts.services:
            groups.setdefault(cut(name), []).append(name)
        shared = [sorted(names) for names in groups.values() if len(names) > 1]
        if not shared or hosts.peak != per_host * len(groups):
            continue
        if all(
            most_at_once([call for name in names for call in hosts.services[name].calls]) <= per_host
            for names in shared
        ):
            return shared[0], said
    return None


@pytest.mark.task(2)
async def test_hosts_written_as_ipv6_addresses_each_get_their_own_limit(ex, rng):
    # Two hosts written as IPv6 addresses of one network ("https://[2001:db8::1f]:8443/p/3"), with
    # and without a port and a user part (in small letters), and a host name beside them.
    # `urlsplit(url).hostname` is the address alone, whatever else the URL holds: one limit for each
    # of the three hosts.
    per_host = rng.randint(2, 3)
    network = rng.choice(IPV6_NETWORKS)
    addresses = [f"{network}{n:x}" for n in rng.sample(range(0x10, 0x1000), 2)]
    names = [*addresses, rng.choice(HOST_NAMES)]
    rng.shuffle(names)
    urls = urls_by_host(rng, names, per_host)
    hosts = Hosts(names)

    await ex.fetch_per_host(hosts.fetch, urls, per_host)

    assert_same(sorted(call.args[0] for call in hosts.calls), sorted(urls), "the URLs fetched")
    by_hand = (
        "An IPv6 address is made of ':'s: a host split from the URL's text by hand (at '/', '@' or "
        "':', for the port) cuts into it. Take the host as the docstring says, "
        "`urllib.parse.urlsplit(url).hostname`, which knows the brackets."
    )
    for address in addresses:
        service = hosts.services[address]
        if service.peak > per_host and not counted_per_scheme(service, per_host):
            forms = sorted({urlsplit(call.args[0]).netloc for call in service.calls}, key=len)
            raise AssertionError(
                f"{service.peak} calls to the host {address} ran at the same time; at most {per_host} may "
                f"per host. Its URLs write it in brackets, as {forms[0]} and {forms[-1]} among others, "
                f"and `urlsplit(url).hostname` is {address!r} for each of them: one host, one limit, but "
                f"fetch_per_host gave them more than one. {by_hand}\nobserved:\n{hosts.picture()}"
            )
    together = most_at_once([call for address in addresses for call in hosts.services[address].calls])
    if margins.short_of(together, 2 * per_host, "15 fetch_per_host: two IPv6 hosts, a limit each"):
        if hosts.peak <= together:  # the host name's calls were held back with them: not the addresses
            raise AssertionError(
                f"at most {calls_word(hosts.peak)} ran at the same time over the hosts {', '.join(names)}, "
                f"though each may run {per_host}: {len(names) * per_host} together. One host's limit must "
                "not hold back the others: give each host its own semaphore, and add no limit of your own "
                f"over all the hosts together.\nobserved:\n{hosts.picture()}"
            )
        raise AssertionError(
            f"the hosts {addresses[0]} and {addresses[1]} never had more than {calls_word(together)} running "
            f"at the same time between them, though each may run {per_host}: {2 * per_host} together. "
            f"They are two hosts (`urlsplit(url).hostname` is {addresses[0]!r} for one, {addresses[1]!r} "
            f"for the other), and fetch_per_host gave them one limit. {by_hand}\nobserved:\n{hosts.picture()}"
        )
    assert_host_limits(hosts, urls, per_host)


@pytest.mark.task(2)
async def test_each_call_keeps_its_own_per_host_after_a_call_with_another(ex, rng):
    # The same hosts, first with a larger limit, then a smaller, then a larger again: semaphores
    # kept from the call before run too many calls to a host once, and too few once.
    low, high = sorted(rng.sample((2, 3, 4), 2))
    names = rng.sample(HOST_NAMES, 2)
    earlier = None
    for per_host in (high, low, high):
        urls = urls_by_host(rng, names, per_host)
        hosts = Hosts(names)

        await ex.fetch_per_host(hosts.fetch, urls, per_host)

        for name, service in hosts.services.items():
            if earlier is None or service.peak != earlier or service.peak == per_host:
                continue
            if service.peak < per_host and not margins.short_of(
                service.peak, per_host, "15 fetch_per_host: each host's limit reached"
            ):
                continue
            raise AssertionError(
                f"fetch_per_host(fetch, <{len(urls)} urls>, {per_host}) ran {service.peak} calls to {name} "
                f"at the same time, not {per_host}: {service.peak} was the limit of the call before it, "
                f"fetch_per_host(..., {earlier}), on the same hosts. {KEPT_BETWEEN_CALLS}"
                f"\nobserved:\n{hosts.picture()}"
            )
        assert_host_limits(hosts, urls, per_host)
        earlier = per_host


@pytest.mark.task(2)
async def test_two_calls_at_the_same_time_each_get_per_host_calls_to_a_host(ex, rng):
    per_host = rng.randint(2, 3)
    names = rng.sample(HOST_NAMES, 2)
    jobs = [urls_by_host(rng, names, per_host) for _ in range(2)]
    fakes = [Hosts(names) for _ in jobs]

    await asyncio.gather(
        *(ex.fetch_per_host(h.fetch, urls, per_host) for h, urls in zip(fakes, jobs, strict=True))
    )

    for name in names:
        together = most_at_once([call for h in fakes for call in h.services[name].calls])
        if margins.short_of(
            together, 2 * per_host, "15 fetch_per_host: two calls at once, each its own limits"
        ):
            picture = draw_timeline(
                [
                    Call(
                        (Bare(f"call {n + 1}: {c.args[0].removeprefix('https://')}"),),
                        c.start,
                        c.end,
                        c.outcome,
                    )
                    for n, h in enumerate(fakes)
                    for c in h.services[name].calls
                ],
                "fetch",
            )
            raise AssertionError(
                f"two calls to fetch_per_host(fetch, <urls>, {per_host}) ran at the same time, both with "
                f"URLs of {name}, and at most {together} calls to {name} ran at once over both of them, "
                f"though each call may run {per_host} to it: {2 * per_host} together. The two calls shared "
                f"the host's slots. {KEPT_BETWEEN_CALLS}\nobserved:\n{picture}"
            )
    for h, urls in zip(fakes, jobs, strict=True):
        assert_host_limits(h, urls, per_host)


@pytest.mark.task(2)
async def test_a_second_call_with_the_same_urls_asks_fetch_afresh(ex, rng):
    per_host = rng.randint(2, 3)
    names = rng.sample(HOST_NAMES, 2)
    urls = urls_by_host(rng, names, per_host)
    rng.shuffle(urls)
    for round_number in (1, 2):
        hosts = Hosts(names, delay=FAST)
        for service in hosts.services.values():
            service.reply = changed_answers(page_for, round_number)

        result = await ex.fetch_per_host(hosts.fetch, urls, per_host)

        expected = [{**page_for(url), "round": round_number} for url in urls]
        if round_number == 2:
            assert_asked_afresh("fetch_per_host", "URL", urls, hosts.calls, result, expected)
        assert_same(result, expected, f"call {round_number} of fetch_per_host")


@pytest.mark.task(2)
async def test_no_urls_means_no_calls_and_an_empty_list(ex, rng):
    hosts = Hosts(rng.sample(HOST_NAMES, 2))

    call = "fetch_per_host(fetch, [], per_host)"
    result = await called_with_nothing(call, ex.fetch_per_host(hosts.fetch, [], rng.randint(2, 4)), "URL")

    assert_same(result, [], "fetch_per_host(fetch, [], per_host)")
    assert_same(hosts.calls, [], "the calls fetch_per_host(fetch, [], per_host) made to fetch")


async def cancel_fetch_per_host(ex, rng, leftovers, again):
    per_host = rng.randint(2, 3)
    names = rng.sample(HOST_NAMES, 2)
    urls = urls_by_host(rng, names, per_host)
    rng.shuffle(urls)
    hosts = Hosts(names, delay=CANCELLED_CALL)
    enough = per_host * len(names)

    await assert_cancel_stops_every_call(
        ex.fetch_per_host(hosts.fetch, urls, per_host),
        "fetch_per_host",
        hosts.services.values(),
        lambda: hosts.calls,
        enough,
        f"while {enough} calls to fetch ({per_host} to each of {len(names)} hosts) were running, with "
        f"{len(urls) - enough} URLs still waiting",
        f"before {enough} of its {len(urls)} calls to fetch had started ({per_host} to each of "
        f"{len(names)} hosts)",
        leftovers,
        again=again,
    )


@pytest.mark.task(2)
async def test_a_cancelled_fetch_per_host_ends_cancelled_with_no_call_left_running(ex, rng, leftovers):
    await cancel_fetch_per_host(ex, rng, leftovers, again=False)


@pytest.mark.task(2)
async def test_fetch_per_host_cancelled_again_while_its_calls_stop_ends_cancelled(ex, rng, leftovers):
    await cancel_fetch_per_host(ex, rng, leftovers, again=True)


WAITED_FOR_A_HOST_SLOT = dict(
    what="whether its host has a slot free",
    until="a call to that host ends",
    fix="Wait on the host's own `asyncio.Semaphore(per_host)`: `async with semaphores[host]:` sleeps "
    "until a slot of that host is released and wakes the moment it is.",
)


@pytest.mark.task(2)
async def test_calls_to_a_host_that_end_together_each_make_room_for_a_next_one(ex, rng, wake_watch):
    per_host = rng.randint(2, 4)
    host = rng.choice(("api.example.com", "shop.example.org"))
    urls = [f"https://{host}/items/{i}" for i in some_ids(rng, per_host * ROUNDS_ENDING_TOGETHER)]

    async with wake_watch(ex) as wakes:
        fake = EndTogether(urls, per_host, wakes)
        try:
            result = await fake.awaited(ex.fetch_per_host(fake.fetch, urls, per_host), "fetch_per_host")
        finally:
            await fake.rounds.settle()

    assert_same(result, [item_for(u) for u in urls], "fetch_per_host's result")
    assert_each_ended_call_made_room(
        fake, "fetch_per_host", f"<{len(urls)} urls>, {per_host}", per_host, "urls", host
    )


@pytest.mark.task(2)
async def test_calls_waiting_for_their_host_sleep_until_a_slot_frees(ex, rng, wake_watch, loop_breaker):
    per_host = rng.randint(2, 3)
    names = rng.sample(HOST_NAMES, 2)
    long = rng.uniform(*LONG)
    hosts = Hosts(names)
    urls = []
    for name, service in hosts.services.items():
        urls += [f"https://{name}/p/{page}" for page in rng.sample(range(1, 100), 2 * per_host)]
        # The first `per_host` calls to each host are the long ones, whatever order they start in.
        service.delay = lambda url, service=service: long if len(service.calls) <= per_host else FAST
    rng.shuffle(urls)

    async with wake_watch(ex) as wakes, loop_breaker(ex, SPUN_FOR_A_HOST_SLOT):
        with OwnTimersProbe(wakes, "fetch_per_host", *hosts.services.values(), named="the hosts") as timers:
            task = asyncio.create_task(ex.fetch_per_host(hosts.fetch, urls, per_host))
            await timers.awaited(task, fix=WAITED_FOR_A_HOST_SLOT["fix"])

    # Only how the callers waited: the result and the limits are other tests' to judge. Its timers
    # were judged by what they did as each call ended (kata.testing.own_timers), its threads here.
    calls = hosts.calls
    since, until = longest_quiet([c.start for c in calls] + [c.end for c in calls], QUIET_MARGIN)
    until = timers.watched_until(until)
    waiting = len(urls) - per_host * len(names)
    while_ = (
        f"while each host had {per_host} calls running for {until - since + QUIET_MARGIN:.2f} s and "
        f"{waiting} calls waited for their host"
    )
    if until - since < MIN_QUIET:
        raise not_watched(since, until, "fetch_per_host", while_)
    assert_slept(
        wakes.with_callbacks(untimed=True),  # a wake-up its timers made was judged by the probe
        since,
        until,
        {task: "fetch_per_host"},
        while_,
        WAITED_FOR_A_HOST_SLOT,
        "15 fetch_per_host: wake-ups while every host's slots are busy < QUIET_WOKEN",
        "fetch_per_host",
        woken=QUIET_WOKEN,
    )
    assert_no_thread_at_work(wakes, since, until, while_, NO_THREAD_NEEDED, WAITED_FOR_A_HOST_SLOT["fix"])
    assert_loop_ran(wakes, since, until, "fetch_per_host", while_)


SPUN_FOR_A_HOST_SLOT = (
    "{function} kept the event loop frozen for {seconds:.2f} s and was still going (a loop with no "
    "`await` in it, or with time.sleep): while the loop is frozen no call can end and free a slot of "
    "its host, so this would hang forever. Wait on the host's own `asyncio.Semaphore(per_host)`: "
    "`async with semaphores[host]:` sleeps until a slot is free."
)
