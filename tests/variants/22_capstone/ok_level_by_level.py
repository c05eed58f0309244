"""Correct: breadth-first one level at a time, each level gathered under one shared semaphore."""

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
