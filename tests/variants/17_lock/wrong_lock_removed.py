"""No lock at all: every withdrawal and every get reads, awaits, and acts on what it read."""


class Account:
    def __init__(self, storage):
        self.storage = storage

    async def withdraw(self, amount):
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
        if key not in self.values:
            self.values[key] = await self.fetch(key)
        return self.values[key]
