"""The static scan flags code worth a human's second look, and stays quiet on honest answers.

Honest code is every reference solution, every stub and every recorded variant (correct or an
honest mistake). Cheating code is a corpus of exercise files that each do one thing to reach the
grader, the tests or the machine, in several spellings each: every one must be flagged on the
line that does it (marked `# <-` below).
"""

import base64
import codecs
import re
import zlib
from pathlib import Path
from textwrap import dedent

import pytest

from kata.batch.scan import MAX_FLAGS_PER_FILE, scan_files
from kata.catalog import REPO_ROOT

# Variants recorded as cheats, not as honest mistakes (each fails its tests too): they must be
# flagged, not pass quietly. With what the flags must say.
RECORDED_CHEATS = {
    "tests/variants/02_gather/wrong_always_equal.py": [
        "__eq__ that always answers the same",
        "patches time.perf_counter",
    ],
    # A ClientSession of its own on a client port the given session had just used (a helper's attack).
    **{
        f"tests/variants/{name}.py": ["opens network connections of its own (import socket)"]
        for name in (
            "09_aiohttp/wrong_fetch_json_own_session_on_a_recycled_port",
            "20_aiohttp_in_depth/wrong_error_reply_not_released_recycled_ports",
            "20_aiohttp_in_depth/wrong_own_session_with_timeout_on_a_recycled_port",
            "21_rate_limit/wrong_own_session_on_recycled_ports",
            "22_capstone/wrong_fetch_links_own_session_on_a_recycled_port",
        )
    },
    # A timer of the process left armed, its handler doing the work after the test (caught by
    # kata.testing.signal_timers; the scan flags it too).
    "tests/variants/02_gather/wrong_audit_left_in_a_timer_of_the_process.py": [
        "handles signals (import signal)"
    ],
    # The sandbox's own objects reached through what the judge lends, no name spelled out (a red
    # team, 2026-12-02): dir() with getattr, or inspect.getmembers and a frame type.
    "tests/variants/07_async_with/wrong_second_release_reported_closed_through_dir_of_the_pool.py": [
        "reaches into an object by a name computed at run time (getattr)"
    ],
    "tests/variants/07_async_with/wrong_second_release_reported_closed_through_inspect_getmembers.py": [
        "walks every attribute of the objects it is given (inspect.getmembers)",
        "reads stack frames (types.FrameType)",
    ],
}


def honest_files() -> dict[str, bytes]:
    paths = [
        *sorted((REPO_ROOT / "solutions").glob("*.py")),
        *sorted((REPO_ROOT / "exercises").glob("*.py")),
        *sorted((REPO_ROOT / "tests/variants").glob("*/*.py")),
    ]
    return {
        str(path.relative_to(REPO_ROOT).with_suffix("")): path.read_bytes()
        for path in paths
        if str(path.relative_to(REPO_ROOT)) not in RECORDED_CHEATS
    }


def test_no_solution_stub_or_recorded_variant_is_flagged():
    files = honest_files()
    assert len(files) > 300, "the honest corpus should hold every solution, stub and variant"
    flags = scan_files(files)
    assert flags == [], "honest code was flagged:\n" + "\n".join(flags)


@pytest.mark.parametrize("recorded", sorted(RECORDED_CHEATS))
def test_a_variant_recorded_as_a_cheat_is_flagged(recorded):
    path = REPO_ROOT / recorded
    flags = scan_files({path.parent.name: path.read_bytes()})
    for expected in RECORDED_CHEATS[recorded]:
        assert any(expected in flag for flag in flags), flags


# ---------------------------------------------------------------------------- the cheating corpus

ANSWER = '''
async def fetch_all(fetch_user, user_ids):
    """Every user, fetched at the same time."""
    return list(await asyncio.gather(*(fetch_user(user_id) for user_id in user_ids)))
'''

PAYLOAD = "import sys\nsys.modules['kata.plugin']._judge = lambda *args, **kwargs: None\n"


def cheat(body: str) -> str:
    return dedent(body).lstrip("\n") + ANSWER


