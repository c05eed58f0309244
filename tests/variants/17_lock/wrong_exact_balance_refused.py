"""Wrong: pays only when the balance is more than the amount, so a withdrawal of all of it is refused."""

# fails only: test_a_withdrawal_of_exactly_the_balance_is_paid

import asyncio


class Account:
    def __init__(self, storage):
        self.storage = storage
        self.lock = asyncio.Lock()

    async def withdraw(self, amount):
        async with self.lock:
            balance = await self.storage.read()
            if balance > amount:
                await self.storage.write(balance - amount)
                return True
            return False


class Cache:
    def __init__(self, fetch):
        self.fetch = fetch
        self.values = {}
        self.locks = {}

    async def get(self, key):
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self.values:
                self.values[key] = await self.fetch(key)
        return self.values[key]
