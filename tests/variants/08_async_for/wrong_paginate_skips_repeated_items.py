"""Wrong: paginate keeps a set of the items it has yielded and skips any item it has seen before: a
listing that holds the same item twice (two identical order lines, on one page or on two) loses the
repeats, though the docstring asks for every item of every page (red team rtA)."""
# fails only: test_paginate_yields_an_item_again_each_time_a_page_holds_it


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
    seen = set()
    while page := await fetch_page(number):
        for item in page:
            if item not in seen:  # a listing may repeat an item across pages
                seen.add(item)
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
    async for item in items:
        if predicate(item):
            return item
    return None
