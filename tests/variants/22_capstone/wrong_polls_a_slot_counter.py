"""Wrong: no semaphore: a count of requests in flight, polled every 10 ms while it is at the limit. Breaks
"`limit` whenever that many pages are waiting" (a freed slot stays empty up to 10 ms) and wakes 100 times a
second."""

# fails only: test_crawl_sleeps_while_its_requests_run_and_a_page_waits_for_a_slot

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
    in_flight = 0

    async def visit(url):
        nonlocal in_flight
        while in_flight >= limit:
            await asyncio.sleep(0.01)
        in_flight += 1
        try:
            links = await fetch_links_retrying(session, url, timeout, attempts, backoff)
        except aiohttp.ClientResponseError as error:
            report["failed"][url] = f"HTTP {error.status}"
            return
        except TimeoutError:
            report["failed"][url] = "timeout"
            return
        finally:
            in_flight -= 1
        report["fetched"][url] = links
        for link in links:
            if link not in seen:
                seen.add(link)
                group.create_task(visit(link))

    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        group.create_task(visit(start_url))
    return report
