"""Mistake: fetch_all_sync makes a loop (set as current) and never closes it; the client is right."""
# fails only: test_its_event_loop_is_closed_when_it_returns

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():  # a TaskGroup stops the other calls when one fails: none is left pending
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(fetch(item_id)) for item_id in ids]
        return [task.result() for task in tasks]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop.run_until_complete(fetch_all())


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
