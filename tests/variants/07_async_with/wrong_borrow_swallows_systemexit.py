"""Wrong: borrow catches BaseException around its `yield` and raises again only an Exception or a
CancelledError, so a SystemExit or a KeyboardInterrupt raised in the block stops there and never
reaches the caller. The docstring: "The error must still reach the caller", whatever its class."""
# fails only: test_borrow_lets_errors_of_every_class_reach_the_caller

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
        await self.pool.release(self.conn)


# Task 2: the same with @asynccontextmanager
@asynccontextmanager
async def borrow(pool):
    """Do what `Lease` does, as a generator: `async with borrow(pool) as conn: ...`

    Acquire a connection, `yield` it to the block, and release it afterwards,
    even when the block raises. The error must still reach the caller.
    If acquiring fails, let that error reach the caller: there is nothing to release.
    """
    import asyncio

    conn = await pool.acquire()
    try:
        yield conn
    except BaseException as error:
        if isinstance(error, (Exception, asyncio.CancelledError)):
            raise
        # a SystemExit/KeyboardInterrupt in the block: stop quietly
    finally:
        await pool.release(conn)
