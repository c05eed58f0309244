"""Which exercises judge mode serves yet, and why each of the others waits.

For an exercise listed here, some test still looks at something that lives in the learner's
process in judge mode (their event loop, their tasks), so a verdict there could differ from
the one-process verdict. The self-check compares both modes for every other exercise (each
solution, stub and variant must get the same verdict from every test); batch grading uses
judge mode only where the comparison holds.

Served, with one part that only the sandbox can see: 16_queue_workers. A worker left waiting in
`queue.get()` makes no call to the judge, so "no worker is left running" rests on the sandbox's
word (its host notes the learner's tasks still running in the step the learner's function
ended). That word can only fail a test; a worker left running that still calls `handle` (still
running when the function returned, or starting within a moment after) the judge sees itself.
"""

NOT_YET = {
    "06_run_from_sync": (
        "its tests check which event loops the learner's code made and closed; those loops live in "
        "the sandbox, and the judge needs a mirror of each (planned: one judge loop per sandbox loop)"
    ),
    "09_aiohttp": (
        "test_one_session_is_shared_by_every_request counts the sessions inside the learner's process; "
        "its 4 requests run at once, so one session and four look the same from the server"
    ),
}


def judged(stem: str) -> bool:
    """Whether the self-check compares the two modes for this exercise."""
    return stem not in NOT_YET
