"""Which exercises judge mode serves yet, why the others wait, and what rests on the sandbox.

For an exercise listed in NOT_YET (none now), some test would still look at something that lives
in the learner's process in judge mode, so a verdict there could differ from the one-process
verdict. The self-check compares both modes for every other exercise (each
solution, stub and variant must get the same verdict from every test); batch grading uses
judge mode only where the comparison holds, and grades the others in one process.

Served, with parts that only the sandbox sees (its word can fail a test, never pass it; a
submission that rewrites its own host can hide it): BY_THE_SANDBOX below. Everything else a
verdict rests on is the judge's own observation.
"""

NOT_YET: dict[str, str] = {}

# What only the learner's process can see, per exercise: its host reports it.
BY_THE_SANDBOX = {
    "every exercise": (
        "a frozen event loop where blocking is not the lesson, tasks left running, coroutines never "
        "awaited, lost task errors, unclosed sessions, a patched clock"
    ),
    "02_gather": (
        "a call left running after the function returned (fire and forget) that no longer calls "
        "the judge's services: the sandbox reports the task"
    ),
    "every exercise where blocking or polling is the lesson (04, 10)": (
        "that the judge's calls all run on one event loop in the sandbox, and how often that loop "
        "woke up: a host rewritten to start each call on a loop of its own (in a thread of its "
        "own) makes blocking code look concurrent from outside, and one that hides its wake-up "
        "count makes polling look like waiting (a red team passed 04's task 1 and 10's task 2 "
        "both ways; the scan flags the rewrites it used)"
    ),
    "every exercise that judges a wait by its wake-ups or its timers (03, 05, 13, 14, 15, 16, 18, 21)": (
        "how often the learner's tasks woke (and its callbacks ran), and the timers its file set "
        "through asyncio, sleeps included: the sandbox's wake-up watch reports them. A host "
        "rewritten to report none lets a poll pass (in 15 and 21 while every slot is busy; in 03, "
        "05, 13, 14 and 16 while the calls it cancelled are held stopping, a poll until they are "
        "done or until a deadline of its own, or a sleep raced against them), and a limit of its own "
        "(a timeout longer than the late hold there; any in 14 and 16). A fixed wait for cancelled "
        "calls, and a limit that cuts off a call, are still the judge's own sight"
    ),
    "04_blocking": (
        "task 1's first two tests fail blocking code only through the sandbox's loop guard (the "
        "task's third test sees it itself: two calls at once hold each other up, unless each "
        "runs on a loop of its own, above); task 2's second "
        "test times ticks of the learner's own code, which code that answers them from another "
        "thread while its loop is blocked can fake (its first test sees blocking itself: "
        "reminders go out late); and how many threads the learner's process runs while 36 "
        "reminders count down (a pool of its own, as large as the list, gives each wait a thread)"
    ),
    "06_run_from_sync": (
        "which event loops the learner's plain code made and which it closed: the sandbox says so "
        "as it happens (the judge mirrors each loop, and runs the calls from it there, so whether "
        "the calls shared one loop and ran at the same time is the judge's own observation)"
    ),
    "09_aiohttp": (
        "sessions opened one per URL, all kept open and closed together after the last reply, look "
        "like one session to the server: only the sandbox's count catches them"
    ),
    "16_queue_workers": (
        "a worker left waiting in queue.get() calls nothing of the judge's; a worker left running "
        "that still calls handle the judge sees itself"
    ),
    "18_event": (
        "whether Progress.wait_until polls its count (the judge sees when each waiter returns, "
        "early or late; tasks 1-2 are judged by the test's own Event)"
    ),
    "22_capstone": (
        "sessions made per page on one shared connector reuse connections as one session does: "
        "only the sandbox's count tells them apart"
    ),
}


def judged(stem: str) -> bool:
    """Whether the self-check compares the two modes for this exercise."""
    return stem not in NOT_YET
