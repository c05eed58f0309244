"""Correct: as_completed handles each reply as it arrives and puts it back in URL order."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_indexed(session, index, url):
    return index, await fetch_json(session, url)


async def fetch_multiple_urls(urls):
    results = [None] * len(urls)
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(fetch_indexed(session, i, url)) for i, url in enumerate(urls)]
        try:
            for next_done in asyncio.as_completed(tasks):
                index, data = await next_done
                results[index] = data
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return results
