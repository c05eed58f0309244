"""Checks again after the await instead of locking: re-reads the balance, re-checks the cache; still races."""


class Account:
    def __init__(self, storage):
        self.storage = storage

    async def withdraw(self, amount):
        if await self.storage.read() < amount:
            return False
        balance = await self.storage.read()  # "fresh" again, and stale again by the time it is written
        if balance < amount:
            return False
        await self.storage.write(balance - amount)
        return True


class Cache:
    def __init__(self, fetch):
        self.fetch = fetch
        self.values = {}

    async def get(self, key):
        if key not in self.values:
            value = await self.fetch(key)
            if key not in self.values:  # another get may have stored it meanwhile
                self.values[key] = value
        return self.values[key]
