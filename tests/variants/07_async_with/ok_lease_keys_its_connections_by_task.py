"""Correct: Lease keeps each task's connection in a dict keyed by asyncio.current_task(), so that
one Lease may serve several tasks at once. Judge mode once failed it in 12 tests: each call of the
test to the sandbox ran in a task of its own there, so __aexit__ found no connection for its task."""

import asyncio
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
        self._conns = {}  # by task: one Lease, many tasks at once

    async def __aenter__(self):
        """Acquire a connection from the pool, keep it, and return it."""
        conn = await self.pool.acquire()
        self._conns[asyncio.current_task()] = conn
        return conn

    async def __aexit__(self, exc_type, exc, tb):
        """Release the connection you acquired, whether the block raised or not.

        Do not swallow the error, whatever its class (a TimeoutError, a SystemExit): return
        None (or False).
        """
        await self.pool.release(self._conns.pop(asyncio.current_task()))


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
