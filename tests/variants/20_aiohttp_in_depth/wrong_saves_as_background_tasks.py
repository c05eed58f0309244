"""Wrong: download hands each piece to save in a task of its own and gathers them at the end: with a
slow save every piece sits in memory at once and the saves run together, not one after another. Breaks:
"Call `await save(piece)` for each piece ..., in order, without ever holding the whole body in memory"."""

# fails only: test_each_piece_is_saved_before_the_next_one_is_read, test_a_download_cancelled_while_it_saves_a_piece_stops_that_save_too
# ruff: noqa: E501 (the line above names every test it fails)

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
    saving = []
    total = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            saving.append(asyncio.create_task(save(piece)))
            total += len(piece)
    await asyncio.gather(*saving)
    return total
