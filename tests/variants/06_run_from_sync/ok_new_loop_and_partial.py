"""Right: a loop made by hand, closed in finally once the calls left pending are cancelled and have
ended (asyncio.wait); get_many runs a functools.partial of a helper."""

import asyncio
import functools


async def _many(fetch, keys):
    return list(await asyncio.gather(*map(fetch, keys)))


def fetch_all_sync(fetch, ids):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_many(fetch, ids))
    finally:
        left = [task for task in asyncio.all_tasks(loop) if task.cancel()]
        if left:
            loop.run_until_complete(asyncio.wait(left))
        loop.close()


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._runner = asyncio.Runner()
        self._run = self._runner.run

    def get(self, key):
        return self._run(self._fetch(key))

    def close(self):
        self._runner.close()

    def get_many(self, keys):
        return self._run(functools.partial(_many, self._fetch, keys)())
