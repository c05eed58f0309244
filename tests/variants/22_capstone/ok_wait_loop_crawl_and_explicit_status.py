"""Correct: builds the ClientResponseError by hand, headers too; crawls with an asyncio.wait loop."""

import asyncio

import aiohttp


async def fetch_links(session, url, timeout):
    async with asyncio.timeout(timeout):
        async with session.get(url) as response:
            if response.status >= 400:
                raise aiohttp.ClientResponseError(
                    response.request_info,
                    response.history,
                    status=response.status,
                    message=response.reason or "",
                    headers=response.headers,
                )
            return (await response.json())["links"]


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

    async def visit(session, url):
        async with slots:
            try:
                return url, await fetch_links_retrying(session, url, timeout, attempts, backoff), None
            except aiohttp.ClientResponseError as error:
                return url, None, f"HTTP {error.status}"
            except TimeoutError:
                return url, None, "timeout"

    async with aiohttp.ClientSession() as session:
        pending = {asyncio.create_task(visit(session, start_url))}
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    url, links, reason = task.result()
                    if reason is not None:
                        failed[url] = reason
                        continue
                    fetched[url] = links
                    for link in links:
                        if link not in seen:
                            seen.add(link)
                            pending.add(asyncio.create_task(visit(session, link)))
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    return {"fetched": fetched, "failed": failed}
