"""kata.testing.sizes: one list of every size, side by side, each with a service of its own. Code
that makes its calls one after another for a chosen few sizes fails, and is told which; code that
gathers every size passes; the lists share no item, so a cache by id is never handed a hit."""

import asyncio
import random

import pytest

from kata.testing import margins
from kata.testing.fakes import FakeService
from kata.testing.sizes import (
    EVERY_SIZE,
    CallsOf,
    assert_every_limit_reached,
    assert_every_size_ran_together,
    each_held_until_all_in_flight,
    lists_for_every_bound,
    lists_of_every_size,
    spans,
)


def services():
    return {n: FakeService("fetch", delay=0.01, reply=lambda i: i) for n in EVERY_SIZE}


async def gathered(fetch, ids):
    return list(await asyncio.gather(*(fetch(i) for i in ids)))


async def sequential_for_three_to_six(fetch, ids):
    if 3 <= len(ids) <= 6:
        return [await fetch(i) for i in ids]
    return await gathered(fetch, ids)


async def run_every_size(function):
    lists = lists_of_every_size(random.Random(1), range(1000))
    fakes = services()
    with each_held_until_all_in_flight(fakes):
        results = await asyncio.gather(*(function(fakes[n], lists[n]) for n in EVERY_SIZE))
    assert results == [lists[n] for n in EVERY_SIZE]
    return fakes


async def test_code_that_gathers_every_size_passes():
    margins.clear()
    assert_every_size_ran_together("fetch_all", await run_every_size(gathered), "ids", fix="")
    assert not margins.broken


async def test_code_sequential_for_chosen_sizes_fails_on_those_sizes_as_a_failure_on_time():
    margins.clear()
    fakes = await run_every_size(sequential_for_three_to_six)
    with pytest.raises(AssertionError) as caught:
        assert_every_size_ran_together("fetch_all", fakes, "ids", fix="Gather them all.")
    message = str(caught.value)
    assert "one after another for 3 to 6 ids, and all at once for 2 and 7 to 16" in message, message
    assert message.endswith("Gather them all.")
    assert margins.broken, "a shortfall is a failure on time (a second run), as for any count"
    margins.clear()


def test_lists_of_every_size_share_no_item():
    lists = lists_of_every_size(random.Random(7), range(100, 1000))
    assert [len(items) for items in lists.values()] == list(EVERY_SIZE)
    every = [item for items in lists.values() for item in items]
    assert len(every) == len(set(every))


def test_lists_for_every_bound_hold_twice_the_bound_and_share_no_item():
    lists = lists_for_every_bound(random.Random(7), range(1000))
    assert {n: len(items) for n, items in lists.items()} == {n: 2 * n for n in EVERY_SIZE}
    every = [item for items in lists.values() for item in items]
    assert len(every) == len(set(every))


class Span:
    def __init__(self, start, end):
        self.start, self.end = start, end


def test_a_view_of_requests_counts_those_not_ended_as_still_running():
    assert CallsOf("the server", [Span(0, 1), Span(0.5, None), Span(2, 3)]).peak == 2
    assert CallsOf("the server", [Span(0, 1), Span(1.5, 2)]).peak == 1


@pytest.mark.parametrize(
    ("sizes", "said"),
    [
        ([3, 4, 5, 6], "3 to 6"),
        ([2], "2"),
        ([2, 3], "2 and 3"),
        ([2, 7, 8, 9], "2 and 7 to 9"),
        ([2, 4, 6], "2, 4 and 6"),
    ],
)
def test_sizes_are_named_in_spans(sizes, said):
    assert spans(sizes) == said


def limited_to(cut):
    """fetch_all_limited whose semaphore is `cut(limit)` rather than the limit it was given."""

    async def fetch_all_limited(fetch, ids, limit):
        semaphore = asyncio.Semaphore(cut(limit))

        async def one(i):
            async with semaphore:
                return await fetch(i)

        return list(await asyncio.gather(*(one(i) for i in ids)))

    return fetch_all_limited


async def run_every_limit(function):
    lists = lists_for_every_bound(random.Random(3), range(1000))
    fakes = services()
    with each_held_until_all_in_flight(fakes):
        results = await asyncio.gather(*(function(fakes[n], lists[n], n) for n in EVERY_SIZE))
    assert results == [lists[n] for n in EVERY_SIZE]
    return fakes


def check_every_limit(fakes):
    assert_every_limit_reached(
        "fetch_all_limited", fakes, every="limit", at=lambda n: f"a limit of {n}", items="ids", fix="Fix."
    )


async def test_code_that_keeps_every_limit_passes():
    margins.clear()
    check_every_limit(await run_every_limit(limited_to(lambda limit: limit)))
    assert not margins.broken


async def test_code_below_its_limit_for_chosen_limits_fails_on_time_naming_them():
    margins.clear()
    fakes = await run_every_limit(limited_to(lambda limit: 4 if 5 <= limit <= 9 else limit))
    with pytest.raises(AssertionError) as caught:
        check_every_limit(fakes)
    message = str(caught.value)
    assert "with a limit of 5 to 9 it never had that many calls to fetch running at once" in message, message
    assert "(a limit of 5: 4 at most;" in message, message
    assert margins.broken, "a shortfall is a failure on time (a second run)"
    margins.clear()


async def test_code_above_its_limit_fails_at_once():
    margins.clear()
    fakes = await run_every_limit(limited_to(lambda limit: limit + 1 if limit == 7 else limit))
    with pytest.raises(AssertionError) as caught:
        check_every_limit(fakes)
    assert (
        "was given a limit of 7 and 14 ids, and had 8 calls to fetch running at once: at most 7 may"
        in str(caught.value)
    )
    assert not margins.broken, "more calls than allowed is no matter of time"
