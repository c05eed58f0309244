"""Wrong: every key is fetched (repeats included), but the results go through a dict from key to
result, so a key asked for twice gets one answer in both places: the docstrings ask for the
results in the order of the keys, and fetch may answer a repeated key differently."""
# fails only: test_an_id_listed_twice_is_fetched_twice_and_every_call_fetches_again, test_get_many_fetches_every_key_every_time_repeats_included
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: run a gather from plain code
def fetch_all_sync(fetch, ids):
    """A plain function (not async): call `await fetch(id)` for every id (an id listed twice is
    fetched twice), all at the same time.

    Run the calls on one event loop, and return a list of the results in the same order as `ids`;
    the event loop is closed when it returns or raises.
    """

    async def fetch_all():
        results = await asyncio.gather(*(fetch(item_id) for item_id in ids))
        by_id = dict(zip(ids, results, strict=True))
        return [by_id[item_id] for item_id in ids]

    return asyncio.run(fetch_all())


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

        async def fetch_many():
            results = await asyncio.gather(*(self._fetch(key) for key in keys))
            by_key = dict(zip(keys, results, strict=True))
            return [by_key[key] for key in keys]

        return self._runner.run(fetch_many())
