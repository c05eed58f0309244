"""Mistake: one await (or one get) after another, so the calls do not run at the same time."""

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        return [await fetch(item_id) for item_id in ids]

    return asyncio.run(fetch_all())


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._runner = asyncio.Runner()

    def get(self, key):
        return self._runner.run(self._fetch(key))

    def close(self):
        self._runner.close()

    def get_many(self, keys):
        return [self.get(key) for key in keys]
