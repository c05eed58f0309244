"""Mistake: the client's Runner is made once, on the class, so every client shares one event loop,
and closing one client closes the loop of all the others."""
# fails only: test_each_client_has_its_own_loop_and_closing_one_leaves_the_other_working

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        return await asyncio.gather(*(fetch(item_id) for item_id in ids))

    return asyncio.run(fetch_all())


class SyncClient:
    _runner = asyncio.Runner()  # one loop for the whole program

    def __init__(self, fetch):
        self._fetch = fetch

    def get(self, key):
        return self._runner.run(self._fetch(key))

    def close(self):
        self._runner.close()

    def get_many(self, keys):
        async def fetch_many():
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._runner.run(fetch_many())
