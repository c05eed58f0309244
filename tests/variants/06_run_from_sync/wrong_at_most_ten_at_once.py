"""Wrong: a Semaphore(10) lets at most 10 calls run at once, in both functions, though the docstrings
ask for every call "all at the same time"."""
# fails only: test_every_call_runs_at_the_same_time[many], test_get_many_runs_every_call_at_the_same_time[many], test_however_many_ids_there_are_fetch_all_sync_runs_every_call_at_once, test_however_many_keys_there_are_get_many_runs_every_call_at_once
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_at_most_ten(fetch, keys):
    """Every fetch, at most 10 at a time (a "polite" cap of its own)."""
    slots = asyncio.Semaphore(10)

    async def one(key):
        async with slots:
            return await fetch(key)

    return await asyncio.gather(*(one(key) for key in keys))


# Task 1: run a gather from plain code
def fetch_all_sync(fetch, ids):
    """A plain function (not async): call `await fetch(id)` for every id (an id listed twice is
    fetched twice), all at the same time.

    Run the calls on one event loop, and return a list of the results in the same order as `ids`;
    the event loop is closed when it returns or raises.
    """

    return asyncio.run(fetch_at_most_ten(fetch, ids))


# Task 2: one event loop for many calls
class SyncClient:
    """Plain, synchronous access to an async `fetch`, for code that cannot await.

    Every call made through one client runs on the same event loop, which stays open
    until `close()` is called.
    """

    def __init__(self, fetch):
        """Keep `fetch`, and get ready to run coroutines on one event loop of the client's own."""
        self._fetch = fetch
        self._runner = asyncio.Runner()

    def get(self, key):
        """Run `await fetch(key)` on the client's event loop and return its result (every call
        fetches again: no cache)."""
        return self._runner.run(self._fetch(key))

    def close(self):
        """Close the client's event loop; the client is not used after this."""
        self._runner.close()

    # Task 3: several calls at once, on that same loop
    def get_many(self, keys):
        """Call `await fetch(key)` for every key in `keys` (repeats included), all at the same time,
        on the client's event loop. Return a list of the results in the same order as `keys`."""

        return self._runner.run(fetch_at_most_ten(self._fetch, keys))
