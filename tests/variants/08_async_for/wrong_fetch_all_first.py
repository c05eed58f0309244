"""paginate fetches every page into a list before yielding the first item."""


async def paginate(fetch_page):
    everything = []
    number = 1
    while page := await fetch_page(number):
        everything.extend(page)
        number += 1
    for item in everything:
        yield item


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    async for item in items:
        if predicate(item):
            return item
    return None
