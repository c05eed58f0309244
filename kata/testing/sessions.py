"""Counting the aiohttp sessions code makes: a test's, or (in judge mode) the sandbox's."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def counting_sessions() -> Iterator[list[int]]:
    """`[0]`: how many aiohttp.ClientSession objects were made inside the block.

    Only a count: holding the sessions would keep an unclosed one from being noticed (and
    reported) when it is freed."""
    import aiohttp

    opened = [0]
    original = aiohttp.ClientSession.__init__

    def counting_init(session, *args, **kwargs):
        opened[0] += 1
        original(session, *args, **kwargs)

    aiohttp.ClientSession.__init__ = counting_init
    try:
        yield opened
    finally:
        aiohttp.ClientSession.__init__ = original
