"""first_match collects the whole stream before looking for the match."""


async def paginate(fetch_page):
    number = 1
    while page := await fetch_page(number):
        for item in page:
            yield item
        number += 1


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    everything = [item async for item in items]
    for item in everything:
        if predicate(item):
            return item
    return None
