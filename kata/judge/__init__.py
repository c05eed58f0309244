"""Judge mode: the tests run here, the learner's module in another process (the sandbox).

    link.py   starting the sandbox's host process, the channel to it, and restarting it
    beat.py   the judge's own watch on the learner's event loop: a ping it must answer in time
    fixture.py  what the kata's pytest plugin uses: `ex` as a proxy, and one test's start and end

Everything a verdict rests on is observed here: the services the tests hand over are judge
objects (their call logs and peaks are written here, as the calls arrive), timing is read from
the judge's clock, values come back as plain data. What the sandbox reports about itself (tasks
it left running, coroutines it never awaited) can only add a failure.
"""
