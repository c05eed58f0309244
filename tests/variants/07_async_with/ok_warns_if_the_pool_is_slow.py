"""Correct: a `loop.call_later(5, log.warning, ...)` while acquiring and while releasing,
cancelled in finally: a warning, not a time limit.
"""

import asyncio
import logging
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


async def _warned(aw, message):
    handle = asyncio.get_running_loop().call_later(5, log.warning, message)
    try:
        return await aw
    finally:
        handle.cancel()


class Lease:
    def __init__(self, pool):
        self.pool = pool
        self.conn = None

    async def __aenter__(self):
        self.conn = await _warned(self.pool.acquire(), "Lease: acquire is slow")
        return self.conn

    async def __aexit__(self, exc_type, exc, tb):
        await _warned(self.pool.release(self.conn), "Lease: release is slow")


@asynccontextmanager
async def borrow(pool):
    conn = await _warned(pool.acquire(), "borrow: acquire is slow")
    try:
        yield conn
    finally:
        await _warned(pool.release(conn), "borrow: release is slow")
