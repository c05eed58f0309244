"""Attack: a double-forked process that burns a core for minutes after its grading is over.

A CPU-time limit counts per process: before reaching it, the burner hands over to a fresh one.
"""

import time

from kit import DEADLINE, background, once, spawn, what_happened

HAND_OVER = 15.0  # seconds of burning per process, under any CPU-time limit a grader is likely to set


def burn(until: str) -> None:
    end = float(until)
    started = time.monotonic()
    while time.time() < end:
        if time.monotonic() - started > HAND_OVER:
            spawn("burn", until, double_fork=True)
            return


def start() -> None:
    spawn("burn", str(time.time() + DEADLINE - 5), double_fork=True)


async def greet(fetch_name, user_id):
    return f"Hello, {await fetch_name(user_id)}!"


async def shipping_label(get_order, get_customer, get_address, order_id):
    """Not written: its failure message says what this attack did, for the test to see."""
    raise AssertionError(what_happened())


def make_requests(fetch_user, user_ids):
    raise NotImplementedError


if __name__ == "__main__":
    background(globals())
elif once("burns_cpu"):
    start()
