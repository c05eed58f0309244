"""Wrong: a reader task looks for the match while first_match checks it every 5 ms, giving up
after 10 s with None: it wakes for nothing, and a slower stream's match is lost. (It gave up after
1 s once: then the long stream's test failed it too in judge mode on a loaded machine, whose every
item crosses between the processes: a second mistake, a time cap, only now and then.) It also
never reads the reader task's outcome: when the predicate raises, the task ends with that error and
first_match returns None, the error lost; so is an error of the stream. Cancelled, it leaves its
reader task running."""
# fails only: test_first_match_waits_for_each_item_without_a_clock, test_first_match_lets_an_error_of_the_predicate_reach_the_caller, test_first_match_cancelled_mid_stream_ends_cancelled, test_first_match_lets_an_error_of_the_stream_reach_the_caller
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: an async generator that reads page after page
async def paginate(fetch_page):
    """Yield every item of every page, in order, as each page arrives.

    Pages are numbered from 1: `await fetch_page(1)`, `await fetch_page(2)`, ...
    each return a list of items. The first empty list means there are no more
    pages: stop there. Fetch the next page only when the reader asks for an item
    after the last one of the current page. If fetching a page raises, let the error
    reach the reader.
    """
    number = 1
    while page := await fetch_page(number):
        for item in page:
            yield item
        number += 1


# Task 2: collect from a stream with an async comprehension
async def collect_matching(items, predicate):
    """Return a list of the items for which `predicate(item)` is true, in order.

    `items` is an async iterable (read it with `async for`); `predicate` is a
    plain function that returns True or False.
    """
    return [item async for item in items if predicate(item)]


# Task 3: stop reading as soon as you have the answer
async def first_match(items, predicate):
    """Return the first item of the async iterable `items` for which
    `predicate(item)` is true, without reading any item after it.

    Return None when no item matches.
    """
    found = []

    async def reader():
        async for item in items:
            if predicate(item):
                found.append(item)
                return

    task = asyncio.create_task(reader())
    for _ in range(2000):
        if task.done():
            break
        await asyncio.sleep(0.005)
    else:
        task.cancel()
    return found[0] if found else None
