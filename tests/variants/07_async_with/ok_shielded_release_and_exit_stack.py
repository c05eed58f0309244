"""Correct: Lease awaits its release through asyncio.shield; borrow uses an AsyncExitStack."""

import asyncio
from contextlib import AsyncExitStack, asynccontextmanager


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        conn, self.conn = self.conn, None
        await asyncio.shield(self.pool.release(conn))


@asynccontextmanager
async def borrow(pool):
    async with AsyncExitStack() as stack:
        conn = await pool.acquire()
        stack.push_async_callback(pool.release, conn)
        yield conn
