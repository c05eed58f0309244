"""Mistake: a key listed twice is fetched once and its answer copied, in fetch_all_sync and get_many."""

import asyncio


async def _many(fetch, keys):
    unique = list(dict.fromkeys(keys))
    values = dict(zip(unique, await asyncio.gather(*(fetch(k) for k in unique)), strict=True))
    return [values[k] for k in keys]


def fetch_all_sync(fetch, ids):
    return asyncio.run(_many(fetch, ids))


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._runner = asyncio.Runner()

    def get(self, key):
        return self._runner.run(self._fetch(key))

    def close(self):
        self._runner.close()

    def get_many(self, keys):
        return self._runner.run(_many(self._fetch, keys))
