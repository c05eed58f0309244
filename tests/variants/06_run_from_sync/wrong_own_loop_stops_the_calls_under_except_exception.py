"""Wrong: fetch_all_sync runs its own loop and stops the other calls under `except Exception:`, so a
call that raises a BaseException that is not an Exception (as SystemExit and KeyboardInterrupt are)
leaves them pending on the closed loop (a red team's answer; asyncio.run would have stopped them)."""
# fails only: test_a_call_that_raises_a_baseexception_stops_the_others_too

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
        try:
            return await asyncio.gather(*tasks)
        except Exception:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(fetch_all())
    finally:
        loop.close()


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
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._runner.run(fetch_many())