CHEATS = {
    # ---- reaching into loaded modules
    "sys.modules replaces the judge": cheat("""
        import asyncio
        import sys

        sys.modules["kata.plugin"]._judge = lambda *args, **kwargs: None  # <-
    """),
    "sys.modules through an alias": cheat("""
        import asyncio
        import sys as s

        plugin = s.modules.get("kata.plugin")  # <-
    """),
    "from sys import modules": cheat("""
        import asyncio
        from sys import modules as loaded  # <-

        for name, module in list(loaded.items()):  # <-
            if name.endswith("plugin"):
                module._judge = print
    """),
    "getattr on __import__ with split names": cheat("""
        import asyncio

        loaded = getattr(__import__("s" + "ys"), "mod" + "ules")  # <-
        loaded["kata." + "plugin"]._judge = print
    """),
    "vars(sys)": cheat("""
        import asyncio
        import sys

        table = vars(sys)["modules"]  # <-
    """),
    "sys.__dict__": cheat("""
        import asyncio
        import sys

        table = sys.__dict__["modules"]  # <-
    """),
    "importlib imports the grader by a constant name": cheat("""
        import asyncio
        import importlib

        plugin = importlib.import_module("kata.plugin")  # <-
        plugin._judge = lambda *args, **kwargs: None  # <-
    """),
    # ---- the garbage collector
    "gc.get_objects finds the result pipe": cheat("""
        import asyncio
        import gc

        for thing in gc.get_objects():  # <-
            if type(thing).__name__ == "ChannelWriter":
                nonce = thing.nonce
    """),
    "from gc import get_objects as an alias": cheat("""
        import asyncio
        from gc import get_objects as g  # <-

        writers = [o for o in g() if hasattr(o, "nonce")]  # <-
    """),
    "gc.get_referrers": cheat("""
        import asyncio
        import gc

        def holders(value):
            return gc.get_referrers(value)  # <-
    """),
    "gc imported by name": cheat("""
        import asyncio

        collector = __import__("gc")
        everything = collector.get_objects()  # <-
    """),
    # ---- frames and tracebacks
    "sys._getframe reads the test's locals": cheat("""
        import asyncio
        import sys

        def expected():
            return sys._getframe(2).f_locals.get("expected")  # <-
    """),
    "inspect walks to the caller's globals": cheat("""
        import asyncio
        import inspect

        def peek():
            frame = inspect.currentframe()  # <-
            return frame.f_back.f_globals  # <-
    """),
    "inspect.stack": cheat("""
        import asyncio
        from inspect import stack as callers  # <-

        def test_locals():
            return [record.frame for record in callers()]  # <-
    """),
    "a traceback walked to its frames": cheat("""
        import asyncio

        def caller_locals():
            try:
                raise ValueError
            except ValueError as error:
                return error.__traceback__.tb_frame.f_back.f_locals  # <-
    """),
    "a coroutine's frame": cheat("""
        import asyncio

        async def spy():
            return asyncio.current_task().get_coro().cr_frame  # <-
    """),
    "a frame attribute fetched by a split name": cheat("""
        import asyncio
        import sys

        def back(frame):
            return getattr(frame, "f_" + "back")  # <-
    """),
    # ---- /proc and /dev/fd
    "/proc/self/fd listed": cheat("""
        import asyncio
        import os

        fds = os.listdir("/proc/self/fd")  # <-
    """),
    "/proc/<ppid>/cmdline with the path in pieces": cheat("""
        import asyncio
        import os

        where = "/pr" + "oc/" + str(os.getppid()) + "/cmdline"  # <-
        argv = open(where).read().split("\\0")  # <-
    """),
    "/proc joined with os.path.join": cheat("""
        import asyncio
        import os

        where = os.path.join(os.sep, "pr" + "oc", "self", "environ")  # <-
    """),
    "/proc in an f-string": cheat("""
        import asyncio
        import os

        pid = os.getpid()
        where = f"/{'pr'}{'oc'}/{pid}/fd"  # <-
    """),
    "/proc joined from a list": cheat("""
        import asyncio

        where = "/".join(["", "p" "roc", "self", "fd"])  # <-
    """),
    "/dev/fd through pathlib": cheat("""
        import asyncio
        from pathlib import Path

        pipes = list((Path("/dev") / "fd").iterdir())  # <-
    """),
    "/proc with % formatting": cheat("""
        import asyncio

        where = "%s%s/%d/cmdline" % ("/pr", "oc", 1)  # <-
    """),
    "/proc spelled backwards": cheat("""
        import asyncio

        where = "df/fles/corp/"[::-1]  # <-
    """),
    # ---- executing code, decoded data above all
    "exec of bytes.fromhex": cheat(f"""
        import asyncio

        exec(bytes.fromhex("{PAYLOAD.encode().hex()}"))  # <-
    """),
    "exec of base64": cheat(f"""
        import asyncio
        import base64

        exec(base64.b64decode("{base64.b64encode(PAYLOAD.encode()).decode()}"))  # <-
    """),
    "exec of rot13": cheat(f"""
        import asyncio
        import codecs

        exec(codecs.decode({codecs.encode(PAYLOAD, "rot13")!r}, "rot13"))  # <-
    """),
    "exec of zlib data kept in a variable": cheat(f"""
        import asyncio
        import zlib as z

        blob = {zlib.compress(PAYLOAD.encode())!r}
        code = z.decompress(blob)
        exec(code)  # <-
    """),
    "exec of character codes": cheat(f"""
        import asyncio

        exec("".join(chr(c) for c in {[ord(c) for c in PAYLOAD]}))  # <-
    """),
    "exec through an alias and compile": cheat("""
        import asyncio

        run = exec  # <-
        source = "import gc; gc.get_objects()"
        run(compile(source, "<answer>", "exec"))  # <-
    """),
    "eval of a string": cheat("""
        import asyncio

        grader = eval("__import__('kata.plugin')")  # <-
    """),
    "marshal and FunctionType": cheat("""
        import asyncio
        import marshal  # <-
        import types

        def run(blob):
            return types.FunctionType(marshal.loads(blob), globals())()  # <-
    """),
    "pickle.loads": cheat("""
        import asyncio
        import pickle  # <-

        pickle.loads(b"cos\\nsystem\\n(S'true'\\ntR.")  # <-
    """),
    "__import__ of a computed name": cheat("""
        import asyncio

        names = ["kata", "plugin"]
        plugin = __import__(".".join(reversed(names[::-1])), fromlist=["x"])  # <-
    """),
    "exec fetched from builtins by a split name": cheat("""
        import asyncio
        import builtins  # <-

        getattr(builtins, "ex" + "ec")("import sys")  # <-
    """),
    # ---- builtins and interpreter internals
    "__builtins__ as a dict": cheat("""
        import asyncio

        importer = __builtins__["__import__"]  # <-
    """),
    "__subclasses__ walk": cheat("""
        import asyncio

        classes = ().__class__.__base__.__subclasses__()  # <-
    """),
    "__globals__ of a function": cheat("""
        import asyncio

        def judge_of(function):
            return function.__globals__["_judge"]  # <-
    """),
    "getattr on a module with a computed name": cheat("""
        import asyncio
        import os

        def call(name, *args):
            return getattr(os, name)(*args)  # <-
    """),
    # ---- the process and the machine
    "os.write to the result pipe": cheat("""
        import asyncio
        import os

        os.write(3, b'{"outcome": "passed"}\\n')  # <-
    """),
    "open of a raw fd": cheat("""
        import asyncio

        pipe = open(3, "w")  # <-
    """),
    "os.kill of the grader": cheat("""
        import asyncio
        import os

        os.kill(os.getppid(), 9)  # <-
    """),
    "os.killpg through posix": cheat("""
        import asyncio
        import posix
        import signal  # <-

        posix.killpg(0, signal.SIGKILL)  # <-
    """),
    "os._exit after the first test": cheat("""
        import asyncio
        import os

        async def fetch_profile(get_user, get_orders, user_id):
            os._exit(0)  # <-
    """),
    "sys.exit": cheat("""
        import asyncio
        from sys import exit as leave  # <-

        leave(0)  # <-
    """),
    "raise SystemExit": cheat("""
        import asyncio

        async def fetch_profile(get_user, get_orders, user_id):
            raise SystemExit(0)  # <-
    """),
    "subprocess in a new session": cheat("""
        import asyncio
        import subprocess  # <-
        import sys

        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)  # <-
    """),
    "os.fork": cheat("""
        import asyncio
        import os

        if os.fork() == 0:  # <-
            os.setsid()  # <-
    """),
    "os.system": cheat("""
        import asyncio
        import os

        os.system("sleep 600 &")  # <-
    """),
    "os.execv": cheat("""
        import asyncio
        import os

        def restart():
            os.execv("/bin/true", ["true"])  # <-
    """),
    "multiprocessing": cheat("""
        import asyncio
        import multiprocessing  # <-

        multiprocessing.Process(target=print).start()  # <-
    """),
    "asyncio subprocess": cheat("""
        import asyncio

        async def spawn():
            return await asyncio.create_subprocess_exec("sleep", "600")  # <-
    """),
    "a signal handler": cheat("""
        import asyncio
        from signal import SIGALRM, SIG_IGN, signal  # <-

        signal(SIGALRM, SIG_IGN)  # <-
    """),
    "ctypes": cheat("""
        import asyncio
        import ctypes  # <-

        ctypes.memmove(id(1), id(2), 24)  # <-
    """),
    "sys.settrace": cheat("""
        import asyncio
        import sys

        sys.settrace(lambda frame, event, arg: None)  # <-
    """),
    "threading.settrace": cheat("""
        import asyncio
        import threading

        threading.settrace(print)  # <-
    """),
    "an audit hook": cheat("""
        import asyncio
        import sys

        sys.addaudithook(lambda event, args: None)  # <-
    """),
    "writes the gradebook outside its folder": cheat("""
        import asyncio

        with open("/work/out/gradebook.csv", "a") as book:  # <-
            book.write("alice,10\\n")
    """),
    "pathlib writes next door": cheat("""
        import asyncio
        from pathlib import Path

        Path("../../points.toml").write_text("[points]\\n")  # <-
    """),
    "reads the reference solution": cheat("""
        import asyncio
        from pathlib import Path

        reference = (Path(__file__).parent.parent / "solutions" / "02_gather.py").read_text()  # <-
    """),
    "a socket of its own": cheat("""
        import asyncio
        import socket  # <-

        peer = socket.socket(socket.AF_UNIX)  # <-
    """),
    "reads the grader's command line": cheat("""
        import asyncio
        import sys

        GRADED = any("--out" in word for word in sys.argv)  # <-
    """),
    "atexit": cheat("""
        import asyncio
        import atexit  # <-

        atexit.register(print, "bye")  # <-
    """),
    # ---- the grader: patching, pytest, kata, comparisons
    "patches time.perf_counter": cheat("""
        import asyncio
        import time

        time.perf_counter = lambda: 0.0  # <-
    """),
    "patches the clock through an alias": cheat("""
        import asyncio
        import time as clock

        clock.monotonic = lambda: 0.0  # <-
    """),
    "patches asyncio with setattr": cheat("""
        import asyncio

        setattr(asyncio, "sleep", lambda *args: None)  # <-
    """),
    "patches a class from asyncio": cheat("""
        import asyncio
        from asyncio import Task

        Task.__eq__ = lambda self, other: True  # <-
    """),
    "patches the writer's class": cheat("""
        import asyncio

        def silence(writer):
            type(writer).emit = lambda self, record: None  # <-
    """),
    "unittest.mock": cheat("""
        import asyncio
        from unittest import mock  # <-

        mock.patch("time.perf_counter", return_value=0.0).start()  # <-
    """),
    "an __eq__ that is always true": cheat("""
        import asyncio

        class Anything:
            def __eq__(self, other):  # <-
                return True
    """),
    "an __eq__ lambda": cheat("""
        import asyncio

        class Anything(list):
            __eq__ = lambda self, other: 1 == 1  # <-
            __hash__ = lambda self: 0  # <-
    """),
    "an __eq__ that never looks at the other side": cheat("""
        import asyncio

        class Anything:
            def __eq__(self, other):  # <-
                return self is self
    """),
    "imports pytest": cheat("""
        import asyncio
        import pytest  # <-

        pytest.exit("done", returncode=0)  # <-
    """),
    "imports _pytest": cheat("""
        import asyncio
        from _pytest import outcomes  # <-
    """),
    "imports the grader": cheat("""
        import asyncio
        from kata.testing import clock  # <-
    """),
    "a main block run by faking __name__": cheat("""
        import asyncio
        import os

        __name__ = "__main__"
        if __name__ == "__main__":
            os._exit(0)  # <-
    """),
    "the grader's objects through what it lends": cheat("""
        import asyncio

        async def crunch(pool, n):
            peer = getattr(pool, "_kata" + "_peer", None)  # <-
            return await asyncio.wrap_future(pool.submit(sum, range(n)))
    """),
    "the grader's objects by attribute": cheat("""
        async def greet(fetch_name, user_id):
            fetch_name._kata_peer._route = print  # <-
            return await fetch_name(user_id)
    """),
    # A red team's 01 (2026-12-05) walked from what it was lent to the sandbox's host and silenced
    # it: by a slot name read at run time, through a format string's attribute path.
    "the grader's slot named by __slots__": cheat("""
        async def greet(fetch_name, user_id):
            slot = type(fetch_name).__slots__[-1]  # <-
            return await fetch_name(user_id)
    """),
    "an attribute path walked by string.Formatter": cheat("""
        import string

        async def greet(fetch_name, user_id, path):
            host = string.Formatter().get_field(path, (fetch_name,), {})[0]  # <-
            return await fetch_name(user_id)
    """),
    "an attribute path walked by operator.attrgetter": cheat("""
        from operator import attrgetter

        async def greet(fetch_name, user_id, path):
            host = attrgetter(path)(fetch_name)  # <-
            return await fetch_name(user_id)
    """),
    "the grader's name inside a format field": cheat("""
        async def greet(fetch_name, user_id, walk):
            host = walk("0._kata_peer.exports", fetch_name)  # <-
            return await fetch_name(user_id)
    """),
    "interpreter internals inside a format field": cheat("""
        async def greet(fetch_name, user_id, walk):
            found = walk("0.__call__.__globals__", fetch_name)  # <-
            return await fetch_name(user_id)
    """),
    "a thread's own excepthook": cheat("""
        import threading

        async def fetch_all(fetch_user, user_ids):
            worker = threading.Thread(target=print)
            worker._invoke_excepthook = lambda thread: None  # <-
            worker.start()
    """),
    "private internals of asyncio": cheat("""
        import asyncio

        tasks = asyncio.tasks._all_tasks  # <-
    """),
    # A red team's 02 (2026-12-05) found the sandbox's reader thread, took its target (a bound
    # method of the grader's) and the object behind it through a weak method, and silenced it.
    "a thread's target, from a thread it did not start": cheat("""
        import threading

        async def fetch_all(fetch_user, user_ids):
            for thread in threading.enumerate():
                reader = thread._target  # <-
    """),
    "a thread's target, by name": cheat("""
        async def fetch_all(fetch_user, user_ids, thread):
            reader = vars(thread)["_target"]  # <-
    """),
    "a task's callbacks": cheat("""
        import asyncio

        async def fetch_all(fetch_user, user_ids):
            for task in asyncio.all_tasks():
                done = task._callbacks  # <-
    """),
    "a loop's queue of callbacks": cheat("""
        import asyncio

        async def fetch_all(fetch_user, user_ids):
            ready = asyncio.get_running_loop()._ready  # <-
    """),
    # The same day's 01 wrote a module for a later process to import, by a path's own open.
    "a file written by a path's own open, its name computed": cheat("""
        import os
        from pathlib import Path

        NAME = os.environ.get("WHICH", "x")
        with Path(NAME + ".py").open("w") as planted:  # <-
            planted.write("")
    """),
    # A red team (2026-12-05) reached sys and os through other modules' names for them.
    "sys, reached through asyncio's name for it": cheat("""
        import asyncio

        async def fetch_all(fetch_user, user_ids):
            host = asyncio.sys.modules["__main__"]  # <-
    """),
    "os, reached through a module of a module": cheat("""
        import asyncio.base_events as events

        def stop(pid):
            events.os.kill(pid, 9)  # <-
    """),
    "sys, imported from a module that imported it": cheat("""
        from contextlib import sys as system

        def hook(function):
            system.settrace(function)  # <-
    """),
    "the object behind a bound method, through a weak method": cheat("""
        import weakref

        async def fetch_all(fetch_user, user_ids, method):
            owner = weakref.ref.__call__(weakref.WeakMethod(method))  # <-
    """),
}


