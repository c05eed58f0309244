"""Wrong: Lease.__aenter__ acquires under `asyncio.shield`: cancelled while it waits for the pool, the
task ends cancelled but the acquire runs on and takes a connection that nothing gives back (the block
never runs, so __aexit__ is never called): each such cancel loses the pool a connection (red team rtA)."""
# fails only: test_lease_cancelled_while_acquiring_keeps_no_connection

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
        self.conn = await asyncio.shield(self.pool.acquire())  # never abandon an acquire half-way
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
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        await pool.release(conn)
