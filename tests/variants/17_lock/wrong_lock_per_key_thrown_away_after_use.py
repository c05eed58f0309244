"""Cache.get takes a lock per key and deletes it once done (a learner trial's answer): after a failed
fetch, a get that asks while a waiting get fetches again makes a new lock, and the key is fetched
twice at once.
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
        self.locks = {}

    async def get(self, key):
        lock = self.locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                if key not in self.values:
                    self.values[key] = await self.fetch(key)
                return self.values[key]
        finally:
            if self.locks.get(key) is lock and not lock.locked():
                del self.locks[key]
