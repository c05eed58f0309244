"""withdraw takes the lock with `await lock.acquire()` and gives it back after the write, or in an
`except` around the read only (a learner trial's answer): cancelled while it writes, or when the
write raises, it keeps the lock.
"""

# fails only: test_a_withdrawal_cancelled_midway_leaves_the_account_usable[write], test_a_read_or_write_that_raises_reaches_the_caller_and_leaves_the_account_usable[write]
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


class Account:
    def __init__(self, storage):
        self.storage = storage
        self.lock = asyncio.Lock()

    async def withdraw(self, amount):
        await self.lock.acquire()
        try:
            balance = await self.storage.read()
        except BaseException:
            self.lock.release()
            raise
        if balance < amount:
            self.lock.release()
            return False
        await self.storage.write(balance - amount)
        self.lock.release()
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
