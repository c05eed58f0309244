"""The sandbox: where a submission's code runs when a class is graded, and what it cannot do there.

    choose.py      which kind works on this machine (bubblewrap, an unprivileged user, or none),
                   and the one line that says which protections are in force
    bubblewrap.py  the bubblewrap command line: what the code sees, read-only, and nothing else
    accounts.py    one unprivileged uid per job slot, claimed with a lock so two graders never share one
    processes.py   finding every process a sandbox holds, and killing them
    jail.py        one running sandboxed process: its strays (killed when an exercise ends) and the end
    memory.py      a memory cgroup per sandbox: one budget for all its processes, where the machine allows it

The grader (kata.batch) decides what runs and reads only the results it is sent; everything a
submission could use to change a grade (the kata, the virtualenv, the output folder, the cache,
other submissions, the grader's processes, the network) is outside what the sandbox can reach.
"""

from kata.sandbox.choose import Sandbox, choose_sandbox
from kata.sandbox.jail import Jail

__all__ = ["Jail", "Sandbox", "choose_sandbox"]
