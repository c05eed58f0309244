"""paginate is a plain generator (def, no await), so async for cannot read it."""


def paginate(fetch_page):
    number = 1
    while True:
        page = fetch_page(number)
        if not page:
            break
        yield from page
        number += 1


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    async for item in items:
        if predicate(item):
            return item
    return None
