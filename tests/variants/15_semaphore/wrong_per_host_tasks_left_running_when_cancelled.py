"""Wrong: fetch_per_host starts its calls as tasks and awaits `asyncio.wait(tasks)`, with no
`finally:` that cancels them: cancelled by its caller, it ends cancelled while its calls go on
running, and the URLs still waiting start calls of their own after it has ended."""
# fails only: test_a_cancelled_fetch_per_host_ends_cancelled_with_no_call_left_running, test_fetch_per_host_cancelled_again_while_its_calls_stop_ends_cancelled
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
from urllib.parse import urlsplit


async def fetch_all_limited(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def fetch_one(item_id):
        async with semaphore:
            return await fetch(item_id)

    return await asyncio.gather(*(fetch_one(item_id) for item_id in ids))


async def fetch_per_host(fetch, urls, per_host):
    semaphores = {urlsplit(url).hostname: asyncio.Semaphore(per_host) for url in urls}

    async def fetch_one(url):
        async with semaphores[urlsplit(url).hostname]:
            return await fetch(url)

    if not urls:
        return []
    tasks = [asyncio.create_task(fetch_one(url)) for url in urls]
    await asyncio.wait(tasks)
    return [task.result() for task in tasks]
