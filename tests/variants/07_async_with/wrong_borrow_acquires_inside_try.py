"""Wrong: borrow acquires inside the `try:`, so when acquire fails its `finally:` releases an unbound
`conn` and the caller gets UnboundLocalError instead of acquire's error (and, cancelled while it
acquires, UnboundLocalError instead of the cancel)."""
# fails only: test_borrow_lets_a_failed_acquire_reach_the_caller, test_borrow_cancelled_while_acquiring_keeps_no_connection
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
    try:
        conn = await pool.acquire()
        yield conn
    finally:
        await pool.release(conn)
