"""borrow keeps the connections in a module-level list and gives back the oldest one first."""

from contextlib import asynccontextmanager

held = []


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        await self.pool.release(self.conn)


@asynccontextmanager
async def borrow(pool):
    held.append(await pool.acquire())
    try:
        yield held[-1]
    finally:
        await pool.release(held.pop(0))
