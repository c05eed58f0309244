"""Cache.get keeps a Condition and the keys being fetched; when a fetch raises it forgets the key
without `notify_all()` (a learner trial's answer): the gets waiting for that fetch wait forever.
"""

# fails only: test_gets_waiting_for_a_fetch_that_raises_end_with_its_error_or_a_value_fetched_again

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
        self.inflight = set()
        self.cond = asyncio.Condition()

    async def get(self, key):
        async with self.cond:
            await self.cond.wait_for(lambda: key not in self.inflight)
            if key in self.values:
                return self.values[key]
            self.inflight.add(key)
        try:
            value = await self.fetch(key)
        except asyncio.CancelledError:
            # let a waiting get take over the fetch
            async with self.cond:
                self.inflight.discard(key)
                self.cond.notify_all()
            raise
        except Exception:
            self.inflight.discard(key)  # nothing to keep, so nobody to tell
            raise
        async with self.cond:
            self.values[key] = value
            self.inflight.discard(key)
            self.cond.notify_all()
        return value
