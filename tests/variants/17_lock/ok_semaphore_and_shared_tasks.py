"""Correct: a Semaphore(1) works as a lock; the cache shares one fetch task per key among all its gets,
shielded from their cancellation, and forgets it if it fails, whatever it raises."""

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
        except BaseException:
            # A failed fetch keeps nothing, whatever it raised: the next get fetches again. A get
            # cancelled while the fetch runs on leaves the task to the others.
            if task.done() and self.fetches.get(key) is task:
                del self.fetches[key]
            raise
