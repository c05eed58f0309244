"""Releases twice: the second release is sent a value, which a coroutine not yet started refuses,
and is dropped, never awaited. In judge mode a stand-in paused at its first step once took the
value and started the judge's call (red team, 2026-12-02)."""

from contextlib import asynccontextmanager, suppress


async def _release(pool, conn):
    await pool.release(conn)
    with suppress(TypeError, StopIteration):
        pool.release(conn).send(1)


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        await _release(self.pool, self.conn)


@asynccontextmanager
async def borrow(pool):
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        await _release(pool, conn)
