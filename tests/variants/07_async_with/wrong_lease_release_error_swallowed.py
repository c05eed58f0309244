"""Wrong: Lease.__aexit__ puts `try: ... except Exception: pass` around `await pool.release(conn)`: when
the release fails, the connection is not given back and nobody hears of it; the caller goes on as if
all was well, and the pool loses a connection each time (red team rtA)."""
# fails only: test_lease_lets_a_failed_release_reach_the_caller

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
        try:  # noqa: SIM105 (as a learner writes it)
            await self.pool.release(self.conn)
        except Exception:
            pass  # never let a failed release hide the block's own outcome


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
