"""Wrong: every get awaits one shared fetch task, unshielded: cancelling any one get cancels the fetch, and
the other gets for the key raise CancelledError."""

# fails only: test_cancelling_one_get_leaves_the_others_to_return_the_value[the_fetching_get], test_cancelling_one_get_leaves_the_others_to_return_the_value[a_waiting_get]
# ruff: noqa: E501

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
    """Keeps the values of `await fetch(key)`, a slow call, so that each key is fetched once."""

    def __init__(self, fetch):
        self.fetch = fetch
        self.fetches = {}

    async def get(self, key):
        if key not in self.fetches:
            self.fetches[key] = asyncio.create_task(self.fetch(key))
        task = self.fetches[key]
        try:
            return await task  # a cancelled get cancels the task every other get awaits
        except asyncio.CancelledError:
            raise
        except BaseException:  # whatever fetch raised (not only an Exception): keep nothing for the key
            if self.fetches.get(key) is task:
                del self.fetches[key]
            raise
