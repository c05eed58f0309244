"""Child runs at once, and a run that has the machine to itself.

The self-check starts 6 child runs per core: far more load than a learner's one `grade.py`. A
correct answer that failed on time twice under that load (a loop frozen 0.11 s, just over its
limit, on 3.14 at 6 runs per core) is run once more alone: no new child run starts until it has
run, and it waits for the runs already going to end (at most `patience` seconds: a long harness
run does not hold it for ever). Only the self-check asks for such a run, and only for what must
pass (kata.selfcheck); a learner's and an instructor's runs never wait here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

PATIENCE = 60.0  # seconds a run alone waits for the runs already going to end


class Turns:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running = 0  # ordinary runs going now
        self._alone_wanted = 0  # runs alone waiting or going: no ordinary run starts meanwhile
        self._one_alone = threading.Lock()  # one run alone at a time

    @contextmanager
    def ordinary(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: self._alone_wanted == 0)
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    @contextmanager
    def alone(self, patience: float = PATIENCE) -> Iterator[None]:
        with self._changed:
            self._alone_wanted += 1
        try:
            with self._one_alone:
                with self._changed:
                    self._changed.wait_for(lambda: self._running == 0, timeout=patience)
                yield
        finally:
            with self._changed:
                self._alone_wanted -= 1
                self._changed.notify_all()

    @property
    def running(self) -> int:
        with self._changed:
            return self._running


TURNS = Turns()  # the runs of this process (kata.runner)
