"""What the harness tests look for after a run ends: processes still running with a marker."""

from __future__ import annotations

import time

import psutil


def alive_with(marker: str) -> list[int]:
    """Running (not zombie) processes with `marker` in one of their command line's words."""
    alive = []
    for process in psutil.process_iter(["cmdline", "status"]):
        words = process.info["cmdline"] or []
        if process.info["status"] != psutil.STATUS_ZOMBIE and any(marker in word for word in words):
            alive.append(process.pid)
    return alive


def still_alive_after(marker: str, seconds: float) -> list[int]:
    """The processes with `marker` that are still running after waiting up to `seconds` for them to end."""
    deadline = time.monotonic() + seconds
    while (left := alive_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left
