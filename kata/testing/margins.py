"""How close each timing judgment came to its bound, for the flake benchmark.

When KATA_MARGINS names a file, each timing check appends one JSON line:
    {"check": ..., "observed": ..., "bound": ..., "ratio": ..., "test": ..., "target": ..., "unit": "s"}
`ratio` is observed/bound for an upper bound and bound/observed for a lower bound, so
a ratio of 1.0 is the edge in both cases: the larger, the nearer a false verdict.
Nothing is written when the variable is not set (every ordinary run).
"""

from __future__ import annotations

import json
import os

ENV = "KATA_MARGINS"
target = ""  # the folder under test; set by the plugin
broken: list[str] = []  # the checks the current test broke; the plugin clears it before each test
gave_up_on: list[str] = []  # those of them that were the test giving up waiting (gave_up)


def record(check: str, observed: float, bound: float, *, upper: bool = True, unit: str = "s") -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    if upper:
        ratio = observed / bound if bound > 0 else float("inf")
    else:
        ratio = bound / observed if observed > 0 else float("inf")
    line = {
        "check": check,
        "observed": round(observed, 4),
        "bound": round(bound, 4),
        "ratio": round(ratio, 4),
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        "target": target,
        "unit": unit,
        "upper": upper,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def over(observed: float, bound: float, check: str, unit: str = "s") -> bool:
    """Whether `observed` broke the upper bound `bound` (observed >= bound); records how near it came.

    Tests write `if margins.over(run.elapsed, limit + LATE, "..."): raise AssertionError(...)`,
    so every timing judgment shows up in the flake benchmark under its own name.
    """
    record(check, observed, bound, unit=unit)
    if observed >= bound:
        broken.append(check)
    return observed >= bound


def under(observed: float, bound: float, check: str, unit: str = "s") -> bool:
    """Whether `observed` broke the lower bound `bound` (observed < bound); records how near it came."""
    record(check, observed, bound, upper=False, unit=unit)
    if observed < bound:
        broken.append(check)
    return observed < bound


def short_of(at_once: int, wanted: int, check: str) -> bool:
    """Whether fewer than `wanted` calls were seen in flight at once.

    A busy machine can cause this in correct code: a call that starts late (its process waited
    for a core, or its request for the other process) may start after an earlier one ended. So a
    shortfall counts as a failure on time, like a broken bound, and gets a second run; a mistake
    falls short the same way twice. A count has no nearness to record: it is not written to
    KATA_MARGINS.
    """
    if at_once < wanted:
        broken.append(check)
    return at_once < wanted


def cut_off(check: str) -> None:
    """Note that the code under test's own time limit cut off an answer expected well inside it
    (a fast call lost, a quick reply turned into a timeout).

    A busy machine can do this to correct code: a reply that should take milliseconds can take
    longer than the limit when its process waits for a core, or (judge mode) for the other
    process. So it counts as a failure on time, like a broken bound, and gets a second run; a
    mistake that cuts answers off (a limit that also counts the wait for a slot, one limit for
    a whole batch) does it the same way twice. Nothing is written to KATA_MARGINS.
    """
    broken.append(check)


def outlasted(check: str) -> None:
    """Note that the code under test let a timer of its own run out where correct code has moved
    on long before (a wait set after its time limit ran out, which ran out too before it gave up).

    A busy machine can do this to correct code that keeps a heartbeat: a loop kept from its core
    for a heartbeat's period lets that heartbeat's timer run out first. So it counts as a failure
    on time, and gets a second run; code that waits on purpose does it the same way twice.
    """
    broken.append(check)


def crossed_late(check: str) -> None:
    """Note that in judge mode the code's answer reached the test after something it must come
    before (a download that ended before the tasks that run it came back).

    A busy machine can hold an answer up on its way from the learner's process for longer than
    that took, so it counts as a failure on time, and gets a second run; code that waits for it
    on purpose does it the same way twice. In one process there is no way to cross: never used.
    """
    broken.append(check)


def gave_up(waited: float, limit: float, check: str) -> None:
    """Note that the test gave up waiting for the code under test after `limit` s, far longer
    than correct code takes (a hang guard: the test fails in plain words instead of hanging).

    A busy machine can stretch correct code that far, so it counts as a failure on time; code
    that hangs does it every time. Like a timeout, it is run a second time only when the machine
    is busy: a learner whose code hangs waits for the limit once, not twice.
    """
    record(check, waited, limit)
    broken.append(check)
    gave_up_on.append(check)


def unanswered(waited: float, what: str, check: str) -> AssertionError:
    """The error to raise when, in judge mode, the learner's process had not answered a question
    of the test's `waited` s later, so the test could not see `what` ("how ... woke"): it cannot
    pass without it, and the code is not to blame. A failure on time, as `gave_up`: a machine far
    too busy does this; a frozen loop fails on its own finding first."""
    gave_up(waited, waited, check)
    return AssertionError(
        f"This test could not see {what}: the process running your code had not answered it "
        f"{waited:.1f} s later, as on a machine far too busy to judge. This says nothing about your "
        "code: run the check again when the machine is quieter."
    )


def clear() -> None:
    """Forget what the last test broke (the plugin, before each test)."""
    broken.clear()
    gave_up_on.clear()


def only_gave_up() -> bool:
    """Whether every check the current test broke was the test giving up waiting."""
    return bool(broken) and all(check in gave_up_on for check in broken)
