"""How long a test holds calls that must all be in flight at once before it gives up.

A test that counts how many calls (or requests) the code keeps in flight holds each one until all
of them are in, so that the count does not depend on how fast a busy machine starts them. Code
with a cap of its own stops starting calls while the ones it let start are held, and must be let
go; correct code on a busy machine starts them slowly (judge mode's crossings at a load of 8 per
core: 6 to 30 of 150 calls in the first second), and must not be. So a hold lasts `longest` s from
the first call, goes on while calls are still starting (each within STILL_STARTING s of the one
before), and LOOK_AGAIN s more when the timer that asks ran out late (the hold's own loop was kept
from its core: calls that reached it meanwhile start only on its next turns); STARTING_AT_MOST s
past `longest` at most. A hold that gave up while calls were still starting (`still_starting`) is
the machine's doing: a failure on time, run again, never a cap.

    starts = StartsSeen(longest)
    starts.started(clock.perf_counter())  # as each call starts
    left = starts.left(now, late=now - due)  # as the hold's timer runs out: 0 or less, give up
"""

from __future__ import annotations

STILL_STARTING = 0.2
STARTING_AT_MOST = 1.5
LOOK_AGAIN = 0.05


class StartsSeen:
    """The starts of the calls one hold waits for, and when it gave up on the rest."""

    def __init__(self, longest: float) -> None:
        self.longest = longest
        self.first: float | None = None  # when the first call started
        self.last: float | None = None  # when the latest call started before the hold gave up
        self.gave_up: float | None = None  # when the hold gave up, if it did

    def started(self, now: float) -> None:
        if self.first is None:
            self.first = now
        if self.gave_up is None:
            self.last = now

    def left(self, now: float, late: float = 0.0) -> float:
        """Seconds the hold goes on from `now` (0 or less: give up); `late`: how long after it
        was due the timer that asks ran out."""
        if self.gave_up is not None:
            return 0.0
        first = self.first if self.first is not None else now
        last = self.last if self.last is not None else first
        due = max(first + self.longest, last + STILL_STARTING)
        if late > LOOK_AGAIN:
            due = max(due, now + LOOK_AGAIN)
        return min(due, first + self.longest + STARTING_AT_MOST) - now

    def give_up(self, now: float) -> None:
        if self.gave_up is None:
            self.gave_up = now

    @property
    def still_starting(self) -> bool:
        """Whether the hold gave up while calls were still starting: started slowly by a busy
        machine, not held back by a cap of the code's own."""
        if self.gave_up is None or self.last is None:
            return False
        return self.gave_up - self.last < STILL_STARTING
