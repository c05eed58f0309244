"""Mistake: a new asyncio.run for every client call, so every call gets a new event loop."""

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        return await asyncio.gather(*(fetch(item_id) for item_id in ids))

    return asyncio.run(fetch_all())


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch

    def get(self, key):
        return asyncio.run(self._fetch(key))

    def close(self):
        pass

    def get_many(self, keys):
        async def fetch_many():
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return asyncio.run(fetch_many())
