"""Wrong: first_match pulls items with `anext(items)` and never calls `aiter(items)`: that works only
when `items` is its own iterator (an async generator), and raises TypeError for any other async
iterable, which is what the docstring promises (red team 13)."""
# fails only: test_first_match_reads_an_async_iterable_that_is_not_its_own_iterator


async def paginate(fetch_page):
    number = 1
    while True:
        page = await fetch_page(number)
        if not page:
            return
        for item in page:
            yield item
        number += 1


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    while True:
        try:
            item = await anext(items)
        except StopAsyncIteration:
            return None
        if predicate(item):
            return item
