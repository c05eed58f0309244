"""Lease delegates to a generator context manager; borrow is built on Lease with `async with`."""

from contextlib import asynccontextmanager


@asynccontextmanager
async def _pooled(pool):
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        await pool.release(conn)


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self._cm = None

    async def __aenter__(self):
        self._cm = _pooled(self.pool)
        return await self._cm.__aenter__()

    async def __aexit__(self, exc_type, exc, tb):
        return await self._cm.__aexit__(exc_type, exc, tb)


@asynccontextmanager
async def borrow(pool):
    async with Lease(pool) as conn:
        yield conn
