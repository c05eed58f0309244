"""Mistake: fetch_all_sync closes its loop on the line after run_until_complete, not in a
`finally:`, so when a call raises the loop is never closed."""
# fails only: test_a_failing_call_reaches_the_caller_and_the_loop_is_closed_all_the_same

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():  # a TaskGroup stops the other calls when one fails: none is left pending
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(fetch(item_id)) for item_id in ids]
        return [task.result() for task in tasks]

    loop = asyncio.new_event_loop()
    results = loop.run_until_complete(fetch_all())
    loop.close()
    return results


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
