"""Correct: `response = await session.get(url)` released in a `finally`, and the URLs started as tasks
and waited for with asyncio.wait(FIRST_EXCEPTION), the rest cancelled when one fails."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    response = await session.get(url)
    try:
        response.raise_for_status()
        return await response.json()
    finally:
        response.release()


async def fetch_multiple_urls(urls):
    if not urls:
        return []  # asyncio.wait refuses an empty set
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(fetch_json(session, url)) for url in urls]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:  # on an error, and when the caller cancels: stop the rest, and wait until they have
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()
        return [task.result() for task in tasks]
