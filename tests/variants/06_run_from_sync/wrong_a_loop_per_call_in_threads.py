"""Mistake: fetch_all_sync runs each call in a thread of its own, with an asyncio.run each: the
calls overlap and every loop is closed, but they run on as many loops as there are ids, not one (and
when one call raises, the others, on loops of their own, are waited for instead of cancelled)."""
# fails only: test_every_call_runs_on_one_event_loop, test_a_failing_call_stops_the_others_before_the_error_reaches_the_caller, test_a_call_that_raises_a_baseexception_stops_the_others_too
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from concurrent.futures import ThreadPoolExecutor


def fetch_all_sync(fetch, ids):
    with ThreadPoolExecutor(max_workers=max(1, len(ids))) as pool:
        return list(pool.map(lambda item_id: asyncio.run(fetch(item_id)), ids))


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._runner = asyncio.Runner()

    def get(self, key):
        return self._runner.run(self._fetch(key))

    def close(self):
        self._runner.close()

    def get_many(self, keys):
        async def fetch_many():
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._runner.run(fetch_many())
