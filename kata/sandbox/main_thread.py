"""The host's main thread: its serving event loop, paused to run the learner's imports.

In one process the tests import the learner's file in Python's main thread, with no event loop
running there, so what a correct answer does at import works: `signal.signal(...)` (only the
main thread may set a handler), `asyncio.run(...)`. The host serves the judge's plain calls in
threads of its own, named MainThread but not Python's main thread, and its main thread runs the
loop that serves the judge's async calls. `MainThread.run(job)` hands a job to the main thread:
its loop stops between two steps (what it runs waits, as a loop whose thread runs plain code
does), the job runs with no event loop running or set, then the loop goes on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class MainThread:
    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, job: Callable[[], T]) -> T:
        """`job()` on the main thread, between two steps of its loop; its result or its error.
        Called on the main thread itself, or before `serve` began, it runs where it is called."""
        loop = self._loop
        if threading.current_thread() is threading.main_thread() or loop is None or loop.is_closed():
            return job()
        done: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((job, done))
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # closed meanwhile: the process is ending
            return job()
        return done.result()

    def serve(self, main: Coroutine[Any, Any, T]) -> T:
        """As `asyncio.run(main)`, in the main thread, running the jobs handed to it meanwhile."""
        with asyncio.Runner() as runner:
            loop = self._loop = runner.get_loop()
            task = loop.create_task(main)
            while True:
                try:
                    return loop.run_until_complete(task)
                except RuntimeError:
                    if task.done():
                        raise  # main's own error
                    # Stopped for a job (run_until_complete says "Event loop stopped before
                    # Future completed"): the task waits where it was.
                self._run_jobs(loop)

    def _run_jobs(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                job, done = self._jobs.get_nowait()
            except queue.Empty:
                return
            asyncio.set_event_loop(None)  # as in one process: the serving loop is not the learner's
            try:
                done.set_result(job())
            except BaseException as error:  # every error goes to the caller, as it came
                done.set_exception(error)
            finally:
                asyncio.set_event_loop(loop)
