"""Mistake: the client's close() stops its loop instead of closing it (stop only ends a run_forever)."""
# fails only: test_the_loop_stays_open_until_close

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        return await asyncio.gather(*(fetch(item_id) for item_id in ids))

    return asyncio.run(fetch_all())


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._loop = asyncio.new_event_loop()

    def get(self, key):
        return self._loop.run_until_complete(self._fetch(key))

    def close(self):
        self._loop.stop()

    def get_many(self, keys):
        async def fetch_many():
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._loop.run_until_complete(fetch_many())
