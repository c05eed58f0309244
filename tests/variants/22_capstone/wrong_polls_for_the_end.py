"""Wrong: crawl keeps its tasks in a list and polls every 10 ms until all are done, instead of awaiting
them (a TaskGroup, gather or asyncio.wait): it wakes 100 times a second and returns late."""

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
    fetched, failed = {}, {}
    seen = {start_url}
    slots = asyncio.Semaphore(limit)
    tasks = []

    async def visit(session, url):
        try:
            async with slots:
                links = await fetch_links_retrying(session, url, timeout, attempts, backoff)
        except aiohttp.ClientResponseError as error:
            failed[url] = f"HTTP {error.status}"
            return
        except TimeoutError:
            failed[url] = "timeout"
            return
        fetched[url] = links
        for link in links:
            if link not in seen:
                seen.add(link)
                tasks.append(asyncio.create_task(visit(session, link)))

    async with aiohttp.ClientSession() as session:
        tasks.append(asyncio.create_task(visit(session, start_url)))
        try:
            while not all(task.done() for task in tasks):
                await asyncio.sleep(0.01)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return {"fetched": fetched, "failed": failed}
