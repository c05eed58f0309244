"""Wrong: after the calls have all answered, a fixed 0.6 s pause "to let them settle": every call
waits for nothing, though the docstrings ask for the calls all at the same time (the whole run
as long as the slowest call)."""
# fails only: test_a_call_that_raises_a_baseexception_stops_the_others_too, test_a_failing_call_stops_the_others_before_the_error_reaches_the_caller, test_every_call_runs_at_the_same_time[many], test_every_call_runs_at_the_same_time[two], test_get_many_runs_every_call_at_the_same_time[many], test_get_many_runs_every_call_at_the_same_time[two], test_get_many_waits_for_the_calls_with_no_time_limit_and_no_checks_of_its_own, test_waits_for_the_calls_with_no_time_limit_and_no_checks_of_its_own
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_then_pause(fetch, keys):
    tasks = [asyncio.create_task(fetch(key)) for key in keys]
    await asyncio.sleep(0.6)  # "long enough for the calls"
    return [task.result() for task in tasks]


# Task 1: run a gather from plain code
def fetch_all_sync(fetch, ids):
    """A plain function (not async): call `await fetch(id)` for every id (an id listed twice is
    fetched twice), all at the same time.

    Run the calls on one event loop, and return a list of the results in the same order as `ids`;
    the event loop is closed when it returns or raises.
    """

    return asyncio.run(fetch_then_pause(fetch, ids))


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

        return self._runner.run(fetch_then_pause(self._fetch, keys))
