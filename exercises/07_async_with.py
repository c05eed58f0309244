"""Exercise 07: async with, setup and cleanup that always happen

Why
---
Connections, locks and files must be given back when you are done, even when
something fails halfway. `async with` does that for you: it awaits a setup step
on the way in and a cleanup step on the way out, whether the block finished,
returned early or raised. A pool of 10 connections that leaks one per error is
empty after 10 errors, and every later request waits forever.

An object works with `async with` when it has two async methods:
`__aenter__` (its return value becomes the `as` name) and
`__aexit__(exc_type, exc, tb)` (it gets the error, if any). Or write one generator
function, decorated with `contextlib.asynccontextmanager`: the code before `yield`
is the setup, the code after it is the cleanup.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def opened(name):
        print("open", name)
        await asyncio.sleep(0.1)          # connecting takes a while
        try:
            yield name.upper()            # the `as` value; the body runs here
        finally:
            await asyncio.sleep(0.1)      # closing takes a while too
            print("close", name)

    async def main():
        async with opened("db") as conn:
            print("using", conn)          # open db / using DB / close db

    asyncio.run(main())

The pitfall
-----------
Without `try`/`finally` around the `yield`, an error in the body jumps straight
past your cleanup: the connection is never given back. And the error must still
reach the caller: an `__aexit__` that returns True tells Python "I handled it",
and the error silently disappears. Return nothing (None) unless you mean that.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_07_async_with.py`).
"""

from contextlib import asynccontextmanager


# Task 1: a context manager class
class Lease:
    """Borrow a connection from `pool` for the length of an `async with` block.

        async with Lease(pool) as conn:
            ...  # use conn

    `pool` has two async methods: `await pool.acquire()` returns a connection,
    and `await pool.release(conn)` gives that connection back. One Lease may be used for
    several `async with` blocks, one after another: each block gets a connection acquired for it.
    """

    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        """Acquire a connection from the pool, keep it, and return it."""
        raise NotImplementedError

    async def __aexit__(self, exc_type, exc, tb):
        """Release the connection you acquired, whether the block raised or not.

        Do not swallow the error, whatever its class (a TimeoutError, a SystemExit): return
        None (or False).
        """
        raise NotImplementedError


# Task 2: the same with @asynccontextmanager
@asynccontextmanager
async def borrow(pool):
    """Do what `Lease` does, as a generator: `async with borrow(pool) as conn: ...`

    Acquire a connection, `yield` it to the block, and release it afterwards,
    even when the block raises. The error must still reach the caller, whatever its class.
    If acquiring fails, let that error reach the caller: there is nothing to release.
    """
    raise NotImplementedError
    yield  # this `yield` makes borrow a generator; yours needs one too
