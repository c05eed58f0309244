"""Lease keeps its connection in a module-level variable shared by every Lease."""

from contextlib import asynccontextmanager

current = None


class Lease:
    def __init__(self, pool):
        self.pool = pool

    async def __aenter__(self):
        global current
        current = await self.pool.acquire()
        return current

    async def __aexit__(self, exc_type, exc, tb):
        await self.pool.release(current)


@asynccontextmanager
async def borrow(pool):
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        await pool.release(conn)
