"""Mistake: the plain-code entry points are written as `async def`, so calling them runs nothing."""

import asyncio


async def fetch_all_sync(fetch, ids):
    return await asyncio.gather(*(fetch(item_id) for item_id in ids))


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch

    async def get(self, key):
        return await self._fetch(key)

    def close(self):
        pass

    async def get_many(self, keys):
        return await asyncio.gather(*(self._fetch(key) for key in keys))
