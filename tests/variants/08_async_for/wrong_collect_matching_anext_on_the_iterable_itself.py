"""Wrong: collect_matching calls `items.__anext__()` until StopAsyncIteration, never `aiter(items)`:
that works only when `items` is its own iterator (an async generator), and fails for any other
async iterable, which is what the docstring promises."""
# fails only: test_collect_matching_reads_an_async_iterable_that_is_not_its_own_iterator


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
    found = []
    while True:
        try:
            item = await items.__anext__()
        except StopAsyncIteration:
            return found
        if predicate(item):
            found.append(item)


async def first_match(items, predicate):
    async for item in items:
        if predicate(item):
            return item
    return None
