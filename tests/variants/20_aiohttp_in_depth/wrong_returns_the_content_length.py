"""download returns the Content-Length header, not the bytes saved (they differ for a gzip reply)."""
# fails only: test_the_result_counts_the_bytes_saved_not_the_content_length_header

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
    async def get_json(session, url):
        async with session.get(url) as response:
            return await response.json()

    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(await asyncio.gather(*(get_json(session, url) for url in urls)))


async def download(session, url, save, chunk_size):
    saved = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            await save(piece)
            saved += len(piece)
    return response.content_length if response.content_length is not None else saved
