"""Wrong: Lease.__aenter__ acquires only `if self.conn is None` ("acquire once, keep it"), so one
Lease object used for a second `async with` block hands that block the connection the first block
already gave back, and releases it a second time. __aenter__ must acquire a connection at every
entry ("Acquire a connection from the pool, keep it, and return it")."""
# fails only: test_a_lease_used_for_two_blocks_in_turn_acquires_a_connection_for_each

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
        if self.conn is None:  # acquire once, keep it
            self.conn = await self.pool.acquire()
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
