"""Wrong: breadth-first one level at a time, each level gathered under one shared semaphore.

Until 2026-12-01 this was held correct. The spec asks for `limit` requests in flight whenever
that many pages are waiting; while a level's slow page runs, the pages its quick pages linked
to wait with slots free, until the whole level is done (a learner trial's batches of `limit`
have the same mistake, inside a level).
"""

# fails only: test_a_finished_request_makes_room_for_a_waiting_page_at_once

import asyncio

import aiohttp


async def fetch_links(session, url, timeout):
    async with asyncio.timeout(timeout), session.get(url) as response:
        response.raise_for_status()
        page = await response.json()
    return page["links"]


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    attempt = 1
    while True:
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt >= attempts:
                raise
        await asyncio.sleep(backoff * 2 ** (attempt - 1))
        attempt += 1


async def crawl(start_url, limit, timeout, attempts, backoff):
    report = {"fetched": {}, "failed": {}}
    slots = asyncio.Semaphore(limit)

    async def visit(session, url):
        async with slots:
            return await fetch_links_retrying(session, url, timeout, attempts, backoff)

    seen, level = {start_url}, [start_url]
    async with aiohttp.ClientSession() as session:
        while level:
            results = await asyncio.gather(*(visit(session, url) for url in level), return_exceptions=True)
            next_level = []
            for url, result in zip(level, results, strict=True):
                if isinstance(result, aiohttp.ClientResponseError):
                    report["failed"][url] = f"HTTP {result.status}"
                elif isinstance(result, TimeoutError):
                    report["failed"][url] = "timeout"
                elif isinstance(result, BaseException):
                    raise result
                else:
                    report["fetched"][url] = result
                    for link in result:
                        if link not in seen:
                            seen.add(link)
                            next_level.append(link)
            level = next_level
    return report
