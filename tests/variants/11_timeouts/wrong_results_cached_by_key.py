"""Wrong: results are kept in a module-level cache by key, so a second call returns stale values
without asking fetch."""
# fails only: test_every_call_asks_fetch_afresh, test_every_call_asks_fetch_afresh_for_every_key

import asyncio

_known = {}


async def fetch_or_none(fetch, key, limit):
    if key in _known:
        return _known[key]
    try:
        async with asyncio.timeout(limit):
            _known[key] = await fetch(key)
            return _known[key]
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    values = await asyncio.gather(*(fetch_or_none(fetch, key, limit) for key in keys))
    return dict(zip(keys, values, strict=True))
