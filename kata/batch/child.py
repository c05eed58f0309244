"""The grading child: runs the kata's own tests against one submission, reporting over an inherited pipe.

Started by kata.batch.isolation as `python -I -B -c <bootstrap>` inside the sandbox (kata.sandbox).
Its orders arrive on stdin as one JSON line (never in argv, where learner code could
read them): the pytest arguments, the pipe's file descriptor, the run's nonce, the
resource limits and whether it is a judge (kata.judge: then the learner's code runs in a
host process it starts, never in this one). stdin is then closed, the kernel's key management
is taken away (kata.sandbox.syscalls: a seccomp filter every descendant inherits, the judge's
host too), the limits are set (soft and hard) and only then does pytest start and, later, load
learner code.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time

import pytest

from kata.report import ReportWriter
from kata.sandbox.syscalls import deny_keyrings, deny_ways_past_the_limits, not_dumpable

LIMITS = {
    "cpu_seconds": resource.RLIMIT_CPU,
    "memory_bytes": resource.RLIMIT_AS,
    "open_files": resource.RLIMIT_NOFILE,
    "file_bytes": resource.RLIMIT_FSIZE,
    "processes": resource.RLIMIT_NPROC,
    "core_bytes": resource.RLIMIT_CORE,
}


MESSAGE_CHARS = 4000  # kata.batch.isolation keeps this much of a message


class ChannelWriter(ReportWriter):
    """ReportWriter whose lines go to the inherited pipe, each tagged with the run's nonce."""

    def __init__(self, fd: int, nonce: str, *, hang_backstop: float) -> None:
        super().__init__(None, hang_backstop=hang_backstop, on_hang="skip-exercise")
        self.fd = fd
        self.nonce = nonce

    def _emit(self, record: dict) -> None:
        # "at": when, on the machine's boot clock, so the grader can tell which processes an
        # exercise left behind (started before the next one began) from the next one's own.
        record = {**record, "nonce": self.nonce, "at": time.clock_gettime(time.CLOCK_BOOTTIME)}
        message = record.get("message")
        if isinstance(message, str) and len(message) > MESSAGE_CHARS:
            # The grader drops a line longer than it accepts: cut here, so the result still counts.
            record["message"] = f"{message[:MESSAGE_CHARS]} ... [cut: {len(message):,} characters in all]"
        super()._emit(record)

    def write_line(self, line: str) -> None:
        data = line.encode("utf-8", errors="replace")
        while data:
            written = os.write(self.fd, data)
            data = data[written:]


def set_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        kind = LIMITS[name]
        _, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))


def keep_to_itself() -> None:
    """A judge shares the sandbox with the learner's code, and where there is a single uid (a user
    namespace) with the same uid: not dumpable, no process without privileges can read its memory
    or open its descriptors through /proc, or trace it (the result pipe and nonce stay its own)."""
    not_dumpable()


def main() -> int:
    orders = json.loads(sys.stdin.readline())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    if orders.get("judge"):
        keep_to_itself()
    with contextlib.suppress(OSError):  # the grader found out once, before the batch, and said so
        deny_keyrings()
        deny_ways_past_the_limits()
    set_limits(orders["limits"])
    writer = ChannelWriter(orders["fd"], orders["nonce"], hang_backstop=orders["backstop"])
    args = orders["args"]
    del orders
    return int(pytest.main(args, plugins=[writer]))
