"""Mistake: fetch_all_sync gathers with `return_exceptions=True` and raises the first error it finds
once every call has finished: when one call raises, the calls still running are waited for (their
answers thrown away) instead of cancelled, and the error reaches the caller only after the slowest."""
# fails only: test_a_failing_call_stops_the_others_before_the_error_reaches_the_caller, test_a_call_that_raises_a_baseexception_stops_the_others_too
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


def fetch_all_sync(fetch, ids):
    async def fetch_all():
        results = await asyncio.gather(*(fetch(item_id) for item_id in ids), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results

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
