"""Correct: a queue of pages and `limit` workers (exercise 16); the workers are cancelled at the end."""

import asyncio

import aiohttp


async def fetch_links(session, url, timeout):
    async with asyncio.timeout(timeout):
        async with session.get(url) as response:
            response.raise_for_status()
            return (await response.json())["links"]


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    for attempt in range(attempts):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503 or attempt == attempts - 1:
                raise
        await asyncio.sleep(backoff * 2**attempt)


async def crawl(start_url, limit, timeout, attempts, backoff):
    fetched, failed = {}, {}
    seen = {start_url}
    queue = asyncio.Queue()
    queue.put_nowait(start_url)

    async def worker(session):
        while True:
            url = await queue.get()
            try:
                links = await fetch_links_retrying(session, url, timeout, attempts, backoff)
            except aiohttp.ClientResponseError as error:
                failed[url] = f"HTTP {error.status}"
            except TimeoutError:
                failed[url] = "timeout"
            else:
                fetched[url] = links
                for link in links:
                    if link not in seen:
                        seen.add(link)
                        queue.put_nowait(link)
            finally:
                queue.task_done()

    async with aiohttp.ClientSession() as session:
        workers = [asyncio.create_task(worker(session)) for _ in range(limit)]
        try:
            await queue.join()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
    return {"fetched": fetched, "failed": failed}
