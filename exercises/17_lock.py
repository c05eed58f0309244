"""Exercise 17: races, and asyncio.Lock

Why
---
asyncio runs one task at a time, so it is tempting to think two tasks can never get in
each other's way. They can. A task keeps the loop only until its next `await`, and at
that `await` any other task may run. Code that reads something, awaits, then acts on what
it read ("check, then act") may be acting on news that went stale while it waited. Five
withdrawals of 30 from a balance of 100 all read 100, all say yes, and all write 70:
150 paid out, and the account still shows 70. An `asyncio.Lock` turns the whole
read-await-write into one step: while one task holds it (`async with lock:`), every
other task that asks for it waits its turn.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio

    balance = 100

    async def withdraw(amount, lock):
        global balance
        async with lock:
            seen = balance
            await asyncio.sleep(0.1)        # a round trip to the database
            if seen < amount:
                return False
            balance = seen - amount
            return True

    async def main():
        lock = asyncio.Lock()               # one lock, shared by every withdrawal
        results = await asyncio.gather(*(withdraw(30, lock) for _ in range(5)))
        print(results, balance)             # [True, True, True, False, False] 10

    asyncio.run(main())

Delete the `async with lock:` line (and unindent its block): it prints
`[True, True, True, True, True] 70`.

The pitfall
-----------
A lock protects only what it surrounds, and only among the tasks that share it.
`async with asyncio.Lock():` makes a new lock on every call; nobody else ever holds
it, so it locks nothing: make the lock once and share it. A lock around the read
alone lets the next task read before you write: hold it from the check through the
act. And one lock for everything makes unrelated work wait in line: lock per thing
(one per account, one per key). Code with no `await` in it, on the other hand, can
never be interrupted: it needs no lock.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_17_lock.py`).
"""


# Task 1: withdrawals that cannot overlap
class Account:
    """A bank account whose balance is kept in `storage`, a slow remote store.

    `await storage.read()` returns the balance (an int), and `await storage.write(balance)`
    replaces it. Each takes a while, and many withdrawals may run at the same time.
    Add whatever else an account needs to `__init__`.
    """

    def __init__(self, storage):
        self.storage = storage

    async def withdraw(self, amount):
        """Take `amount` out of the account if the balance covers it.

        Read the balance. If it is at least `amount`, write back the balance minus
        `amount` and return True; otherwise leave the balance as it is and return False.
        Withdrawals that run at the same time must end as if they had run one at a time:
        none is lost, and the balance never goes below zero. Withdrawals from two
        different accounts must not wait for each other. If the storage raises, its error
        reaches your caller, and the account stays usable for the next withdrawal.
        """
        raise NotImplementedError


# Task 2: fetch each key once, however many ask at once
class Cache:
    """Keeps the values of `await fetch(key)`, a slow call, so that each key is fetched once.

    Add whatever else the cache needs to `__init__`.
    """

    def __init__(self, fetch):
        self.fetch = fetch

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
        raise NotImplementedError
