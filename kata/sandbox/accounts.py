"""One unprivileged uid per job slot, so that sandboxes can neither signal nor read each other.

A uid is claimed by holding an exclusive lock on a file in a root-only folder
(/run/async-kata-uids); two graders on one machine (or two job slots of one grader) never
share a uid. The uids come from a range no account in /etc/passwd uses.

A uid that still has processes when its lock is free is skipped, never killed: they may be
leftovers of a grader that was killed (where no PID namespace ended them), but they may as well
be a live sandbox of a grader that keeps its locks elsewhere (in a chroot or a container with a
/run of its own), and killing those would fail another class's students. Two such graders can
still give one uid to two sandboxes that start at the same moment (neither has processes yet):
graders that share a machine must share /run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

from kata.sandbox import processes

FIRST_UID = 61_000
LAST_UID = 61_999
# One place for every grader on the machine, whatever its TMPDIR: uids are handed out only as
# root, and /run is root's (a grader with another TMPDIR would otherwise claim a uid in use).
LOCKS = Path("/run/async-kata-uids") if Path("/run").is_dir() else Path("/tmp/async-kata-uids")


class NoFreeAccount(RuntimeError):
    pass


def _taken_in_passwd() -> set[int]:
    taken: set[int] = set()
    with contextlib.suppress(OSError):
        for line in Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split(":")
            if len(parts) > 2 and parts[2].isdigit():
                taken.add(int(parts[2]))
    return taken


class Accounts:
    """Hands out uids to job slots; `claim()` blocks nobody: it raises when the range is used up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}  # uid -> fd of its lock file

    def claim(self) -> int:
        with self._lock:
            LOCKS.mkdir(mode=0o700, exist_ok=True)
            avoid = _taken_in_passwd() | set(self._held)
            for uid in range(FIRST_UID, LAST_UID + 1):
                if uid in avoid:
                    continue
                fd = os.open(LOCKS / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                if processes.of_user(uid):  # someone's processes: not ours to kill, not ours to use
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise NoFreeAccount(f"no free uid between {FIRST_UID} and {LAST_UID} for a sandbox")

    def release(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid, None)
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the lock
