"""paginate starts fetching the next page in a task before handing out the current page's items."""

import asyncio


async def paginate(fetch_page):
    number = 1
    current = asyncio.create_task(fetch_page(number))
    try:
        while page := await current:
            number += 1
            current = asyncio.create_task(fetch_page(number))  # get the next page going early
            for item in page:
                yield item
    finally:
        if not current.done():
            current.cancel()


async def collect_matching(items, predicate):
    return [item async for item in items if predicate(item)]


async def first_match(items, predicate):
    async for item in items:
        if predicate(item):
            return item
    return None
