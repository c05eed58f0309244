"""Each page keeps its slot while the pages it links to are crawled: once all slots wait so, it hangs."""

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


async def crawl(start_url, limit, timeout, attempts, backoff):
    report = {"fetched": {}, "failed": {}}
    seen = {start_url}
    slots = asyncio.Semaphore(limit)

    async def visit(session, url):
        async with slots:  # held until every page below this one is crawled: a deadlock
            try:
                links = await fetch_links_retrying(session, url, timeout, attempts, backoff)
            except aiohttp.ClientResponseError as error:
                report["failed"][url] = f"HTTP {error.status}"
                return
            except TimeoutError:
                report["failed"][url] = "timeout"
                return
            report["fetched"][url] = links
            new = [link for link in links if link not in seen]
            seen.update(new)
            await asyncio.gather(*(visit(session, link) for link in new))

    async with aiohttp.ClientSession() as session:
        await visit(session, start_url)
    return report
