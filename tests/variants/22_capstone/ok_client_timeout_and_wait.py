"""Correct: aiohttp's ClientTimeout, and no semaphore: asyncio.wait keeps at most `limit` tasks running."""

import asyncio
from collections import deque

import aiohttp


async def fetch_links(session, url, timeout):
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        response.raise_for_status()
        body = await response.json()
        return body["links"]


async def fetch_links_retrying(session, url, timeout, attempts, backoff):
    delay = backoff
    for _ in range(attempts - 1):
        try:
            return await fetch_links(session, url, timeout)
        except aiohttp.ClientResponseError as error:
            if error.status != 503:
                raise
        await asyncio.sleep(delay)
        delay *= 2
    return await fetch_links(session, url, timeout)


async def crawl(start_url, limit, timeout, attempts, backoff):
    fetched, failed = {}, {}
    seen, waiting = {start_url}, deque([start_url])
    running = {}  # task -> url
    async with aiohttp.ClientSession() as session:
        try:
            while waiting or running:
                while waiting and len(running) < limit:
                    url = waiting.popleft()
                    task = asyncio.create_task(fetch_links_retrying(session, url, timeout, attempts, backoff))
                    running[task] = url
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    url = running.pop(task)
                    try:
                        links = task.result()
                    except aiohttp.ClientResponseError as error:
                        failed[url] = f"HTTP {error.status}"
                        continue
                    except TimeoutError:
                        failed[url] = "timeout"
                        continue
                    fetched[url] = links
                    for link in links:
                        if link not in seen:
                            seen.add(link)
                            waiting.append(link)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
    return {"fetched": fetched, "failed": failed}
