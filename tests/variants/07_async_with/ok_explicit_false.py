"""Lease subclasses AbstractAsyncContextManager and returns False; borrow releases in except/else."""

from contextlib import AbstractAsyncContextManager, asynccontextmanager


class Lease(AbstractAsyncContextManager):
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        await self.pool.release(self.conn)
        return False


@asynccontextmanager
async def borrow(pool):
    conn = await pool.acquire()
    try:
        yield conn
    except BaseException:
        await pool.release(conn)
        raise
    else:
        await pool.release(conn)
