"""collect_matching reads the async stream with a plain comprehension."""


async def paginate(fetch_page):
    number = 1
    while page := await fetch_page(number):
        for item in page:
            yield item
        number += 1


async def collect_matching(items, predicate):
    return [item for item in items if predicate(item)]


async def first_match(items, predicate):
    async for item in items:
        if predicate(item):
            return item
    return None
