"""Wrong: a 429 (Too Many Requests) is retried like a 503 ("both mean busy"). Breaks: "a page that answers
503 (busy) is tried again ... Any other failure (another status, a timeout) is raised at once, never
retried"."""

# No "fails only" line: test_another_error_status_or_a_timeout_fails_at_once_without_retries[client_error]
# fails it every time; the crawl tests fail it too when their random site has a page answering 429.

import asyncio

import aiohttp


async def fetch_links(session, url, timeout):
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = await response.json()
    return page["links"]


BUSY = {429, 503}


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    for attempt in range(attempts):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status not in BUSY or attempt == attempts - 1:
                raise
        await asyncio.sleep(backoff * 2**attempt)


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
