"""paginate stops at the first page shorter than page 1, not at the empty page."""


async def paginate(fetch_page):
    page = await fetch_page(1)
    size = len(page)
    number = 1
    while page:
        for item in page:
            yield item
        if len(page) < size:
            break
        number += 1
        page = await fetch_page(number)


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    async for item in items:
        if predicate(item):
            return item
    return None
