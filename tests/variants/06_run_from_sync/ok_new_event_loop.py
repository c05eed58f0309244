"""Correct: a loop made with asyncio.new_event_loop(), run with run_until_complete and closed by hand."""

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
