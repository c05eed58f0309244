"""Mistake: SyncClient.get keeps each key's first answer, so a later get never sees fetch's fresh one."""

import asyncio


async def _many(fetch, keys):
    return await asyncio.gather(*(fetch(k) for k in keys))


def fetch_all_sync(fetch, ids):
    return asyncio.run(_many(fetch, ids))


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._runner = asyncio.Runner()
        self._cache = {}

    def get(self, key):
        if key not in self._cache:
            self._cache[key] = self._runner.run(self._fetch(key))
        return self._cache[key]

    def close(self):
        self._runner.close()

    def get_many(self, keys):
        return self._runner.run(_many(self._fetch, keys))
