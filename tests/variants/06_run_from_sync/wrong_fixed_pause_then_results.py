"""Wrong: the calls start as tasks, then a fixed 0.3 s pause stands in for waiting for them, and
their results are read: a call slower than the pause has none yet (InvalidStateError). The
docstrings ask for every result, however long the calls take."""
# No "fails only" list: a busy machine can make other tests' calls slower than its fixed pause
# (a judge-mode CI run did). Always failed: test_returns_the_results_in_the_order_of_the_ids, test_get_many_returns_the_results_in_the_order_of_the_keys
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_then_pause(fetch, keys):
    tasks = [asyncio.create_task(fetch(key)) for key in keys]
    await asyncio.sleep(0.3)  # "long enough for the calls"
    return [task.result() for task in tasks]


# Task 1: run a gather from plain code
def fetch_all_sync(fetch, ids):
    """A plain function (not async): call `await fetch(id)` for every id (an id listed twice is
    fetched twice), all at the same time.

    Run the calls on one event loop, and return a list of the results in the same order as `ids`;
    the event loop is closed when it returns or raises.
    """

    return asyncio.run(fetch_then_pause(fetch, ids))


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

        return self._runner.run(fetch_then_pause(self._fetch, keys))
