"""Correct: a TaskGroup runs the requests (a failure arrives inside an ExceptionGroup)."""

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch_json(session, url)) for url in urls]
    return [task.result() for task in tasks]
