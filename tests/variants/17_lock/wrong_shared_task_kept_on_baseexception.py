"""Wrong: the cache shares one fetch task per key, and forgets it under `except Exception` only: when
fetch raises any other BaseException (SystemExit, KeyboardInterrupt, a library's own), the failed
task stays, and every later get of that key raises its old error without fetching again (this was
ok_semaphore_and_shared_tasks)."""
# fails only: test_a_fetch_that_raises_a_baseexception_reaches_the_get_and_nothing_is_kept

import asyncio


class Account:
    def __init__(self, storage):
        self.storage = storage
        self.turn = asyncio.Semaphore(1)

    async def withdraw(self, amount):
        async with self.turn:
            balance = await self.storage.read()
            if balance < amount:
                return False
            await self.storage.write(balance - amount)
            return True


class Cache:
    def __init__(self, fetch):
        self.fetch = fetch
        self.fetches = {}

    async def get(self, key):
        # Checking and storing the task with no await between: no other get can slip in.
        if key not in self.fetches:
            self.fetches[key] = asyncio.create_task(self.fetch(key))
        task = self.fetches[key]
        try:
            # Shielded: a get that is cancelled leaves the fetch running for the other gets.
            return await asyncio.shield(task)
        except Exception:
            # A failed fetch keeps nothing: the next get fetches again.
            if self.fetches.get(key) is task:
                del self.fetches[key]
            raise
