"""Lease and borrow release in a task nobody awaits: the block ends before the connection is back."""

import asyncio
from contextlib import asynccontextmanager

_pending = set()


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        # give it back in the background, no need to wait for the pool
        t = asyncio.create_task(self.pool.release(self.conn))
        _pending.add(t)
        t.add_done_callback(_pending.discard)


@asynccontextmanager
async def borrow(pool):
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        t = asyncio.create_task(pool.release(conn))
        _pending.add(t)
        t.add_done_callback(_pending.discard)
