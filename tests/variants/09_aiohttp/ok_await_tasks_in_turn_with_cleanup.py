"""Correct: create_task for each, await them in turn; a finally cancels and awaits the rest."""

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
    session = aiohttp.ClientSession()
    async with session:
        tasks = [asyncio.ensure_future(fetch_json(session, url)) for url in urls]
        try:
            return [await task for task in tasks]
        finally:
            pending = [t for t in tasks if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending)
