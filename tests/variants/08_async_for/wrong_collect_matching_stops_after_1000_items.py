"""Wrong: a "safety" cap in collect_matching, MAX_ITEMS = 1000: it stops reading after 1000 items and
returns the matches so far, as if the stream had ended; the docstring: every matching item."""
# fails only: test_collect_matching_reads_a_long_stream_to_its_end

MAX_ITEMS = 1000


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
    found = []
    read = 0
    async for item in items:
        read += 1
        if read > MAX_ITEMS:
            break
        if predicate(item):
            found.append(item)
    return found


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
