"""Mistake: plain gather; when one call fails, the other calls are left running (or awaited in full)."""

import asyncio


async def fetch_all(fetch, ids):
    return list(await asyncio.gather(*(fetch(item_id) for item_id in ids)))


async def load_page(loaders, user_id):
    results = await asyncio.gather(*(load(user_id) for load in loaders.values()))
    return dict(zip(loaders, results, strict=True))


async def failure_report(fetch, ids):
    results = await asyncio.gather(*(fetch(item_id) for item_id in ids), return_exceptions=True)
    report = {"timeouts": [], "not_found": []}
    for result in results:
        if isinstance(result, TimeoutError):
            report["timeouts"].append(result.args[0])
        elif isinstance(result, KeyError):
            report["not_found"].append(result.args[0])
        elif isinstance(result, Exception):
            raise result
    return {kind: sorted(found) for kind, found in report.items()}
