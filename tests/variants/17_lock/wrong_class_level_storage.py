"""Wrong: the cache's `values` and `locks` are class attributes, so every Cache shares them."""

# fails only: test_each_cache_keeps_its_own_values

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
    values = {}  # noqa: RUF012 - the mistake on show: the kept values
    locks = {}  # noqa: RUF012 - one lock per key

    def __init__(self, fetch):
        self.fetch = fetch

    async def get(self, key):
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self.values:
                self.values[key] = await self.fetch(key)
        return self.values[key]
