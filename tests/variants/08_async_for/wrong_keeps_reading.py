"""first_match remembers a match but keeps reading, so it returns the last match."""


async def paginate(fetch_page):
    number = 1
    while page := await fetch_page(number):
        for item in page:
            yield item
        number += 1


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    found = None
    async for item in items:
        if predicate(item):
            found = item
    return found
