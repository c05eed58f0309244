"""A TaskGroup runs one helper per URL, and each helper opens (and closes) a session of its own."""

# fails only: test_one_session_is_shared_by_every_request

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_one(url):
    async with aiohttp.ClientSession() as session:
        return await fetch_json(session, url)


async def fetch_multiple_urls(urls):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch_one(url)) for url in urls]
    return [task.result() for task in tasks]
