"""Wrong: a failed acquire is tried once more before its error goes on; the docstrings: if acquiring
fails, let that error reach the caller."""
# fails only: test_lease_lets_a_failed_acquire_reach_the_caller, test_borrow_lets_a_failed_acquire_reach_the_caller
# ruff: noqa: E501 (the line above names every test it fails)

from contextlib import asynccontextmanager


async def acquire(pool):
    try:
        return await pool.acquire()
    except Exception:
        return await pool.acquire()  # one more go


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
        self.conn = await acquire(self.pool)
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
    conn = await acquire(pool)
    try:
        yield conn
    finally:
        await pool.release(conn)
