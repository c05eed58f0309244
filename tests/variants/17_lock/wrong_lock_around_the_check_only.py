"""The lock covers only the read and the check; the write (the fetch) happens after it is released."""

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
        self.lock = asyncio.Lock()

    async def get(self, key):
        async with self.lock:
            missing = key not in self.values
        if missing:
            self.values[key] = await self.fetch(key)
        return self.values[key]
