"""Exercise 15: asyncio.Semaphore, at most K calls at a time

Why
---
`gather` starts every call at once. For 5 calls that is what you want; for 5,000 it is
not: the server you call allows maybe 10 connections per client, the database pool
holds 20, the API starts answering "429 Too Many Requests". What you want is K calls
in flight: enough to be fast, few enough to be polite. An `asyncio.Semaphore(K)` is a
counter of K free slots. `async with semaphore:` takes a slot, waiting while none is
free, and gives it back when the block ends, even on an error. Start every call at
once as before; each one waits at the door until a slot frees up. 6 calls of 1 s
through a Semaphore(2) take 3 s: 2 at a time, the next one starting the moment one ends.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, time

    async def download(n, semaphore, start):
        async with semaphore:                    # wait here for a free slot
            print(f"{time.perf_counter() - start:.1f} s: start {n}")
            await asyncio.sleep(1)
        return n * 10

    async def main():
        semaphore = asyncio.Semaphore(2)         # ONE semaphore, shared by every call
        start = time.perf_counter()
        results = await asyncio.gather(*(download(n, semaphore, start) for n in range(6)))
        print(results, f"{time.perf_counter() - start:.1f} s")   # [0, 10, 20, 30, 40, 50] 3.0 s

    asyncio.run(main())

The pitfall
-----------
    async def download(n):
        async with asyncio.Semaphore(2):         # a new semaphore for every call
            await asyncio.sleep(1)

Each call gets a semaphore of its own, with 2 free slots, so all 6 run at once: it
limits nothing. Create the semaphore once, outside the calls, and share it. And hold
the slot while the call runs: the `await` belongs inside the `async with` block.
Cutting the list into batches of K and gathering one batch after another keeps at most
K running too, but every batch waits for its slowest call while the other slots stand
empty; a semaphore lets the next call in as soon as any slot is free.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_15_semaphore.py`).
"""


# Task 1: at most `limit` calls at once
async def fetch_all_limited(fetch, ids, limit):
    """Call `await fetch(id)` for every id in `ids`, with at most `limit` calls running at once.

    Keep `limit` calls running while there are ids waiting: when one call finishes, the
    next one starts right away. Return the results in the same order as `ids`. A cancel
    from the caller stops it and every call to `fetch` it started: let it through, so
    that it ends cancelled with none of its calls still running.
    """
    raise NotImplementedError


# Task 2: a limit for each host
async def fetch_per_host(fetch, urls, per_host):
    """Call `await fetch(url)` for every URL in `urls`, at most `per_host` calls to one host at once.

    Each host has its own limit: while one host has `per_host` calls running, calls to
    the other hosts go on. The host of a URL is `urllib.parse.urlsplit(url).hostname`
    ("https://api.shop.test/page/3" -> "api.shop.test"). Return the results in the same
    order as `urls`. A cancel from the caller stops it and every call to `fetch` it
    started: let it through, so that it ends cancelled with none of its calls still running.
    """
    raise NotImplementedError
