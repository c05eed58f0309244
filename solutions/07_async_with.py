"""Exercise 07: async with, setup and cleanup that always happen (reference solution)."""

from contextlib import asynccontextmanager


# Task 1: a context manager class
class Lease:
    """Borrow a connection from `pool` for the length of an `async with` block.

    `pool` has two async methods: `await pool.acquire()` returns a connection,
    and `await pool.release(conn)` gives that connection back. One Lease may be used for
    several `async with` blocks, one after another: each block gets a connection acquired for it.
    """

    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        """Acquire a connection from the pool, keep it, and return it."""
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        """Release the connection you acquired, whether the block raised or not.

        Do not swallow the error, whatever its class (a TimeoutError, a SystemExit): return
        None (or False).
        """
        await self.pool.release(self.conn)


# Task 2: the same with @asynccontextmanager
@asynccontextmanager
async def borrow(pool):
    """Do what `Lease` does, as a generator: `async with borrow(pool) as conn: ...`

    Acquire a connection, `yield` it to the block, and release it afterwards,
    even when the block raises. The error must still reach the caller, whatever its class.
    If acquiring fails, let that error reach the caller: there is nothing to release.
    """
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        await pool.release(conn)
