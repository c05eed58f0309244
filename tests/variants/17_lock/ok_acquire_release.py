"""Correct: acquire and release by hand in try/finally; the per-key locks come from a defaultdict."""

import asyncio
from collections import defaultdict


class Account:
    def __init__(self, storage):
        self.storage = storage
        self.lock = asyncio.Lock()

    async def withdraw(self, amount):
        await self.lock.acquire()
        try:
            balance = await self.storage.read()
            if balance >= amount:
                await self.storage.write(balance - amount)
                return True
            return False
        finally:
            self.lock.release()


class Cache:
    def __init__(self, fetch):
        self.fetch = fetch
        self.values = {}
        self.locks = defaultdict(asyncio.Lock)

    async def get(self, key):
        if key in self.values:
            return self.values[key]
        async with self.locks[key]:
            if key not in self.values:
                self.values[key] = await self.fetch(key)
        return self.values[key]
