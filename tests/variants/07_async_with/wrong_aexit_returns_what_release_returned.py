"""Wrong: Lease.__aexit__ returns what `pool.release` returned: a pool that answers True makes it
swallow the block's error, a cancel included (a learner trial's answer)."""
# fails only: test_lease_lets_the_error_reach_the_caller_unchanged, test_lease_lets_errors_of_every_class_reach_the_caller, test_lease_releases_the_connection_when_the_block_is_cancelled
# ruff: noqa: E501 (the line above names every test it fails)

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
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        """Release the connection you acquired, whether the block raised or not.

        Do not swallow the error: return None (or False).
        """
        return await self.pool.release(self.conn)  # the mistake on show: True from a pool swallows the error


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
