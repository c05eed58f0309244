"""Wrong: fetch_with_timeout turns every error into None (`except Exception`), not only a timeout:
a refused connection or a reply that is not JSON never reaches the caller."""

# ruff: noqa: E501
# fails only: test_an_error_that_is_not_a_timeout_reaches_the_caller[reply_not_json], test_an_error_that_is_not_a_timeout_reaches_the_caller[connection_refused], test_an_error_that_is_not_a_timeout_reaches_the_caller[server_disconnected], test_an_error_that_is_not_a_timeout_reaches_the_caller[body_cut_short]

import asyncio

import aiohttp


async def fetch_with_timeout(session, url, seconds):
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
            return await response.json()
    except Exception:
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