def marked_lines(source: str) -> set[int]:
    return {number for number, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith("# <-")}


@pytest.mark.parametrize("source", CHEATS.values(), ids=CHEATS.keys())
def test_cheating_code_is_flagged_on_the_line_that_does_it(source):
    flags = scan_files({"02_gather": source.encode()})
    lines = {int(match.group(1)) for flag in flags if (match := re.match(r"02_gather\.py:(\d+) ", flag))}
    expected = marked_lines(source)
    assert expected, "each case marks the lines that cheat with # <-"
    assert lines & expected, f"nothing flagged on lines {sorted(expected)}; flags: {flags}\n{source}"


def test_the_corpus_covers_many_cases():
    assert len(CHEATS) >= 25


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (CHEATS["exec of bytes.fromhex"], "executes decoded data (exec of bytes.fromhex(...))"),
        (CHEATS["exec of base64"], "executes decoded data (exec of base64.b64decode(...))"),
        (
            CHEATS["exec of zlib data kept in a variable"],
            "executes decoded data (exec of zlib.decompress(...))",
        ),
        (CHEATS["exec of character codes"], "executes decoded data (exec of chr(...))"),
        (CHEATS["sys.modules through an alias"], "reaches into loaded modules (sys.modules)"),
        (CHEATS["from gc import get_objects as an alias"], "garbage collector"),
        (CHEATS["/proc/<ppid>/cmdline with the path in pieces"], "names a /proc or /dev path ('/proc/"),
        (
            CHEATS["subprocess in a new session"],
            "starts a process in a new session, out of reach of the kill",
        ),
        (CHEATS["patches time.perf_counter"], "patches time.perf_counter"),
        (CHEATS["os.kill of the grader"], "sends signals to processes (os.kill)"),
        (
            CHEATS["the grader's objects through what it lends"],
            "reaches into the grader's objects it was lent (getattr(..., '_kata_peer'))",
        ),
    ],
)
def test_a_flag_says_in_plain_words_what_the_code_does(source, words):
    flags = scan_files({"12_cancellation": source.encode()})
    assert any(words in flag for flag in flags), f"expected {words!r} in {flags}"


