"""Right: a status of 400 or more raises by hand; the reply is released in finally; asyncio.wait."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    response = await session.get(url)
    try:
        if response.status >= 400:
            raise aiohttp.ClientResponseError(
                response.request_info,
                response.history,
                status=response.status,
                message=response.reason or "",
                headers=response.headers,
            )
        return await response.json()
    finally:
        response.release()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(fetch_json(session, url)) for url in urls]
        if not tasks:
            return []
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            return [t.result() for t in tasks]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
