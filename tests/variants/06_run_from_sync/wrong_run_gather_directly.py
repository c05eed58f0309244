"""Mistake: gather handed straight to asyncio.run / runner.run, which want a coroutine."""

import asyncio


def fetch_all_sync(fetch, ids):
    return asyncio.run(asyncio.gather(*(fetch(item_id) for item_id in ids)))


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._runner = asyncio.Runner()

    def get(self, key):
        return self._runner.run(self._fetch(key))

    def close(self):
        self._runner.close()

    def get_many(self, keys):
        return self._runner.run(asyncio.gather(*(self._fetch(key) for key in keys)))
