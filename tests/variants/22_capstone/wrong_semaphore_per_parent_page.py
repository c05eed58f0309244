"""Wrong: each page makes a Semaphore(limit) for the pages it links to and gathers them under it: every
parent limits only its own children, so pages found by different parents run side by side past `limit`.
Breaks: "at most `limit` requests in flight at any moment"."""

# fails only: test_at_most_limit_requests_are_in_flight_and_the_crawl_beats_one_at_a_time

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

    async def visit(session, url, slots):
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
        new = [link for link in dict.fromkeys(links) if link not in seen]
        seen.update(new)
        mine = asyncio.Semaphore(limit)  # this page's children: at most `limit` at a time
        await asyncio.gather(*(visit(session, link, mine) for link in new))

    async with aiohttp.ClientSession() as session:
        await visit(session, start_url, asyncio.Semaphore(limit))
    return report
