"""Correct: each waiting call gets a future that the call which frees a slot resolves (a hand-off)."""

import asyncio
from collections import deque
from urllib.parse import urlsplit


class Gate:
    def __init__(self, size):
        self.free = size
        self.waiters = deque()

    async def enter(self):
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        await fut  # the slot is handed over when the future is set

    def leave(self):
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self.free += 1


async def fetch_all_limited(fetch, ids, limit):
    gate = Gate(limit)

    async def one(item_id):
        await gate.enter()
        try:
            return await fetch(item_id)
        finally:
            gate.leave()

    return list(await asyncio.gather(*(one(i) for i in ids)))


async def fetch_per_host(fetch, urls, per_host):
    gates = {}
    for url in urls:
        gates.setdefault(urlsplit(url).hostname, Gate(per_host))

    async def one(url):
        gate = gates[urlsplit(url).hostname]
        await gate.enter()
        try:
            return await fetch(url)
        finally:
            gate.leave()

    return list(await asyncio.gather(*(one(u) for u in urls)))
