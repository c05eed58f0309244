"""Attack: hang in exercise 01 through every interruption (pytest-timeout's alarm, the hang backstop's
os._exit), so only the grader's hard time limit ends it. Its exercise 02 is correct."""

import contextlib
import os
import signal
import time


async def greet(fetch_name, user_id):
    os._exit = lambda *args: None
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    until = time.monotonic() + 100
    while time.monotonic() < until:
        with contextlib.suppress(BaseException):
            time.sleep(0.5)


async def shipping_label(get_order, get_customer, get_address, order_id):
    raise NotImplementedError


def make_requests(fetch_user, user_ids):
    raise NotImplementedError
