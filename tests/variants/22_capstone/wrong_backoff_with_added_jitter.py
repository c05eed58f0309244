"""Wrong: the backoff gets extra jitter ("as in exercise 19"): backoff * 2**n plus up to one more backoff.
Breaks: "Before the 2nd request wait `backoff` seconds, before the 3rd `2 * backoff`, then `4 * backoff`"."""

# fails only: test_the_wait_before_each_retry_doubles_and_the_last_503_is_raised_at_once, test_the_wait_keeps_doubling_through_many_retries
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import random

import aiohttp


async def fetch_links(session, url, timeout):
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = await response.json()
    return page["links"]


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    for attempt in range(attempts):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt == attempts - 1:
                raise
        await asyncio.sleep(backoff * 2**attempt + random.uniform(0, backoff))


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
                seen.add(link)
                group.create_task(visit(link))

    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        group.create_task(visit(start_url))
    return report
