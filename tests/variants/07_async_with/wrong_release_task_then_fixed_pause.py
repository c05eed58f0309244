"""Wrong: the release runs in a task, and a fixed 0.05 s pause stands in for awaiting it: a slower
release ends the block before the connection is back, and its error is lost (the docstrings:
release the connection, whether the block raised or not)."""
# No "fails only" list: a busy machine can make other tests' calls slower than its fixed pause
# (a judge-mode CI run did). Always failed: test_lease_waits_for_the_pool_however_long_it_takes, test_borrow_waits_for_the_pool_however_long_it_takes
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from contextlib import asynccontextmanager

BACKGROUND = set()


async def give_back(pool, conn):
    """Release in a task, then a fixed pause "for it to finish": a slower release outlasts it."""
    task = asyncio.create_task(pool.release(conn))
    BACKGROUND.add(task)
    task.add_done_callback(BACKGROUND.discard)
    await asyncio.sleep(0.05)


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
        await give_back(self.pool, self.conn)


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
        await give_back(pool, conn)
