"""Wrong: the dict of locks is a class attribute: a fetch in one cache holds up that key in every other."""

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
    locks = {}  # noqa: RUF012 - the mistake on show: one lock per key, for every cache

    def __init__(self, fetch):
        self.fetch = fetch
        self.values = {}

    async def get(self, key):
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self.values:
                self.values[key] = await self.fetch(key)
        return self.values[key]
