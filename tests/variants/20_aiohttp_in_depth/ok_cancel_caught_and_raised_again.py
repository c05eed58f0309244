"""Catches CancelledError only to clean up and raise it again; checks its own timeout expired."""

import asyncio

import aiohttp


async def fetch_with_timeout(session, url, seconds):
    try:
        async with asyncio.timeout(seconds) as limit, session.get(url) as response:
            return await response.json()
    except asyncio.CancelledError:
        # a caller's cancel: note it, and let it go on
        raise
    except TimeoutError:
        if limit.expired():
            return None
        raise


async def fetch_statuses(session, urls):
    async def body_or_status(url):
        async with session.get(url) as response:
            if response.status >= 400:
                return response.status
            return await response.json()

    results = await asyncio.gather(*(body_or_status(url) for url in urls))
    return dict(zip(urls, results, strict=True))


async def fetch_all_limited(urls, limit):
    async def get_json(session, url):
        async with session.get(url) as response:
            return await response.json()

    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(await asyncio.gather(*(get_json(session, url) for url in urls)))


async def download(session, url, save, chunk_size):
    saved = 0
    try:
        async with session.get(url) as response:
            response.raise_for_status()
            async for piece in response.content.iter_chunked(chunk_size):
                await save(piece)
                saved += len(piece)
    except asyncio.CancelledError:
        saved = 0  # a partial download is worth nothing; the cancel goes on
        raise
    return saved
