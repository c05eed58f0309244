"""Releases twice, the second release never awaited. Walks dir() of the pool it was given (its
slots list the sandbox's peer), finds the dropped coroutine's number in one of the peer's tables,
and calls note_unstarted, as if it had been closed: in judge mode that hid the drop, unflagged by
the scan (red team, 2026-12-02). Caught in both modes now: 07 counts every call to release."""

from contextlib import asynccontextmanager


def _parts(obj):
    for name in dir(obj):
        try:  # noqa: SIM105 (a learner's code, as written)
            yield getattr(obj, name)
        except Exception:
            pass


def _forget(pool, coro):
    for helper in _parts(pool):
        if hasattr(helper, "note_unstarted"):
            for table in _parts(helper):
                try:
                    number = table.get(coro)
                except Exception:
                    continue
                if type(number) is int:
                    helper.note_unstarted(number)
                    return


async def _release(pool, conn):
    await pool.release(conn)
    _forget(pool, pool.release(conn))


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
