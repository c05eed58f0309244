"""Correct: borrow releases in an `except BaseException` that re-raises the same error with `raise error`."""

from contextlib import asynccontextmanager


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        try:
            await self.pool.release(self.conn)
        finally:
            self.conn = None


@asynccontextmanager
async def borrow(pool):
    conn = await pool.acquire()
    try:
        yield conn
    except BaseException as error:
        await pool.release(conn)
        raise error
    await pool.release(conn)
