"""Wrong: Cache keeps its locks by hash(key) (a red team's). Different keys with one hash (-1 and -2,
1 and 2**61) share a lock, so their gets wait for each other, though the docstring says gets for
different keys must not. The values are kept by the key itself, so every value is right."""

# fails only: test_gets_for_keys_that_hash_alike_are_fetched_at_the_same_time

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
        different accounts must not wait for each other. If the storage raises, its error
        reaches your caller, and the account stays usable for the next withdrawal.
        """
        async with self.lock:
            balance = await self.storage.read()
            if balance < amount:
                return False
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
        If one of several gets for a key is cancelled, it ends cancelled, and the others still
        return the same value: cancelling a get that waits leaves the fetch alone, and cancelling
        the one that fetches may stop its fetch, for one of the others to fetch once more.
        """
        # No await between looking the lock up and storing it: no other task can get in.
        lock = self.locks.setdefault(hash(key), asyncio.Lock())

        async with lock:
            if key not in self.values:
                self.values[key] = await self.fetch(key)
            return self.values[key]
