"""How many calls were in flight, and when, from their recorded start and end times.

Anything with `start` and `end` counts as a call: a fake's `Call`, a loopback server's request.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class Span(Protocol):
    start: float
    end: float


def most_at_once(calls: Sequence[Span]) -> int:
    """The most of these calls that were in flight at the same moment (an end before a start)."""
    moments = sorted([(c.start, 1) for c in calls] + [(c.end, -1) for c in calls])
    running = most = 0
    for _, step in moments:
        running += step
        most = max(most, running)
    return most


@dataclass
class EmptySlot:
    seconds: float = 0.0
    began: float = 0.0
    fewest: int = 0  # the fewest calls in flight during it
    waiting: list = field(default_factory=list)  # what waited when it began, by when it began to


def longest_empty_slot(
    calls: Sequence[Span], waits: Sequence[tuple[float, float, Hashable]], limit: int
) -> EmptySlot:
    """The longest stretch in which fewer than `limit` calls were in flight while something waited
    to start: each of `waits` is (since, until, what), waiting from `since` until `until`.

    Looked at each moment a call started or ended; a stretch still open at the last is not counted.
    """
    moments = sorted({c.start for c in calls} | {c.end for c in calls})
    longest, began = EmptySlot(), None
    for moment in moments:
        running = sum(1 for c in calls if c.start <= moment < c.end)
        waiting = sorted((since, what) for since, until, what in waits if since <= moment < until)
        if running < limit and waiting:
            if began is None:
                began, fewest, waited = moment, running, waiting
            fewest = min(fewest, running)
        elif began is not None:
            if moment - began > longest.seconds:
                longest = EmptySlot(moment - began, began, fewest, waited)
            began = None
    return longest
