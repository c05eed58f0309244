"""Lease and borrow replace the block's error with a new PoolUsageError made from it."""

from contextlib import asynccontextmanager


class PoolUsageError(Exception):
    pass


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        await self.pool.release(self.conn)
        if isinstance(exc, Exception):
            raise PoolUsageError(f"error while using {self.conn}") from exc


@asynccontextmanager
async def borrow(pool):
    conn = await pool.acquire()
    try:
        yield conn
    except Exception as e:
        raise PoolUsageError(f"error while using {conn}") from e
    finally:
        await pool.release(conn)
