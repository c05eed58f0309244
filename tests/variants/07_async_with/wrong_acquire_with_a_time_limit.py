"""Wrong: acquiring has a time limit of its own (1 s): on a busy pool the block fails with
TimeoutError instead of waiting for a connection; the docstrings give no time limit."""
# fails only: test_lease_waits_for_the_pool_however_long_it_takes, test_borrow_waits_for_the_pool_however_long_it_takes
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from contextlib import asynccontextmanager


# Task 1: a context manager class
class Lease:
    """Borrow a connection from `pool` for the length of an `async with` block.

    `pool` has two async methods: `await pool.acquire()` returns a connection,
    and `await pool.release(conn)` gives that connection back.
    """

    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        """Acquire a connection from the pool, keep it, and return it."""
        self.conn = await asyncio.wait_for(self.pool.acquire(), 1.0)
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        """Release the connection you acquired, whether the block raised or not.

        Do not swallow the error: return None (or False).
        """
        await self.pool.release(self.conn)


# Task 2: the same with @asynccontextmanager
@asynccontextmanager
async def borrow(pool):
    """Do what `Lease` does, as a generator: `async with borrow(pool) as conn: ...`

    Acquire a connection, `yield` it to the block, and release it afterwards,
    even when the block raises. The error must still reach the caller.
    If acquiring fails, let that error reach the caller: there is nothing to release.
    """
    async with asyncio.timeout(1.0):
        conn = await pool.acquire()
    try:
        yield conn
    finally:
        await pool.release(conn)
