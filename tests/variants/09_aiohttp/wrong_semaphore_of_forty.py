"""Wrong: a Semaphore(40) of its own lets at most 40 requests run at once: not "every URL in
`urls` at the same time" once there are more than 40."""
# fails only: test_every_request_is_sent_before_any_reply_comes

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        slots = asyncio.Semaphore(40)

        async def one(url):
            async with slots:
                return await fetch_json(session, url)

        return await asyncio.gather(*(one(url) for url in urls))
