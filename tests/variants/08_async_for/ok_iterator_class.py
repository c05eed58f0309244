"""paginate as a class with __aiter__/__anext__; loops with append and break."""


class paginate:  # a class named like the function it stands in for
    def __init__(self, fetch_page):
        self.fetch_page = fetch_page
        self.number = 0
        self.page = []
        self.done = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        while not self.page and not self.done:
            self.number += 1
            self.page = list(await self.fetch_page(self.number))
            self.done = not self.page
        if self.done:
            raise StopAsyncIteration
        return self.page.pop(0)


async def collect_matching(items, predicate):
    kept = []
    async for item in items:
        if predicate(item):
            kept.append(item)
    return kept


async def first_match(items, predicate):
    found = None
    async for item in items:
        if predicate(item):
            found = item
            break
    return found
