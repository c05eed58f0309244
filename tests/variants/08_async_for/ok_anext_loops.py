"""paginate with while True/break; first_match pulls items with anext()."""


async def paginate(fetch_page):
    number = 0
    while True:
        number += 1
        page = await fetch_page(number)
        if len(page) == 0:
            break
        for item in page:
            yield item


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    iterator = aiter(items)
    while True:
        try:
            item = await anext(iterator)
        except StopAsyncIteration:
            return None
        if predicate(item):
            return item
