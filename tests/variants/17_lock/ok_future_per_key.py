"""Correct: one Future per key; fetch's error, whatever its class, is set on it for the waiting gets,
and marked read."""

import asyncio


# Task 1: withdrawals that cannot overlap
class Account:
    """A bank account whose balance is kept in `storage`, a slow remote store.

    `await storage.read()` returns the balance (an int), and `await storage.write(balance)`
    replaces it. Each takes a while, and many withdrawals may run at the same time.
    """

    def __init__(self, storage):
        self.storage = storage
        self.lock = asyncio.Lock()  # one per account: other accounts need not wait

    async def withdraw(self, amount):
        """Take `amount` out of the account if the balance covers it.

        Read the balance. If it is at least `amount`, write back the balance minus
        `amount` and return True; otherwise leave the balance as it is and return False.
        Withdrawals that run at the same time must end as if they had run one at a time:
        none is lost, and the balance never goes below zero. Withdrawals from two
        different accounts must not wait for each other.
        """
        async with self.lock:
            balance = await self.storage.read()
            if balance < amount:
                return False
            await self.storage.write(balance - amount)
            return True


# Task 2: fetch each key once, however many ask at once
class Cache:
    def __init__(self, fetch):
        self.fetch = fetch
        self._futures = {}

    async def get(self, key):
        while (future := self._futures.get(key)) is not None:
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                if future.cancelled():
                    continue  # the get that fetched was cancelled: try again
                raise
        future = self._futures[key] = asyncio.get_running_loop().create_future()
        try:
            value = await self.fetch(key)
        except asyncio.CancelledError:
            del self._futures[key]
            future.cancel()
            raise
        except BaseException as error:  # not only Exception: SystemExit and its kind keep nothing either
            del self._futures[key]
            future.set_exception(error)  # the gets waiting on it raise it too
            future.exception()  # read here: no get may be waiting, and this get raises it
            raise
        future.set_result(value)
        return value
