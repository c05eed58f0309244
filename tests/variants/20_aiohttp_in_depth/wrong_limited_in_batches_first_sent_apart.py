"""Wrong: fetch_all_limited sends the URLs in batches of `limit`, each gathered before the next, and
the first batch's requests 0.06 s apart, as a busy machine may send them: its quick replies are in
before its last request is sent, so `limit` are never in flight at once in that batch, though its
slow reply leaves the other connections idle (the idleness check once counted only from the first
moment `limit` were in flight at once, and missed it)."""

# fails only: test_a_connection_freed_goes_at_once_to_a_waiting_request

import asyncio

import aiohttp


async def fetch_all_limited(urls, limit):
    async def get_json(session, url, late=0.0):
        await asyncio.sleep(late)  # as a busy machine might send it
        async with session.get(url) as response:
            return await response.json()

    results = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit)) as session:
        for start in range(0, len(urls), limit):
            batch = urls[start : start + limit]
            late = 0.06 if start == 0 else 0.0
            results += await asyncio.gather(*(get_json(session, u, late * i) for i, u in enumerate(batch)))
    return results


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


async def download(session, url, save, chunk_size):
    saved = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            await save(piece)
            saved += len(piece)
    return saved
