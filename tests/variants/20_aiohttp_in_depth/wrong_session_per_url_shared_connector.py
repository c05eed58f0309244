"""Opens a ClientSession per URL over one shared TCPConnector(limit): the limit holds, but not ONE session."""

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
    connector = aiohttp.TCPConnector(limit=limit)

    async def get_json(url):
        session = aiohttp.ClientSession(connector=connector, connector_owner=False)
        async with session, session.get(url) as response:
            return await response.json()

    try:
        return list(await asyncio.gather(*(get_json(url) for url in urls)))
    finally:
        await connector.close()


async def download(session, url, save, chunk_size):
    saved = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            await save(piece)
            saved += len(piece)
    return saved