def test_decoded_code_is_scanned_and_what_it_does_is_named():
    (flag, *_) = scan_files({"12_cancellation": CHEATS["exec of bytes.fromhex"].encode()})
    assert flag.startswith("12_cancellation.py:3 executes decoded data (exec of bytes.fromhex(...))"), flag
    assert "reaches into loaded modules (sys.modules)" in flag, "the flag names what the hidden code does"


# ---------------------------------------------------------------------------- what is not flagged


@pytest.mark.parametrize(
    "source",
    [
        "class P:\n    def __eq__(self, other):\n        return isinstance(other, P) and self.x == other.x\n",
        "import sys\nif sys.version_info >= (3, 12):\n    pass\n",
        "import time\nstarted = time.perf_counter()\n",
        "import os\nworkers = os.cpu_count() or 1\n",
        "import gc\ngc.collect()\n",
        "from concurrent.futures import ProcessPoolExecutor\npool = ProcessPoolExecutor(2)\n",
        "import asyncio\nasync def f(pool, work):\n"
        "    return await asyncio.get_running_loop().run_in_executor(pool, work)\n",
        "import inspect\nasync def f(x):\n    return inspect.isawaitable(x)\n",
        "import random\nrng = random.Random(1)\n",
        "message = 'the process ended'\n",
        "'''Not code: /proc/self and sys.modules in a docstring.'''\n",
        "import asyncio, sys\nasync def main():\n    return 1\n"
        "if __name__ == '__main__':  # a demo, never run when the tests import the file\n"
        "    asyncio.run(main())\n    sys.exit(int(sys.argv[1]))\n",
        "class Worker:\n    def __init__(self, target):\n        self._target = target\n"
        "    def run(self):\n        return self._target()\n",
        "from pathlib import Path\nNOTES = Path(__name__ + '.txt')\nwith open('notes.txt') as f:\n    pass\n",
        "import asyncio\nclass Pool:\n    def __init__(self):\n        self._callbacks = []\n"
        "        self._ready = asyncio.Event()\n",
    ],
)
def test_ordinary_code_is_not_flagged(source):
    assert scan_files({"10_cpu_bound": source.encode()}) == []


