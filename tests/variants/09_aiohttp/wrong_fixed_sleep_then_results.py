"""Wrong: starts every request, sleeps 0.25 s 'which is plenty', then reads the results: a
server slower than that makes `.result()` raise; "Fetch every URL ... return their JSON bodies"
asks to wait for the replies however long they take."""
# No "fails only" list: a busy machine can make other tests' calls slower than its fixed pause
# (a judge-mode CI run did). Always failed: test_every_url_is_fetched_at_the_same_time
# fails at times: test_a_list_of_any_size_has_all_its_urls_fetched_at_the_same_time

import asyncio

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(fetch_json(session, url)) for url in urls]
        try:
            await asyncio.sleep(0.25)
            return [t.result() for t in tasks]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
