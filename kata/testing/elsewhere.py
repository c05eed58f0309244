"""What the tests ask of the process the code under test runs in, when it is not theirs.

In one process the code runs beside the tests and `process` is None: each module looks for itself
(its loop, its threads, its tasks). In judge mode the kata's plugin sets `process` to the judge's
session (kata.judge.session.JudgeSession), which asks the sandbox; what the sandbox answers can
fail a test, never pass one.

- kata.testing.letting_run: wait there, as the code sees time (`let_run`);
- kata.testing.threads: how many threads it has, and when it counted (`threads_running`);
- kata.testing.order: when its loop was handed two outcomes, and what starved it (`handed_over`);
- kata.testing.hang_guard: where the code's tasks wait, after a test gave up (`where`);
- kata.testing.fakes: which crossed call a fake's call serves (`serving`).
"""

from __future__ import annotations

from typing import Protocol


class StudentsProcess(Protocol):
    async def let_run(self, seconds: float) -> None: ...

    async def threads_running(self) -> tuple[int, float]: ...

    def handed_over(
        self, first: int, later: int
    ) -> tuple[float, float, list[tuple[float, float]]] | None: ...

    def where(self, waiting: bool = False) -> list[tuple[str, int, str]]: ...

    def serving(self) -> int | None: ...


process: StudentsProcess | None = None
