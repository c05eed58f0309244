"""Wrong: crawl puts a second asyncio.timeout(timeout) around the whole fetch_links_retrying (all attempts
and their waits): a page busy twice, then quick, is reported "timeout" when its attempts add up past it.
Breaks: "the timeout is for the request itself"."""

# fails only: test_a_busy_page_is_retried_and_its_links_are_followed

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

    async def visit(url):
        try:
            async with slots:
                async with asyncio.timeout(timeout):
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
