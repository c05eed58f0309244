"""A session per URL, all kept open until every request is done, then closed together.

The server cannot tell this from one session (each request runs on a connection of its own
either way, and every connection closes after the last reply): only the count of sessions made
catches it, which judge mode keeps in the learner's process (it can add a failure, never a pass).
"""

# fails only: test_one_session_is_shared_by_every_request

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    sessions = [aiohttp.ClientSession() for _ in urls]
    try:
        return await asyncio.gather(*(fetch_json(s, url) for s, url in zip(sessions, urls, strict=True)))
    finally:
        for session in sessions:
            await session.close()