# ---------------------------------------------------------------------------- never in the way


def test_a_file_python_cannot_parse_gives_no_flag_and_no_error():
    assert scan_files({"01_coroutines": b"def broken(:\n"}) == []
    assert scan_files({"01_coroutines": b"\xff\xfe not utf-8 ("}) == []
    assert scan_files({"01_coroutines": b"x = 1\x00\n"}) == []


def test_a_file_too_deep_for_the_scan_gets_one_line_and_grading_goes_on():
    deep = b"x = " + b"(" * 150 + b"1" + b")" * 150 + b"\n" + b"y = -" * 1 + b"-" * 50_000 + b"1\n"
    flags = scan_files({"01_coroutines": deep, "02_gather": b"import os\nos._exit(0)\n"})
    assert all(flag.startswith(("01_coroutines.py:", "02_gather.py:")) for flag in flags), flags
    assert any(flag.startswith("02_gather.py:2 ends the test process") for flag in flags), flags


def test_huge_or_hostile_constants_are_not_expanded():
    source = (
        "import zlib\n"
        f"exec(zlib.decompress({zlib.compress(b'#' * 50_000_000)!r}))\n"
        "x = 'a' * 10**12\n"
        "y = '{:>999999999}'.format(1)\n"
        "z = '%999999999d' % 1\n"
    )
    flags = scan_files({"01_coroutines": source.encode()})
    assert flags and flags[0].startswith("01_coroutines.py:2 executes decoded data"), flags


