"""Text pictures of when calls ran, for failure messages.

fetch_user(1) |##########                              | 0.00-0.20 s
fetch_user(2) |          ##########                    | 0.20-0.40 s
"""

from __future__ import annotations

from collections.abc import Sequence

from kata.testing.fakes import Call

WIDTH = 40
LABEL_WIDTH = 22


def _row(label: str, start: float, end: float, span: float) -> str:
    left = round(start / span * WIDTH)
    right = max(left + 1, round(end / span * WIDTH))
    bar = " " * left + "#" * (right - left) + " " * (WIDTH - right)
    label = label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "~"
    return f"  {label:<{LABEL_WIDTH}} |{bar[:WIDTH]}| {start:4.2f}-{end:4.2f} s"


def observed(calls: Sequence[Call], name: str, span: float | None = None, origin: float | None = None) -> str:
    """Draw the calls as they really ran, time 0 being `origin` (the moment the test first asked,
    say, so that a wait before the first start shows), else the first call's start."""
    if not calls:
        return "  (no calls were made)"
    first = min(c.start for c in calls)
    origin = first if origin is None or origin > first else origin
    ends = [(c.end if c.end is not None else c.start) - origin for c in calls]
    span = max(span or 0.0, max(ends), 1e-3)
    return "\n".join(
        _row(c.label(name), c.start - origin, end, span) for c, end in zip(calls, ends, strict=True)
    )


def expected_together(calls: Sequence[Call], name: str, delays: Sequence[float], span: float) -> str:
    """Draw the same calls as they would run concurrently: all starting at 0."""
    return "\n".join(_row(c.label(name), 0.0, d, span) for c, d in zip(calls, delays, strict=True))


def compare(calls: Sequence[Call], name: str, delays: Sequence[float]) -> str:
    """Expected picture above the observed one, on the same time scale."""
    origin = min((c.start for c in calls), default=0.0)
    span = max([max(delays, default=0.0)] + [(c.end or c.start) - origin for c in calls])
    return (
        "expected (all at once):\n"
        + expected_together(calls, name, delays, span)
        + "\nobserved:\n"
        + observed(calls, name, span)
    )
