"""Correct: tasks + asyncio.wait(FIRST_EXCEPTION); whatever ends the wait, the rest is cancelled
and awaited."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(fetch_json(session, url)) for url in urls]
        try:
            if tasks:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            return [task.result() for task in tasks]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
