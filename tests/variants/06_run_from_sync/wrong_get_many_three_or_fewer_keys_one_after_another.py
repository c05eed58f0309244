"""Wrong: client.get_many awaits the calls one after another when it has three keys or fewer, and gathers
them only from four on (as a learner trial's fetch_all_sync did with two)."""
# fails only: test_get_many_runs_every_call_at_the_same_time[two]

import asyncio


# Task 1: run a gather from plain code
def fetch_all_sync(fetch, ids):
    """A plain function (not async): call `await fetch(id)` for every id (an id listed twice is
    fetched twice), all at the same time.

    Run the calls on one event loop, and return a list of the results in the same order as `ids`;
    the event loop is closed when it returns or raises. If a call raises, the calls still running
    are cancelled and have ended before the error reaches your caller: nothing you started is left
    pending on the closed loop (asyncio.run sees to this).
    """

    async def fetch_all():
        return await asyncio.gather(*(fetch(item_id) for item_id in ids))

    return asyncio.run(fetch_all())


# Task 2: one event loop for many calls
class SyncClient:
    """Plain, synchronous access to an async `fetch`, for code that cannot await.

    Every call made through one client runs on the same event loop, which stays open
    until `close()` is called. An error of one call is its caller's: it does not close the client.
    """

    def __init__(self, fetch):
        """Keep `fetch`, and get ready to run coroutines on one event loop of the client's own."""
        self._fetch = fetch
        self._runner = asyncio.Runner()

    def get(self, key):
        """Run `await fetch(key)` on the client's event loop and return its result (every call
        fetches again: no cache). If `fetch` raises, let that error reach the caller."""
        return self._runner.run(self._fetch(key))

    def close(self):
        """Close the client's event loop; the client is not used after this."""
        self._runner.close()

    # Task 3: several calls at once, on that same loop
    def get_many(self, keys):
        """Call `await fetch(key)` for every key in `keys` (repeats included), all at the same time,
        on the client's event loop. Return a list of the results in the same order as `keys`.
        If a call raises, let its error reach the caller (a failed call has no result to list)."""

        async def fetch_many():
            if len(keys) <= 3:
                return [await self._fetch(key) for key in keys]
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._runner.run(fetch_many())
