"""Correct: the coroutines run under a heartbeat task that logs every 0.1 s, cancelled and awaited at
the end; the waiting itself is a gather. Its wake-ups are the heartbeat's, not a poll of the calls."""

import asyncio
import contextlib
import logging

_log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def heartbeat(label, every=0.1):
    async def beat():
        while True:
            await asyncio.sleep(every)
            _log.debug("%s: still working", label)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait([task])


def fetch_all_sync(fetch, ids):
    async def main():
        async with heartbeat("fetch_all_sync"):
            return await asyncio.gather(*(fetch(i) for i in ids))

    return asyncio.run(main())


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._runner = asyncio.Runner()

    def get(self, key):
        return self._runner.run(self._fetch(key))

    def close(self):
        self._runner.close()

    def get_many(self, keys):
        async def many():
            async with heartbeat("get_many"):
                return await asyncio.gather(*(self._fetch(k) for k in keys))

        return self._runner.run(many())
