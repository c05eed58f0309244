"""Judge mode: the tests run here, the learner's module in another process (the sandbox).

    link.py      starting the sandbox's host process, the channel to it, and restarting it
    beat.py      the judge's ping of the learner's event loop (a hygiene finding: it is answered
                 by the sandbox's host, so where blocking is the lesson the tests time the
                 learner's own calls instead: kata.testing.ticker.LearnersTicker)
    session.py   what the kata's pytest plugin uses: `ex` as a proxy, one test's start and end
    coverage.py  the exercises judge mode serves yet, and why the others wait

Everything a verdict rests on is observed here: the services the tests hand over are judge
objects (their call logs and peaks are written here, as the calls arrive), timing is read from
the judge's clock, values come back as plain data. What the sandbox reports about itself (tasks
it left running, coroutines it never awaited) can only add a failure.
"""
