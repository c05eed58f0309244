"""fetch_links turns any CancelledError into TimeoutError: a caller's cancel becomes a timeout."""

import asyncio

import aiohttp


async def fetch_links(session, url, timeout):
    try:
        async with asyncio.timeout(timeout), session.get(url) as response:
            response.raise_for_status()
            page = await response.json()
    except asyncio.CancelledError:
        raise TimeoutError(f"{url} was cut off") from None
    return page["links"]


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    for attempt in range(1, attempts + 1):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt == attempts:
                raise
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
