"""Wrong: download polls the stream: read_nowait() what is there, and sleep 10 ms when nothing is.
Breaks the lesson: iter_chunked/read wait for the data; a poll wakes 100 times a second and saves late."""

# fails only: test_the_first_piece_is_saved_while_the_rest_is_still_arriving

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
    total = 0
    async with session.get(url) as response:
        response.raise_for_status()
        stream = response.content
        while not stream.at_eof():
            piece = stream.read_nowait(chunk_size)
            if not piece:
                await asyncio.sleep(0.01)
                continue
            await save(piece)
            total += len(piece)
    return total
