"""Wrong: paginate keeps every page in a module-level dict keyed by (id(fetch_page), page number), so
a second read of a listing fetches nothing and yields the old items (a red team's answer)."""
# fails only: test_each_read_of_a_listing_fetches_its_pages_again

# Task 1: an async generator that reads page after page
_pages = {}


async def paginate(fetch_page):
    """Yield every item of every page, in order, as each page arrives.

    Pages are numbered from 1: `await fetch_page(1)`, `await fetch_page(2)`, ...
    each return a list of items. The first empty list means there are no more
    pages: stop there. Fetch the next page only when the reader asks for an item
    after the last one of the current page. If fetching a page raises, let the error
    reach the reader.
    """

    async def get(number):
        key = (id(fetch_page), number)
        if key not in _pages:
            _pages[key] = await fetch_page(number)
        return _pages[key]

    number = 1
    while page := await get(number):
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
    async for item in items:
        if predicate(item):
            return item
    return None
