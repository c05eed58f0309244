"""Mistake: first_match reads with `anext(iterator, None)` and takes a None item for the end of the
stream: a None that does not match ends the search, and it returns None without reading the items
after it (a learner trial's answer)."""
# fails only: test_first_match_returns_a_match_that_is_false_in_an_if[zero], test_first_match_returns_a_match_that_is_false_in_an_if[empty_string]
# ruff: noqa: E501 (the line above names every test it fails)


# Task 1: an async generator that reads page after page
async def paginate(fetch_page):
    """Yield every item of every page, in order, as each page arrives.

    Pages are numbered from 1: `await fetch_page(1)`, `await fetch_page(2)`, ...
    each return a list of items. The first empty list means there are no more
    pages: stop there. Fetch the next page only when the reader asks for an item
    after the last one of the current page. If fetching a page raises, let the error
    reach the reader. If the reader is cancelled while a page loads, let the cancellation
    reach it too: do not catch `asyncio.CancelledError`.
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
    plain function that returns True or False. If reading `items` raises, or your function
    is cancelled, let that reach your caller: a list of the items read so far is not the answer.
    """
    return [item async for item in items if predicate(item)]


# Task 3: stop reading as soon as you have the answer
async def first_match(items, predicate):
    """Return the first item of the async iterable `items` for which
    `predicate(item)` is true, without reading any item after it.

    Return None when no item matches. If reading `items` raises, or your function is
    cancelled, let that reach your caller: None means the whole stream was read and no item
    matched.
    """
    iterator = aiter(items)
    while (item := await anext(iterator, None)) is not None:
        if predicate(item):
            return item
    return None
