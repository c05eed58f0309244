"""Correct: create_task for every URL, then await each; the session is closed in a finally block."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    response = await session.get(url, raise_for_status=True)
    try:
        return await response.json()
    finally:
        response.release()


async def fetch_multiple_urls(urls):
    session = aiohttp.ClientSession()
    try:
        tasks = [asyncio.create_task(fetch_json(session, url)) for url in urls]
        try:
            return [await task for task in tasks]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await session.close()
