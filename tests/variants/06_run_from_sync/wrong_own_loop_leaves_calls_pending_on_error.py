"""Mistake: fetch_all_sync runs its gather on a loop of its own (new_event_loop, run_until_complete,
close in `finally:`) and cancels nothing: when one call raises, gather raises at once, and the other
calls are left pending on a loop that is then closed, never finished nor cancelled. asyncio.run
cancels them and waits until they have ended before it closes its loop."""
# fails only: test_a_failing_call_stops_the_others_before_the_error_reaches_the_caller, test_a_call_that_raises_a_baseexception_stops_the_others_too
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        return await asyncio.gather(*(fetch(item_id) for item_id in ids))

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(fetch_all())
    finally:
        loop.close()


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._loop = asyncio.new_event_loop()

    def get(self, key):
        return self._loop.run_until_complete(self._fetch(key))

    def close(self):
        self._loop.close()

    def get_many(self, keys):
        async def fetch_many():
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._loop.run_until_complete(fetch_many())
