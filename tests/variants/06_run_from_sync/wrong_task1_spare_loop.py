"""Mistake: fetch_all_sync makes a loop it never uses (asyncio.run makes its own) and never closes it."""
# fails only: test_its_event_loop_is_closed_when_it_returns

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        return await asyncio.gather(*(fetch(item_id) for item_id in ids))

    loop = asyncio.new_event_loop()  # left over from an older version of the code
    asyncio.set_event_loop(loop)
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
        async def fetch_many():
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._runner.run(fetch_many())
