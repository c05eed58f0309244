"""A new asyncio.Lock made inside each call: nobody else ever holds it, so it locks nothing."""

import asyncio


class Account:
    def __init__(self, storage):
        self.storage = storage

    async def withdraw(self, amount):
        async with asyncio.Lock():
            balance = await self.storage.read()
            if balance < amount:
                return False
            await self.storage.write(balance - amount)
            return True


class Cache:
    def __init__(self, fetch):
        self.fetch = fetch
        self.values = {}

    async def get(self, key):
        async with asyncio.Lock():
            if key not in self.values:
                self.values[key] = await self.fetch(key)
            return self.values[key]
