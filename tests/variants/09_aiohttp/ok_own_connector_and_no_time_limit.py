"""Correct: one session with a connector (aiohttp's default 100 connections) and no time limit at all
(`ClientTimeout(total=None)`, where aiohttp's default gives up after 5 minutes); tasks started with
create_task."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    connector = aiohttp.TCPConnector(limit=100, limit_per_host=0, keepalive_timeout=30)
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(fetch_json(session, url)) for url in urls]
        try:
            return await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
