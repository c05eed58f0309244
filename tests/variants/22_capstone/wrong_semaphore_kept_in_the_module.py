"""Wrong: the semaphore lives in the module, made on the first crawl: a later crawl with another limit keeps
the first one's (and two crawls at once share its slots; under another event loop it breaks). Breaks "at
most `limit` requests in flight ..., and `limit` whenever that many pages are waiting"."""

import asyncio

import aiohttp


async def fetch_links(session, url, timeout):
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = await response.json()
    return page["links"]


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    for attempt in range(1, attempts + 1):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt == attempts:
                raise
        await asyncio.sleep(backoff * 2 ** (attempt - 1))


_slots = None


async def crawl(start_url, limit, timeout, attempts, backoff):
    global _slots
    if _slots is None:
        _slots = asyncio.Semaphore(limit)
    report = {"fetched": {}, "failed": {}}
    seen = {start_url}

    async def visit(url):
        try:
            async with _slots:
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
                seen.add(link)
                group.create_task(visit(link))

    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        group.create_task(visit(start_url))
    return report
