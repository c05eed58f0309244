"""Which exercises judge mode serves yet, and why each of the others waits.

For an exercise listed here, some test still looks at something that lives in the learner's
process in judge mode (their event loop, their tasks), so a verdict there could differ from
the one-process verdict. The self-check compares both modes for every other exercise (each
solution, stub and variant must get the same verdict from every test); batch grading uses
judge mode only where the comparison holds.
"""

NOT_YET = {
    "06_run_from_sync": (
        "its tests check which event loops the learner's code made and closed; those loops live in "
        "the sandbox, and the judge needs a mirror of each (planned: one judge loop per sandbox loop)"
    ),
    "10_cpu_bound": (
        "its pool test checks that the loop stayed free with a ticker on the judge's loop, which "
        "cannot see the sandbox's loop (planned: two calls at once, timed by the judge)"
    ),
    "16_queue_workers": (
        "its tests check for workers left waiting with asyncio.all_tasks() on the judge's loop; the "
        "workers live in the sandbox (planned: the host lists the tasks started under a call)"
    ),
    "18_event": (
        "its tests catch polling by watching the judge's loop (WakeWatch, BusyWatch); the polling "
        "happens in the sandbox (planned: count the learner's asks of the judge's Event)"
    ),
}


def judged(stem: str) -> bool:
    """Whether the self-check compares the two modes for this exercise."""
    return stem not in NOT_YET
