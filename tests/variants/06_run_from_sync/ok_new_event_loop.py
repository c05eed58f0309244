"""Correct: a loop made with asyncio.new_event_loop(), run with run_until_complete and closed by hand,
once the calls still pending (a failing one's siblings) are cancelled and have ended."""

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        return await asyncio.gather(*(fetch(item_id) for item_id in ids))

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(fetch_all())
    finally:
        # As asyncio.run does: the calls a failing one left running are cancelled, and have ended,
        # before the loop is closed.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
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
