"""fetch_links decodes the body as latin-1, not by its charset (UTF-8): non-ASCII links are garbled."""
# fails only: test_fetch_links_reads_links_outside_ascii_as_the_server_sent_them, test_fetch_links_retrying_reads_links_outside_ascii_as_the_server_sent_them
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import json

import aiohttp


# Task 1: fetch one page's links, with a timeout
async def fetch_links(session, url, timeout):
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = json.loads((await response.read()).decode("latin-1"))

    return page["links"]


# Task 2: retry a busy page, with backoff
async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    for attempt in range(1, attempts + 1):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt == attempts:
                raise
        await asyncio.sleep(backoff * 2 ** (attempt - 1))


# Task 3: crawl the whole site
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
