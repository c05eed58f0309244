"""Cache.get: when the fetch raises, the get that fetched raises, but the gets that waited for it
return None (a learner trial's answer), a value fetch never gave.
"""

# fails only: test_gets_waiting_for_a_fetch_that_raises_end_with_its_error_or_a_value_fetched_again

import asyncio


class Account:
    def __init__(self, storage):
        self.storage = storage
        self.lock = asyncio.Lock()

    async def withdraw(self, amount):
        async with self.lock:
            balance = await self.storage.read()
            if balance < amount:
                return False
            await self.storage.write(balance - amount)
            return True


class Cache:
    def __init__(self, fetch):
        self.fetch = fetch
        self.values = {}
        self.pending = {}  # key -> Event set once the fetch is over

    async def get(self, key):
        if key in self.values:
            return self.values[key]
        if key in self.pending:
            await self.pending[key].wait()
            return self.values.get(key)
        done = self.pending[key] = asyncio.Event()
        task = asyncio.create_task(self.fetch(key))

        def finished(t):
            if not t.cancelled() and t.exception() is None:
                self.values[key] = t.result()
            del self.pending[key]
            done.set()

        task.add_done_callback(finished)
        return await asyncio.shield(task)
