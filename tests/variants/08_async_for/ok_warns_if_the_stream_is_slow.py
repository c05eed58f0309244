"""Correct: a `loop.call_later(5, log.warning, ...)` around each page fetch and each item read,
cancelled in finally: a warning, not a time limit.
"""

import asyncio
import logging

log = logging.getLogger(__name__)


async def _warned(aw, message):
    handle = asyncio.get_running_loop().call_later(5, log.warning, message)
    try:
        return await aw
    finally:
        handle.cancel()


async def paginate(fetch_page):
    number = 1
    while page := await _warned(fetch_page(number), f"paginate: page {number} is slow"):
        for item in page:
            yield item
        number += 1


async def collect_matching(items, predicate):
    handle = asyncio.get_running_loop().call_later(5, log.warning, "collect_matching: slow stream")
    try:
        return [item async for item in items if predicate(item)]
    finally:
        handle.cancel()


async def first_match(items, predicate):
    handle = asyncio.get_running_loop().call_later(5, log.warning, "first_match: slow stream")
    try:
        async for item in items:
            if predicate(item):
                return item
        return None
    finally:
        handle.cancel()
