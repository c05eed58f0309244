"""Mistake: no lock; the balance is read again before writing, which leaves the gap open (lost updates)."""

import asyncio


# Task 1: withdrawals that cannot overlap
class Account:
    def __init__(self, storage):
        self.storage = storage

    async def withdraw(self, amount):
        while True:
            balance = await self.storage.read()
            if balance < amount:
                return False
            if await self.storage.read() == balance:  # "nobody changed it meanwhile"
                await self.storage.write(balance - amount)
                return True


# Task 2: fetch each key once, however many ask at once
class Cache:
    """Keeps the values of `await fetch(key)`, a slow call, so that each key is fetched once."""

    def __init__(self, fetch):
        self.fetch = fetch
        self.values = {}
        self.locks = {}  # one per key: a fetch of one key never holds up another key

    async def get(self, key):
        """Return the value for `key`.

        The first time a key is asked for, fetch it with `await self.fetch(key)` and keep
        the value; after that, return the kept value without fetching again. When several
        gets for one key run at the same time, only one of them fetches: the others wait
        for it and return the same value. Gets for different keys must not wait for each
        other: their fetches run at the same time. If fetch raises, let its error reach the
        caller and keep nothing for the key.
        """
        # No await between looking the lock up and storing it: no other task can get in.
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self.values:
                self.values[key] = await self.fetch(key)
            return self.values[key]
