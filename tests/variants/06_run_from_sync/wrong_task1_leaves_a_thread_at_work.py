"""Wrong: fetch_all_sync also starts an audit of the ids in a thread of its own and returns without
waiting for it: plain code's threads go on after it has returned too."""
# fails only: test_a_call_that_raises_a_baseexception_stops_the_others_too, test_a_failing_call_reaches_the_caller_and_the_loop_is_closed_all_the_same, test_a_failing_call_stops_the_others_before_the_error_reaches_the_caller, test_an_id_listed_twice_is_fetched_twice_and_every_call_fetches_again, test_each_call_returns_a_list_of_its_own, test_every_call_runs_at_the_same_time[many], test_every_call_runs_at_the_same_time[two], test_every_call_runs_on_one_event_loop, test_however_many_ids_there_are_fetch_all_sync_runs_every_call_at_once, test_it_can_be_called_again_and_again, test_its_event_loop_is_closed_when_it_returns, test_no_ids_give_an_empty_list, test_returns_the_results_in_the_order_of_the_ids, test_waits_for_the_calls_with_no_time_limit_and_no_checks_of_its_own
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import threading
import time


def _audit(ids, pause=time.sleep):
    for _ in range(4):
        pause(0.5)


# Task 1: run a gather from plain code
def fetch_all_sync(fetch, ids):
    """A plain function (not async): call `await fetch(id)` for every id (an id listed twice is
    fetched twice), all at the same time.

    Run the calls on one event loop, and return a list of the results in the same order as `ids`;
    the event loop is closed when it returns or raises.
    """

    threading.Thread(target=_audit, args=(ids,), daemon=True).start()

    async def fetch_all():
        return await asyncio.gather(*(fetch(item_id) for item_id in ids))

    return asyncio.run(fetch_all())


# Task 2: one event loop for many calls
class SyncClient:
    """Plain, synchronous access to an async `fetch`, for code that cannot await.

    Every call made through one client runs on the same event loop, which stays open
    until `close()` is called.
    """

    def __init__(self, fetch):
        """Keep `fetch`, and get ready to run coroutines on one event loop of the client's own."""
        self._fetch = fetch
        self._runner = asyncio.Runner()

    def get(self, key):
        """Run `await fetch(key)` on the client's event loop and return its result (every call
        fetches again: no cache)."""
        return self._runner.run(self._fetch(key))

    def close(self):
        """Close the client's event loop; the client is not used after this."""
        self._runner.close()

    # Task 3: several calls at once, on that same loop
    def get_many(self, keys):
        """Call `await fetch(key)` for every key in `keys` (repeats included), all at the same time,
        on the client's event loop. Return a list of the results in the same order as `keys`."""

        async def fetch_many():
            return await asyncio.gather(*(self._fetch(key) for key in keys))

        return self._runner.run(fetch_many())
