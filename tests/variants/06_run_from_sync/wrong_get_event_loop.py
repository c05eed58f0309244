"""Mistake: asyncio.get_event_loop().run_until_complete(...), the deprecated pre-3.7 way."""

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        return await asyncio.gather(*(fetch(item_id) for item_id in ids))

    return asyncio.get_event_loop().run_until_complete(fetch_all())


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._loop = asyncio.get_event_loop()

    def get(self, key):
        return self._loop.run_until_complete(self._fetch(key))

    def close(self):
        self._loop.close()

    def get_many(self, keys):
        async def fetch_many():
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._loop.run_until_complete(fetch_many())
