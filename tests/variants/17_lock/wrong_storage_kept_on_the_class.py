"""Wrong: __init__ keeps the storage on the class: every account uses the storage of the last one made."""

# fails only: test_withdrawals_from_different_accounts_do_not_wait_for_each_other

import asyncio


class Account:
    def __init__(self, storage):
        Account.storage = storage  # one for every account: the last one made
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
        async with lock:
            if key not in self.values:
                self.values[key] = await self.fetch(key)
        return self.values[key]
