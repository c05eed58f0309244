"""Exercise 06: running async code from plain code

Why
---
Not every program is async from top to bottom: a command-line script, a Django or
Flask view, an old library all call plain `def` functions. A plain function cannot
`await`, and calling an `async def` function from it only makes a coroutine object;
nothing runs until an event loop runs it. `asyncio.run(coro)` does the whole job: it
creates a new event loop, runs `coro` to the end, closes the loop and returns the result.

One loop per `asyncio.run` is fine for a single job, but not for a plain-code wrapper
that makes many async calls over time. Async resources (an aiohttp session, a database
pool, an `asyncio.Lock`) belong to the loop they were first used on, and that loop is
gone after each `asyncio.run`. `asyncio.Runner` (Python 3.11+) keeps one loop open
across many `runner.run(coro)` calls, until `runner.close()`.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio

    async def slow_double(x):
        await asyncio.sleep(1)
        return x * 2

    async def double_all(xs):
        return await asyncio.gather(*(slow_double(x) for x in xs))

    def main():                                        # plain code, no await here
        print(asyncio.run(double_all([1, 2, 3])))      # [2, 4, 6] after 1 s, not 3

        runner = asyncio.Runner()                      # one loop for several calls
        print(runner.run(slow_double(5)))              # 10
        print(runner.run(double_all([6, 7])))          # [12, 14], on the same loop
        runner.close()                                 # closes that loop

    main()

The pitfall
-----------
    asyncio.run(asyncio.gather(slow_double(1), slow_double(2)))   # ValueError

`asyncio.run` and `runner.run` want a coroutine, and gather is not one: wrap it in an
`async def`, as `double_all` does. Old tutorials write
`asyncio.get_event_loop().run_until_complete(...)`: outside a running loop that is
deprecated, and depending on the Python version it warns, raises, or quietly makes a
loop that nobody closes. And inside async code, never call `asyncio.run` (a loop is
already running, so it raises RuntimeError): just `await`.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_06_run_from_sync.py`).
"""


# Task 1: run a gather from plain code
def fetch_all_sync(fetch, ids):
    """A plain function (not async): call `await fetch(id)` for every id (an id listed twice is
    fetched twice), all at the same time.

    Run the calls on one event loop, and return a list of the results in the same order as
    `ids`. When this function returns or raises, the event loop it used must be closed. If a
    call raises, the calls still running are cancelled and have ended before the error reaches
    your caller: nothing you started is left pending on the closed loop (asyncio.run sees to this).
    """
    raise NotImplementedError


# Task 2: one event loop for many calls
class SyncClient:
    """Plain, synchronous access to an async `fetch`, for code that cannot await.

    Every call made through one client runs on the same event loop, which stays open
    until `close()` is called. An error of one call is its caller's: it does not close the client.
    """

    def __init__(self, fetch):
        """Keep `fetch`, and get ready to run coroutines on one event loop of the client's own."""
        raise NotImplementedError

    def get(self, key):
        """Run `await fetch(key)` on the client's event loop and return its result (every call
        fetches again: no cache). If `fetch` raises, let that error reach the caller."""
        raise NotImplementedError

    def close(self):
        """Close the client's event loop; the client is not used after this."""
        raise NotImplementedError

    # Task 3: several calls at once, on that same loop
    def get_many(self, keys):
        """Call `await fetch(key)` for every key in `keys` (repeats included), all at the same time,
        on the client's event loop. Return a list of the results in the same order as `keys`.
        If a call raises, let its error reach the caller (a failed call has no result to list)."""
        raise NotImplementedError
