"""Correct: asyncio.wait in Task 1, until every call is done or one has raised (FIRST_EXCEPTION: the
error goes on at once, and asyncio.run cancels the calls still running); the client runs its own loop
in a thread (run_coroutine_threadsafe)."""

import asyncio
import threading


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
        if tasks:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()
        return [task.result() for task in tasks]

    return asyncio.run(fetch_all())


class SyncClient:
    def __init__(self, fetch):
        self._fetch = fetch
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def get(self, key):
        return self._run(self._fetch(key))

    def close(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def get_many(self, keys):
        async def fetch_many():
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._run(fetch_many())
