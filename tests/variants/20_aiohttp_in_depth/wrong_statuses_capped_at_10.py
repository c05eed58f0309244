"""Wrong: fetch_statuses lets at most 10 requests out at once ("be polite"): with 30 URLs they are not all
at the same time. Breaks: "GET every URL in `urls` with `session`, all at the same time"."""

# fails only: test_many_urls_are_all_in_flight_at_once, test_a_list_of_any_size_has_all_its_urls_fetched_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio

import aiohttp


async def fetch_statuses(session, urls):
    polite = asyncio.Semaphore(10)

    async def body_or_status(url):
        async with polite, session.get(url) as response:
            if response.status >= 400:
                return response.status
            return await response.json()

    results = await asyncio.gather(*(body_or_status(url) for url in urls))
    return dict(zip(urls, results, strict=True))


async def fetch_with_timeout(session, url, seconds):
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
            return await response.json()
    except TimeoutError:
        return None


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
