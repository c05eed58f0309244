"""Correct: paginate names what it does in a context variable for its log records while it runs
(set at its start, reset with its token at its end), as structlog's contextvars do. Judge mode once
failed every paginate test: each item the reader asked for ran in a new context in the sandbox, so
the token was "created in a different Context" (learner trial P1)."""

import contextvars
import logging

log = logging.getLogger("stream")
scope = contextvars.ContextVar("scope", default="-")


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
    token = scope.set("listing")
    try:
        number = 1
        while page := await fetch_page(number):
            log.debug("[%s] page %d: %d items", scope.get(), number, len(page))
            for item in page:
                yield item
            number += 1
    finally:
        scope.reset(token)


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
    async for item in items:
        if predicate(item):
            return item
    return None
