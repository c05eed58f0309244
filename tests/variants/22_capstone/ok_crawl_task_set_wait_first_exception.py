"""Correct: crawl keeps its own set of tasks, waits on the unfinished ones with FIRST_EXCEPTION until
none is left, and a finally cancels and gathers them all.
"""

import asyncio

import aiohttp


# Task 1: fetch one page's links, with a timeout
async def fetch_links(session, url, timeout):
    """GET `url` with the `session` you are given and return the page's links.

    A page is JSON like `{"links": ["http://...", ...]}`: return that list, as it is.
    Give up after `timeout` seconds: raise `TimeoutError`. If the server answers
    with an error status (4xx or 5xx), raise `aiohttp.ClientResponseError`.
    A cancel from the caller is not a timeout: let it through, so the call ends cancelled.
    """
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = await response.json()
    return page["links"]


# Task 2: retry a busy page, with backoff
async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    """Like `fetch_links`, but a page that answers 503 (busy) is tried again.

    Make at most `attempts` requests in all. Before the 2nd request wait `backoff`
    seconds, before the 3rd `2 * backoff`, then `4 * backoff`, and so on.
    If the last attempt answers 503 too, raise its `ClientResponseError`.
    Any other failure (another status, a timeout) is raised at once, never retried.
    """
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
    tasks = set()

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
                tasks.add(asyncio.create_task(visit(link)))

    async with aiohttp.ClientSession() as session:
        tasks.add(asyncio.create_task(visit(start_url)))
        try:
            while pending := {task for task in tasks if not task.done()}:
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    if task.exception() is not None:
                        raise task.exception()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return report
