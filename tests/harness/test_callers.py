"""kata.remote.callers: the tasks the sandbox keeps to run each of the judge's callers' calls are
never taken for the learner's tasks, from their first step to their last."""

import asyncio

from kata.remote.callers import CallersTasks


async def a_call(_message):
    await asyncio.sleep(0)


async def idle_callers_task(callers):
    task = callers.start(1, {"op": "call"})
    for _ in range(5):  # its call runs, and it waits for the next
        await asyncio.sleep(0)
    assert task in callers.tasks() and not task.done()
    return task


async def test_a_callers_task_told_to_end_serves_until_it_has_ended():
    # A test that gathers calls into the learner's code ends one caller while another's call is
    # ending: the first's task, told to end but not yet ended, was taken for the learner's.
    callers = CallersTasks(a_call)
    task = await idle_callers_task(callers)

    callers.end((1, asyncio.get_running_loop()))

    assert not task.done()
    assert task in callers.tasks(), "told to end, it still serves the judge until it has ended"
    await asyncio.wait_for(task, 1)
    assert task not in callers.tasks()


async def test_callers_tasks_retired_with_the_test_serve_until_they_have_ended():
    callers = CallersTasks(a_call)
    task = await idle_callers_task(callers)

    callers.retire()

    assert task in callers.tasks()
    await asyncio.wait_for(task, 1)
    assert task not in callers.tasks()
