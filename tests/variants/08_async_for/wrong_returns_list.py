"""paginate is an async def that returns a list of everything instead of yielding."""


async def paginate(fetch_page):
    items = []
    number = 1
    while page := await fetch_page(number):
        items += page
        number += 1
    return items


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    async for item in items:
        if predicate(item):
            return item
    return None
