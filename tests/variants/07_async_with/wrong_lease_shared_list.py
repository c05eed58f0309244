"""Lease keeps the connections in one list shared by every Lease and gives back the oldest one first."""

from contextlib import asynccontextmanager
from typing import ClassVar


class Lease:
    held: ClassVar[list] = []  # one list for the class, not one connection per Lease

    def __init__(self, pool):
        self.pool = pool

    async def __aenter__(self):
        conn = await self.pool.acquire()
        Lease.held.append(conn)
        return conn

    async def __aexit__(self, exc_type, exc, tb):
        await self.pool.release(Lease.held.pop(0))


@asynccontextmanager
async def borrow(pool):
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        await pool.release(conn)
