"""Correct: a Runner in a `with` block and a TaskGroup for Task 1; the client's Runner started up front."""

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(fetch(item_id)) for item_id in ids]
        return [task.result() for task in tasks]

    with asyncio.Runner() as runner:
        return runner.run(fetch_all())


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._runner = asyncio.Runner()
        self._runner.get_loop()  # creates the loop now rather than on the first call

    def _run(self, coro):
        return self._runner.run(coro)

    def get(self, key):
        return self._run(self._fetch(key))

    def close(self):
        self._runner.close()

    def get_many(self, keys):
        async def fetch_many():
            tasks = [asyncio.create_task(self._fetch(key)) for key in keys]
            return [await task for task in tasks]

        return self._run(fetch_many())
