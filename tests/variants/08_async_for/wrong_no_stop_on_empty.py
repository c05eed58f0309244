"""paginate never stops: it keeps asking for pages after the empty one."""


async def paginate(fetch_page):
    number = 1
    while True:
        for item in await fetch_page(number):
            yield item
        number += 1


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    async for item in items:
        if predicate(item):
            return item
    return None
