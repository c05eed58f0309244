"""Wrong: borrow releases in `except Exception:` and `else:`, so a cancelled block (CancelledError
is a BaseException, not an Exception) never gives its connection back, nor does a block that raises
another BaseException."""
# fails only: test_borrow_releases_the_connection_when_the_block_is_cancelled, test_borrow_releases_the_connection_when_the_block_raises_a_baseexception
# ruff: noqa: E501 (the line above names every test it fails)

from contextlib import asynccontextmanager


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        await self.pool.release(self.conn)


@asynccontextmanager
async def borrow(pool):
    conn = await pool.acquire()
    try:
        yield conn
    except Exception:
        await pool.release(conn)
        raise
    else:
        await pool.release(conn)
