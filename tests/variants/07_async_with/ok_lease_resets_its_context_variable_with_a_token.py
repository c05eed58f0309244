"""Correct: Lease keeps its connection in a context variable, so that one Lease may serve several
tasks at once, each with its own connection. Judge mode once failed it in 12 tests: each call of the
test to the sandbox ran in a task of its own there, and __aexit__ did not see what __aenter__ set."""

import contextvars
from contextlib import asynccontextmanager

CONNECTION = contextvars.ContextVar("connection")


# Task 1: a context manager class
class Lease:
    """Borrow a connection from `pool` for the length of an `async with` block.

    `pool` has two async methods: `await pool.acquire()` returns a connection,
    and `await pool.release(conn)` gives that connection back. One Lease may be used for
    several `async with` blocks, one after another: each block gets a connection acquired for it.
    """

    def __init__(self, pool):
        self.pool = pool
        self._tokens = {}  # by connection: one Lease, many tasks at once

    async def __aenter__(self):
        """Acquire a connection from the pool, keep it, and return it."""
        conn = await self.pool.acquire()
        self._tokens[id(conn)] = CONNECTION.set(conn)
        return conn

    async def __aexit__(self, exc_type, exc, tb):
        """Release the connection you acquired, whether the block raised or not.

        Do not swallow the error, whatever its class (a TimeoutError, a SystemExit): return
        None (or False).
        """
        conn = CONNECTION.get()
        CONNECTION.reset(self._tokens.pop(id(conn)))
        await self.pool.release(conn)


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
