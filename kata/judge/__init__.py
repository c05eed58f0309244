"""Judge mode: the tests run here, the learner's module in another process (the sandbox).

    link.py      starting the sandbox's host process, the channel to it, and restarting it
    session.py   what the kata's pytest plugin uses: `ex` as a proxy, one test's start and end
    coverage.py  the exercises judge mode serves yet, and why the others wait

Everything a verdict rests on is observed here: the services the tests hand over are judge
objects (their call logs and peaks are written here, as the calls arrive), timing is read from
the judge's clock, values come back as plain data. What the sandbox reports about itself (a
frozen loop, tasks it left running, coroutines it never awaited) can only add a failure; where
a frozen loop is the lesson (04), the tests time the learner's own code's calls to the judge
instead (kata.testing.ticker.LearnersTicker).
"""