def test_a_file_shows_a_few_flags_then_how_many_more():
    source = "\n".join(
        [
            "import os, sys, gc, signal",
            "os._exit(0)",
            "sys.modules.clear()",
            "gc.get_objects()",
            "signal.alarm(0)",
            "os.kill(1, 9)",
        ]
    )
    flags = scan_files({"03_create_task": source.encode()})
    assert len(flags) == MAX_FLAGS_PER_FILE + 1, flags
    assert re.fullmatch(r"03_create_task\.py: and \d+ more", flags[-1]), flags[-1]
    assert all(re.match(r"03_create_task\.py:\d+ \S", flag) for flag in flags[:-1]), flags


def test_flags_name_the_file_and_the_line():
    assert scan_files({"03_create_task": b"import os\nos._exit(0)\n"}) == [
        "03_create_task.py:2 ends the test process (os._exit)"
    ]


@pytest.mark.load_sensitive
def test_honest_files_scan_quickly():
    import time

    files = honest_files()
    started = time.perf_counter()
    scan_files(files)
    assert time.perf_counter() - started < 10, "the scan of a whole class must not slow grading down"


def test_the_scan_never_reads_files_or_imports_the_submission(tmp_path: Path, monkeypatch):
    marker = tmp_path / "ran"
    source = f"open({str(marker)!r}, 'w').write('x')\nimport this_module_does_not_exist\n"
    scan_files({"01_coroutines": source.encode()})
    assert not marker.exists(), "scanning must never run the submission"


# ---------------------------------------------------------------------------- source encodings


def test_code_hidden_by_a_coding_declaration_is_read_as_python_reads_it():
    # In UTF-7 "+AAo-" is a line break: to a reader taking the file for UTF-8 the import is a comment.
    hidden = "# -*- coding: utf-7 -*-\n" + ANSWER + "# note: +AAo-import gc+ADs- n = len(gc.get_objects())\n"
    flags = scan_files({"02_gather": hidden.encode("ascii")})
    assert any("02_gather.py:1 declares its source in utf-7" in flag for flag in flags), flags
    assert any("gc.get_objects" in flag for flag in flags), (
        f"the code a UTF-7 comment hides was not scanned: {flags}"
    )


@pytest.mark.parametrize(
    "declaration", ["# -*- coding: utf-8 -*-", "# coding=ascii", "# vim: set fileencoding=utf8 :"]
)
def test_a_plain_coding_declaration_is_not_flagged(declaration):
    assert scan_files({"02_gather": (declaration + "\nimport asyncio\n" + ANSWER).encode()}) == []
