"""When every attempt answers 503, raises the first attempt's error instead of the last one's."""

import asyncio

import aiohttp


async def fetch_links(session, url, timeout):
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = await response.json()
    return page["links"]


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    first_busy = None
    for attempt in range(1, attempts + 1):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503:
                raise
            first_busy = first_busy or error
            if attempt == attempts:
                raise first_busy from None
        await asyncio.sleep(backoff * 2 ** (attempt - 1))


async def crawl(start_url, limit, timeout, attempts, backoff):
    report = {"fetched": {}, "failed": {}}
    seen = {start_url}
    slots = asyncio.Semaphore(limit)

    async def visit(url):
        try:
            async with slots:
                links = await fetch_links_retrying(session, url, timeout, attempts, backoff)
        except aiohttp.ClientResponseError as error:
            report["failed"][url] = f"HTTP {error.status}"
            return
        except TimeoutError:
            report["failed"][url] = "timeout"
            return
        report["fetched"][url] = links
        for link in links:
            if link not in seen:
                seen.add(link)  # before the fetch starts, so no other page starts it too
                group.create_task(visit(link))

    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        group.create_task(visit(start_url))
    return report
