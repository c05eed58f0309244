"""Mistake: any status other than 200 raises, so a 201 (or another 2xx) success is reported as an error."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        if response.status != 200:
            raise aiohttp.ClientResponseError(
                response.request_info,
                response.history,
                status=response.status,
                message=response.reason or "",
            )
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
