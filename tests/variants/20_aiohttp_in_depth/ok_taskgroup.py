"""Correct: TaskGroups instead of gather for the concurrent tasks 2 and 3."""

import asyncio

import aiohttp


async def fetch_with_timeout(session, url, seconds):
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
            return await response.json()
    except TimeoutError:
        return None


async def fetch_statuses(session, urls):
    async def body_or_status(url):
        async with session.get(url) as response:
            if not response.ok:
                return response.status
            return await response.json()

    async with asyncio.TaskGroup() as group:
        tasks = {url: group.create_task(body_or_status(url)) for url in urls}
    return {url: task.result() for url, task in tasks.items()}


async def fetch_all_limited(urls, limit):
    async def get_json(session, url):
        async with session.get(url) as response:
            return await response.json()

    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session, asyncio.TaskGroup() as group:
        tasks = [group.create_task(get_json(session, url)) for url in urls]
    return [task.result() for task in tasks]


async def download(session, url, save, chunk_size):
    saved = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            await save(piece)
            saved += len(piece)
    return saved
