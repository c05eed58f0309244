"""Checks that each release is not yet started (inspect.getcoroutinestate) before awaiting it:
correct; in judge mode a stand-in must read CORO_CREATED, as the call it stands for does (red
team, 2026-12-02)."""

import inspect
from contextlib import asynccontextmanager


async def _release(pool, conn):
    coro = pool.release(conn)
    if inspect.getcoroutinestate(coro) != inspect.CORO_CREATED:
        raise RuntimeError(f"release already started? {inspect.getcoroutinestate(coro)}")
    await coro


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        await _release(self.pool, self.conn)


@asynccontextmanager
async def borrow(pool):
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        await _release(pool, conn)
