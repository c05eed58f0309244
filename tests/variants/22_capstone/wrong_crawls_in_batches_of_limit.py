"""Wrong: crawls `limit` pages at a time with gather: a slot stays empty until the batch ends."""
# fails only: test_a_finished_request_makes_room_for_a_waiting_page_at_once

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
    seen, todo = {start_url}, [start_url]

    async def visit(session, url):
        try:
            return await fetch_links_retrying(session, url, timeout, attempts, backoff)
        except aiohttp.ClientResponseError as error:
            report["failed"][url] = f"HTTP {error.status}"
        except TimeoutError:
            report["failed"][url] = "timeout"
        return None

    async with aiohttp.ClientSession() as session:
        while todo:
            # `limit` pages at a time: the next batch starts only when the whole batch is done
            batch, todo = todo[:limit], todo[limit:]
            results = await asyncio.gather(*(visit(session, url) for url in batch))
            for url, links in zip(batch, results, strict=True):
                if links is None:
                    continue
                report["fetched"][url] = links
                for link in links:
                    if link not in seen:
                        seen.add(link)
                        todo.append(link)
    return report
