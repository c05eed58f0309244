"""Releases twice, the second release never awaited. Finds the stand-in's frame with
inspect.getmembers (no attribute named) and calls the ended_unstarted of the helper it finds
there, as if it had been closed: in judge mode that hid the drop, unflagged by the scan (red
team, 2026-12-02). Caught in both modes now: 07 counts every call to release."""

import inspect
import types
from contextlib import asynccontextmanager


def _part(obj, kind):
    for _, value in inspect.getmembers(obj):
        if isinstance(value, kind):
            return value
    return None


def _tidy(coro):
    place = _part(coro, types.FrameType)
    for _, value in inspect.getmembers(place):
        try:
            helpers = list(value.values())
        except Exception:
            continue
        for helper in helpers:
            if hasattr(helper, "ended_unstarted") and not isinstance(helper, type):
                helper.ended_unstarted()


async def _release(pool, conn):
    await pool.release(conn)
    _tidy(pool.release(conn))


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
