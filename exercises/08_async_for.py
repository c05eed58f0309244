"""Exercise 08: async for, items as they arrive

Why
---
Many answers come in pieces: pages of search results, lines of a log, rows of a
query. If a listing has 50 pages and each page takes 0.2 s, collecting all of them
before looking at any makes the reader wait 10 s for the first item; handing out
each page's items as soon as that page arrives, the first item is there after
0.2 s. And a reader who only needs the first match can stop after 2 pages,
without the other 48 ever being fetched.

An `async def` function that contains `yield` is an *async generator*: it can
`await` between items. Read one with `async for`, or collect it with an async
comprehension: `[x async for x in source]`. A plain `for` cannot read it, because
getting each next item may need to wait.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio

    async def ticks(count):
        for n in range(1, count + 1):
            await asyncio.sleep(0.5)      # waiting for the next piece
            yield n

    async def main():
        async for n in ticks(3):
            print("got", n)               # got 1, got 2, got 3: half a second apart
        print([n * 10 async for n in ticks(3)])   # [10, 20, 30] after 1.5 s

    asyncio.run(main())

The pitfall
-----------
An async generator that first builds a list of everything and only then yields
runs without error, but it is no stream: the first item waits for the last page.
Yield each item as soon as you have it. On the reading side, leave the loop
(`break` or `return`) as soon as you have what you need: items you never ask
for are never fetched.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_08_async_for.py`).
"""


# Task 1: an async generator that reads page after page
async def paginate(fetch_page):
    """Yield every item of every page, in order, as each page arrives.

    Pages are numbered from 1: `await fetch_page(1)`, `await fetch_page(2)`, ...
    each return a list of items. The first empty list means there are no more
    pages: stop there. Fetch the next page only when the reader asks for an item
    after the last one of the current page. If fetching a page raises, let the error
    reach the reader. If the reader is cancelled while a page loads, let the cancellation
    reach it too: do not catch `asyncio.CancelledError`.
    """
    raise NotImplementedError
    yield  # this `yield` makes paginate an async generator; yours needs one too


# Task 2: collect from a stream with an async comprehension
async def collect_matching(items, predicate):
    """Return a list of the items for which `predicate(item)` is true, in order.

    `items` is an async iterable (read it with `async for`); `predicate` is a
    plain function that returns True or False. If reading `items` raises, or your function
    is cancelled, let that reach your caller: a list of the items read so far is not the answer.
    """
    raise NotImplementedError


# Task 3: stop reading as soon as you have the answer
async def first_match(items, predicate):
    """Return the first item of the async iterable `items` for which
    `predicate(item)` is true, without reading any item after it.

    Return None when no item matches. If reading `items` raises, or your function is
    cancelled, let that reach your caller: None means the whole stream was read and no item
    matched.
    """
    raise NotImplementedError
