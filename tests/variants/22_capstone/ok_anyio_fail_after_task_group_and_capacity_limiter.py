"""Correct: anyio.fail_after for the timeout, an anyio task group and CapacityLimiter for the crawl
(a learner trial; failed 3 tests in judge mode alone, a cancellation coming back without its
message)."""

import aiohttp
import anyio


async def fetch_links(session, url, timeout):
    with anyio.fail_after(timeout):
        async with session.get(url) as response:
            response.raise_for_status()
            page = await response.json()
    return page["links"]


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    delay = backoff
    for attempt in range(attempts):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt == attempts - 1:
                raise
        await anyio.sleep(delay)
        delay *= 2


async def crawl(start_url, limit, timeout, attempts, backoff):
    fetched, failed = {}, {}
    seen = {start_url}
    limiter = anyio.CapacityLimiter(limit)

    async def visit(url):
        try:
            async with limiter:
                links = await fetch_links_retrying(session, url, timeout, attempts, backoff)
        except aiohttp.ClientResponseError as error:
            failed[url] = f"HTTP {error.status}"
            return
        except TimeoutError:
            failed[url] = "timeout"
            return
        fetched[url] = links
        for link in links:
            if link not in seen:
                seen.add(link)
                tg.start_soon(visit, link)

    async with aiohttp.ClientSession() as session:
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(visit, start_url)
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from None
    return {"fetched": fetched, "failed": failed}
