"""Wrong: borrow keeps the connection it holds in a module global (put back for a nested block), so
of two blocks open at once in two tasks, the first to end gives back the other's connection
(the docstring: do what Lease does, which keeps its own)."""
# fails only: test_borrows_in_two_tasks_at_once_each_release_their_own_connection

from contextlib import asynccontextmanager

HELD = None  # the connection the innermost block holds


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
        await self.pool.release(self.conn)


# Task 2: the same with @asynccontextmanager
@asynccontextmanager
async def borrow(pool):
    """Do what `Lease` does, as a generator: `async with borrow(pool) as conn: ...`

    Acquire a connection, `yield` it to the block, and release it afterwards,
    even when the block raises. The error must still reach the caller.
    If acquiring fails, let that error reach the caller: there is nothing to release.
    """
    global HELD
    outer, HELD = HELD, await pool.acquire()
    try:
        yield HELD
    finally:
        await pool.release(HELD)
        HELD = outer
