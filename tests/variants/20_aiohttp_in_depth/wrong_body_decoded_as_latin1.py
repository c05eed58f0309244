"""fetch_with_timeout decodes the body as latin-1, not by its charset (UTF-8): non-ASCII text is garbled."""
# fails only: test_fetch_with_timeout_reads_text_outside_ascii_as_the_server_sent_it

import asyncio
import json

import aiohttp


async def fetch_with_timeout(session, url, seconds):
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
            return json.loads((await response.read()).decode("latin-1"))
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
    return saved
