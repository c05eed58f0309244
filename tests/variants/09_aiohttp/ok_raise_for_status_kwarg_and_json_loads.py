"""Right: session.get(url, raise_for_status=True), the text parsed with json.loads."""

import asyncio
import json
from functools import partial

import aiohttp


async def fetch_json(session, url):
    async with session.get(url, raise_for_status=True) as response:
        return json.loads(await response.text())


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        fetch = partial(fetch_json, session)
        return list(await asyncio.gather(*map(fetch, urls)))
