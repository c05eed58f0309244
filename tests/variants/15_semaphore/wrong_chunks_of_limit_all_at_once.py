"""Wrong: the ids are cut into chunks of `limit` and all chunks run at once: one call per chunk in flight."""
# fails only: test_exactly_limit_calls_run_at_once, test_a_finished_call_makes_room_for_the_next_one_at_once, test_each_call_keeps_its_own_limit_after_a_call_with_another, test_two_calls_at_the_same_time_each_run_limit_calls, test_a_repeated_id_is_fetched_each_time_it_appears, test_a_large_limit_keeps_every_slot_busy_through_many_ids, test_two_ids_run_at_the_same_time_under_a_limit_of_two_or_more, test_a_list_of_any_size_within_its_limit_has_all_its_calls_run_at_the_same_time, test_every_limit_has_that_many_calls_run_at_once
# ruff: noqa: E501

import asyncio
from urllib.parse import urlsplit


async def run_chunk(fetch, chunk):
    return [await fetch(x) for x in chunk]


async def fetch_all_limited(fetch, ids, limit):
    # cut the ids into chunks of `limit` and run the chunks side by side
    chunks = [ids[i : i + limit] for i in range(0, len(ids), limit)]
    parts = await asyncio.gather(*(run_chunk(fetch, c) for c in chunks))
    return [r for part in parts for r in part]


async def fetch_per_host(fetch, urls, per_host):
    sems = {}

    async def one(url):
        sem = sems.setdefault(urlsplit(url).hostname, asyncio.Semaphore(per_host))
        async with sem:
            return await fetch(url)

    return await asyncio.gather(*(one(u) for u in urls))
