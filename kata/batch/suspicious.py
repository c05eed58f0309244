"""What in a submission's code is worth an instructor's look, by name, and how a flag says it.

The tables the scan (kata.batch.scan) applies to what a file refers to once its imports and
aliases are followed: "sys.modules", "os.kill", "builtins.exec", "asyncio.tasks._all_tasks"...
Each rule names a class of behaviour with its phrase in plain words. A module is flagged whole
(subprocess, ctypes, pytest...), all but what an honest answer uses (sys, os, gc), or only in
some parts (inspect's frames); then come attributes that mean the same on any object (f_back,
__subclasses__), and the strings and paths that spell such names out.
"""

from __future__ import annotations

import builtins
import importlib
import re
import sys
from dataclasses import dataclass
from types import ModuleType

# ---------------------------------------------------------------------------- what a flag says

LOADED_MODULES = "reaches into loaded modules ({})"
FRAMES = "reads stack frames ({})"
HEAP = "reaches into the garbage collector, which sees every object ({})"
INTERPRETER = "reaches into the interpreter ({})"
HOOKS = "hooks into the running interpreter ({})"
ENDS = "ends the test process ({})"
COMMAND_LINE = "reads the command line ({})"
IMPORT_SYSTEM = "changes how modules are found ({})"
KILLS = "sends signals to processes ({})"
PARENT = "looks for the grader's process ({})"
PROCESSES = "starts a process ({})"
NEW_SESSION = "starts a process in a new session, out of reach of the kill ({})"
LEAVES_GROUP = "leaves its process group, out of reach of the kill ({})"
SIGNAL_HANDLERS = "handles signals ({})"
RAW_MEMORY = "reaches into raw memory ({})"
DEBUGGER = "traces or debugs the process ({})"
SOCKETS = "opens network connections of its own ({})"
RUNS_CODE = "runs code built at run time ({})"
RUNS_STRING = "runs code from a string ({})"
RUNS_DECODED = "executes decoded data ({} of {})"
CODE_DOES = "{}: the code it runs {}"
DYNAMIC_IMPORT = "imports a module whose name is computed at run time ({})"
BUILTINS = "reaches into builtins ({})"
AT_EXIT = "runs code when the process ends ({})"
MOCK = "patches by name ({})"
PYTEST = "reaches into pytest ({})"
GRADER = "reaches into the grader ({})"
SOLUTIONS = "reads the reference solutions ({})"
LOW_LEVEL = "uses low-level process tools ({})"
CHANGES_FILES = "changes files ({})"
LISTS_FILES = "lists files ({})"
RAW_FDS = "uses raw file descriptors ({})"
OS_OTHER = "reaches into the operating system ({})"
PRIVATE = "reaches into private internals ({})"
BY_NAME = "reaches into {} by a name computed at run time ({})"
PATCHES_BY_NAME = "patches {} by a name computed at run time ({})"
NAMESPACE = "reaches into {} through its namespace ({})"
INTERNALS = "walks interpreter internals ({})"
WALKS_OBJECTS = "walks every attribute of the objects it is given ({})"
FORMAT_FIELDS = "reaches into objects by the attribute paths of a format string ({})"
GRADER_OBJECTS = "reaches into the grader's objects it was lent ({})"
LIBRARY_INTERNALS = "reaches into the private parts of threads, tasks or event loops it did not make ({})"
GRADER_PREFIX = "_kata"  # the attributes the kata puts on what it lends (kata.remote.proxies)
OWN_FILE = "looks up where its own file is ({})"
PATCHES = "patches {}"
REPLACES_MODULE = "replaces a loaded module ({})"
PATCHES_CLASS = "patches the class of an object it was given ({})"
ALWAYS_SAME = "defines a {} that always answers the same"
WRITES_OUTSIDE = "writes a file outside its folder ({})"
WRITES_SOMEWHERE = "writes a file at a path computed at run time ({})"
READS_OUTSIDE = "reads a file outside its folder ({})"
PROC_PATH = "names a /proc or /dev path ({})"
GRADER_FILES = "names the grader's files ({})"
SPELLS_OUT = "spells out {} in a string, as code that reaches things by name does"
ENCODED = "holds encoded data ({})"
SOURCE_ENCODING = "declares its source in {}, which hides code from a reader that takes it for UTF-8"
NOT_SCANNED = "could not be scanned ({}): worth a look"
SCANNED_IN_PART = "could not be scanned whole ({}): worth a look"
MORE = "and {} more"

# How strong a sign each kind is: a file shows its strongest first; a hint is dropped on a line
# that already has a finding.
STRONG, GENERAL, HINT = 0, 1, 2
_RANKS = {
    **dict.fromkeys([OS_OTHER, INTERPRETER, PRIVATE, OWN_FILE, LISTS_FILES, NAMESPACE], GENERAL),
    **dict.fromkeys([NOT_SCANNED, SCANNED_IN_PART], GENERAL),
    **dict.fromkeys([SPELLS_OUT, ENCODED], HINT),
}

# ---------------------------------------------------------------------------- rules, by qualified name


@dataclass(frozen=True)
class _Module:
    """A rule for a whole module: every use is flagged, or all but `allowed`, or only `only`."""

    phrase: str
    allowed: frozenset[str] | None = None
    only: frozenset[str] | None = None


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _each(names: str, phrase: str) -> dict[str, str]:
    return dict.fromkeys(_words(names), phrase)


_OS_ALLOWED = _words(
    "path environ getenv cpu_count process_cpu_count sep altsep extsep pathsep linesep curdir pardir devnull "
    "name fspath fsencode fsdecode PathLike getcwd urandom strerror getpid get_terminal_size terminal_size "
    "error DirEntry stat_result"
)
_SYS_ALLOWED = _words(
    "version_info version hexversion platform implementation maxsize byteorder float_info int_info stdout "
    "stderr stdin exc_info exception getrecursionlimit getsizeof flags"
)
_OS_FDS = (
    "write writev pwrite pwritev read readv pread preadv sendfile dup dup2 fdopen open openpty pipe pipe2 "
)
_OS_FDS += (
    "close closerange lseek fstat ftruncate fsync set_inheritable set_blocking memfd_create eventfd splice"
)
_OS_FILES = (
    "remove unlink rename renames replace rmdir removedirs mkdir makedirs chmod chown lchown link symlink "
)
_OS_FILES += "truncate utime mkfifo mknod"
_OS_PROCESSES = (
    "fork forkpty system popen execl execle execlp execlpe execv execve execvp execvpe spawnl spawnle "
)
_OS_PROCESSES += "spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe posix_spawn posix_spawnp register_at_fork"

_EXACT: dict[str, str] = {
    "sys.modules": LOADED_MODULES,
    **_each("sys._getframe sys._current_frames sys._current_exceptions types.FrameType", FRAMES),
    # The way to the grader's objects inside what it lends, without naming one (a red team, 2026-12-02).
    **_each("inspect.getmembers inspect.getmembers_static", WALKS_OBJECTS),
    # A format string's fields are attribute paths: Formatter.get_field walks one to an object
    # (a red team's 01 reached the sandbox's host so, 2026-12-05).
    **_each("string.Formatter", FORMAT_FIELDS),
    # The object behind a bound method, without spelling __self__: a weak method holds a weak
    # reference to it, and ref's own __call__ hands it back (a red team, 2026-12-05).
    **_each("weakref.WeakMethod weakref.ref.__call__ weakref.ReferenceType.__call__", INTERNALS),
    **_each(
        "sys.settrace sys.setprofile sys.monitoring sys.addaudithook sys.audit sys.remote_exec "
        "sys.call_tracing sys.excepthook sys.unraisablehook sys.displayhook sys.breakpointhook "
        "sys.setswitchinterval "
        "threading.settrace threading.setprofile threading.settrace_all_threads "
        "threading.setprofile_all_threads threading.excepthook",
        HOOKS,
    ),
    **_each(
        "sys.exit os._exit os.abort builtins.exit builtins.quit _thread.interrupt_main _thread.exit", ENDS
    ),
    **_each("pytest.exit _pytest.outcomes.exit", ENDS),
    **_each("sys.argv sys.orig_argv", COMMAND_LINE),
    **_each("sys.path sys.meta_path sys.path_hooks sys.path_importer_cache", IMPORT_SYSTEM),
    **_each("os.kill os.killpg os.pidfd_open signal.pidfd_send_signal os.waitpid os.waitid", KILLS),
    **_each("os.getppid", PARENT),
    **_each("os.setsid os.setpgid os.setpgrp", LEAVES_GROUP),
    **{f"os.{name}": PROCESSES for name in _OS_PROCESSES.split()},
    **{f"os.{name}": RAW_FDS for name in _OS_FDS.split()},
    **{f"os.{name}": CHANGES_FILES for name in _OS_FILES.split()},
    **_each("asyncio.create_subprocess_exec asyncio.create_subprocess_shell asyncio.subprocess", PROCESSES),
    **_each(
        "asyncio.open_connection asyncio.start_server asyncio.open_unix_connection asyncio.start_unix_server "
        "aiohttp.UnixConnector aiohttp.NamedPipeConnector",
        SOCKETS,
    ),
    **_each("builtins.exec builtins.eval builtins.compile types.FunctionType types.CodeType", RUNS_CODE),
    **_each("types.LambdaType importlib.reload importlib.util importlib.machinery importlib.abc", RUNS_CODE),
    **_each("builtins.breakpoint", DEBUGGER),
    **_each("io.FileIO io.open_code", RAW_FDS),
}
_MODULES: dict[str, _Module] = {
    "sys": _Module(INTERPRETER, allowed=_SYS_ALLOWED),
    "gc": _Module(HEAP, allowed=frozenset({"collect", "isenabled"})),
    "inspect": _Module(
        FRAMES,
        only=_words(
            "currentframe stack trace getouterframes getinnerframes getframeinfo getgeneratorlocals "
            "getcoroutinelocals getasyncgenlocals getclosurevars"
        ),
    ),
    "traceback": _Module(FRAMES, only=_words("walk_stack walk_tb extract_stack StackSummary FrameSummary")),
    "os": _Module(OS_OTHER, allowed=_OS_ALLOWED),
    "shutil": _Module(CHANGES_FILES, allowed=frozenset({"which", "get_terminal_size"})),
    **{
        name: _Module(PROCESSES)
        for name in _words("subprocess _posixsubprocess multiprocessing _multiprocessing pty")
    },
    **{name: _Module(SIGNAL_HANDLERS) for name in _words("signal _signal")},
    **{name: _Module(RAW_MEMORY) for name in _words("ctypes _ctypes cffi _testcapi _testinternalcapi")},
    **{name: _Module(DEBUGGER) for name in _words("faulthandler pdb bdb trace tracemalloc")},
    **{
        name: _Module(SOCKETS)
        for name in _words("socket _socket socketserver http.client http.server urllib.request")
    },
    **{name: _Module(SOCKETS) for name in _words("requests httpx")},
    **{name: _Module(RUNS_CODE) for name in _words("marshal pickle _pickle shelve dill cloudpickle copyreg")},
    **{name: _Module(RUNS_CODE) for name in _words("runpy code codeop zipimport")},
    "atexit": _Module(AT_EXIT),
    **{name: _Module(MOCK) for name in _words("unittest.mock mock pytest_mock")},
    **{
        name: _Module(PYTEST)
        for name in _words("pytest _pytest pluggy pytest_asyncio pytest_timeout aioresponses")
    },
    **{name: _Module(GRADER) for name in _words("kata tests conftest")},
    "solutions": _Module(SOLUTIONS),
    **{name: _Module(LOW_LEVEL) for name in _words("resource fcntl mmap _thread termios")},
    "glob": _Module(LISTS_FILES),
    "_io": _Module(RAW_FDS),
}
ROOT_ALIASES = {"posix": "os", "nt": "os", "__builtin__": "builtins", "posixpath": "os.path"}

# Attribute names that mean the same whatever object they are read from.
_FRAME_ATTRIBUTES = _words(
    "f_back f_globals f_locals f_builtins f_code f_trace tb_frame tb_next gi_frame cr_frame ag_frame "
    "gi_yieldfrom cr_await ag_await get_stack print_stack"
)
_INTERNAL_ATTRIBUTES = _words(
    "__subclasses__ __globals__ __code__ __closure__ __builtins__ __base__ __bases__ __mro__ __func__ "
    "__self__ __defaults__ __kwdefaults__ __wrapped__ "
    # What an object's slots and descriptors are called, and the ways round __self__: how a red
    # team named the grader's slot without spelling it (type(lent).__slots__[-1], 2026-12-05).
    "__slots__ __objclass__ __get__ __reduce__ __reduce_ex__"
)
# The private attributes of the standard library's threads, tasks, futures, event loops and
# handles: the way from a thread or a task the code did not start to what it runs, the grader's
# objects among them (a red team took a reader thread's `_target`, a bound method of the
# grader's, through threading.enumerate(), 2026-12-05). Flagged on any object but the code's own
# (`self._callbacks` in a class of its own is not one of them).
LIBRARY_PRIVATES = _words(
    "_target _args _kwargs _started _tstate_lock _callbacks _callback _coro _fut_waiter _ready "
    "_scheduled _selector _default_executor _asyncgens _source_traceback _context _wakeup_cb"
)
OWN_OBJECT_NAMES = frozenset({"self", "cls"})
# Names a string may hold for a getter or a format field to walk (`"0.__init__.__globals__"`).
WALKED_NAMES = _FRAME_ATTRIBUTES | _INTERNAL_ATTRIBUTES | LIBRARY_PRIVATES
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
ATTRIBUTE_PHRASES = {
    **dict.fromkeys(_FRAME_ATTRIBUTES, FRAMES),
    **dict.fromkeys(_INTERNAL_ATTRIBUTES, INTERNALS),
    **_each("subprocess_exec subprocess_shell", PROCESSES),
    # One thread's own excepthook: an error that ends it told to nobody (a red team, 2026-12-04).
    **_each("_invoke_excepthook", HOOKS),
    **_each(
        "create_connection create_server create_unix_connection create_unix_server sock_connect "
        "create_datagram_endpoint connect_accepted_socket",
        SOCKETS,
    ),
}


def attribute_phrase(name: str, own: bool = False) -> str | None:
    """The flag's words for reading or writing an attribute called `name`, or None; `own`: of an
    object the code made itself (`self.name`)."""
    if name in ATTRIBUTE_PHRASES:
        return ATTRIBUTE_PHRASES[name]
    if name in LIBRARY_PRIVATES and not own:
        return LIBRARY_INTERNALS
    return GRADER_OBJECTS if name.startswith(GRADER_PREFIX) else None


NAME_PHRASES = {"__builtins__": BUILTINS, "__file__": OWN_FILE, "__loader__": OWN_FILE, "__spec__": OWN_FILE}

IMPORTERS = frozenset({"builtins.__import__", "importlib.import_module", "importlib.__import__"})
MODULE_LOOKUPS = frozenset({"sys.modules.get", "sys.modules.__getitem__", "sys.modules.pop"})
GETATTRS = {
    "builtins.getattr": "get",
    "builtins.hasattr": "get",
    "builtins.setattr": "set",
    "builtins.delattr": "set",
    "builtins.object.__getattribute__": "get",
    "builtins.object.__setattr__": "set",
    "builtins.object.__delattr__": "set",
    "builtins.type.__getattribute__": "get",
    "builtins.type.__setattr__": "set",
    "builtins.type.__delattr__": "set",
}
EXECUTORS = frozenset(
    {
        "builtins.exec",
        "builtins.eval",
        "builtins.compile",
        "types.FunctionType",
        "types.CodeType",
        "types.LambdaType",
        "marshal.loads",
        "pickle.loads",
        "_pickle.loads",
        "pickle.Unpickler",
        "runpy.run_path",
        "runpy.run_module",
    }
)
SOURCE_RUNNERS = frozenset({"builtins.exec", "builtins.eval", "builtins.compile"})
DECODERS = frozenset(
    {
        "builtins.bytes.fromhex",
        "builtins.bytearray.fromhex",
        "builtins.bytes",
        "builtins.bytearray",
        "builtins.chr",
        "builtins.int.to_bytes",
        "codecs.decode",
        "codecs.encode",
        "zlib.decompress",
        "gzip.decompress",
        "bz2.decompress",
        "lzma.decompress",
        "marshal.loads",
        "pickle.loads",
    }
)
DECODER_MODULES = ("base64.", "binascii.")
DECODING_METHODS = frozenset({"decode", "fromhex", "translate", "decompress", "b64decode", "unhexlify"})
ATTRIBUTE_GETTERS = frozenset({"operator.attrgetter", "operator.methodcaller"})
SESSION_KEYWORDS = frozenset({"start_new_session", "process_group", "preexec_fn"})
OPENERS = frozenset({"builtins.open", "io.open", "codecs.open"})
PATH_WRITERS = _words("write_text write_bytes touch unlink rmdir mkdir rename chmod symlink_to hardlink_to")
COMPARISONS = _words(
    "__eq__ __ne__ __lt__ __le__ __gt__ __ge__ __contains__ __instancecheck__ __subclasscheck__"
)
ANSWERING = COMPARISONS | {"__hash__"}
ENDING_EXCEPTIONS = frozenset({"builtins.SystemExit", "builtins.KeyboardInterrupt"})
BUILTIN_NAMES = frozenset(dir(builtins))
EACH_TARGET = frozenset({PATCHES, ALWAYS_SAME, PATCHES_CLASS, REPLACES_MODULE})

# Strings: what a name or a path looks like when it is spelled out to be reached at run time.
_SENSITIVE_MODULES = _words(
    "sys gc os posix nt ctypes _ctypes kata pytest _pytest builtins __builtin__ signal subprocess "
    "multiprocessing inspect marshal pickle importlib socket pty atexit"
)
SENSITIVE_NAMES = (
    _SENSITIVE_MODULES
    | _words(
        "modules _getframe _current_frames get_objects get_referrers get_referents __import__ __dict__ "
        "__eq__ __hash__ exec eval _exit killpg fork settrace setprofile addaudithook perf_counter "
        "monotonic _judge import_module getppid"
    )
    | _FRAME_ATTRIBUTES
    | _INTERNAL_ATTRIBUTES
)
PATCHABLE_ROOTS = _SENSITIVE_MODULES | frozenset({"time", "asyncio", "aiohttp", "random", "threading"})
# Matches start only where a run starts (the look-behinds), so a search does not go through the
# same run again from each of its characters.
DOTTED = re.compile(r"(?<![\w.])[A-Za-z_]\w*+(?:\.[A-Za-z_]\w*+)+")
PROC = re.compile(r"/proc(?:/|$|\ufffd)|/dev/(?:fd|std(?:in|out|err)|tty|pts)(?:/|$|\ufffd)")
GRADER_FILE = re.compile(
    r"points\.toml|gradebook|results\.(?:json|csv)|graded\.json|site-packages|__pycache__|\.pyc\b|\.pth\b"
    r"|conftest|(?:^|/)solutions(?:/|$)|(?:^|/)tests/test_",
    re.IGNORECASE,
)
# Each of GRADER_FILE's alternatives holds one of these: a string without any (casefolded, as
# IGNORECASE matches) is not searched, which is 50 times faster on a long string.
GRADER_WORDS = (
    "points.toml", "gradebook", "results.", "graded.json", "site-packages", "__pycache__", ".pyc", ".pth",
    "conftest", "solutions", "tests/test_",
)  # fmt: skip
HEX = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{100,}")
BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{100,}={0,2}")
DRIVE = re.compile(r"^[A-Za-z]:[/\\]")


def rank_of(template: str) -> int:
    """STRONG, GENERAL or HINT: how strong a sign a finding of this kind is."""
    return _RANKS.get(template, STRONG)


def rule_for(name: str, whole: bool = False) -> tuple[str, ...] | None:
    """(template, details...) for a use of `name` ("sys.modules", "os.getppid"...), or None if it is fine.

    `whole`: the module itself is taken whole (`from gc import *`), as if all of it were used.
    """
    parts = name.split(".")
    for size in range(len(parts), 0, -1):
        prefix = ".".join(parts[:size])
        if prefix in _EXACT:
            return _EXACT[prefix], short_name(prefix)
        if prefix in _MODULES:
            module = _MODULES[prefix]
            rest = parts[size:]
            if (module.allowed is None and module.only is None) or whole:
                return module.phrase, ".".join(parts[: size + 1])
            if not rest:
                return None
            if module.allowed is not None and rest[0] not in module.allowed and not rest[0].isupper():
                return module.phrase, f"{prefix}.{rest[0]}"
            if module.only is not None and rest[0] in module.only:
                return module.phrase, f"{prefix}.{rest[0]}"
            break
    if "__dict__" in parts[1:]:
        base = ".".join(parts[: parts.index("__dict__", 1)])
        return NAMESPACE, base, f"{base}.__dict__"
    private = next(
        (i for i, part in enumerate(parts) if part.startswith("_") and not part.startswith("__")), None
    )
    if private is not None and parts[0] != "builtins":
        return PRIVATE, ".".join(parts[: private + 1])
    return None


def shown_as(match: tuple[str, ...], shown: str) -> tuple[str, ...]:
    """The same finding, showing how the file spelled it (`import signal`)."""
    return (match[0], shown) if len(match) == 2 else match


# Modules whose own names lead to other modules (asyncio.sys is sys, inspect.os is os): loaded here
# once, never one a submission names (importing a name of its choosing could run a file of its).
MODULE_HUBS = (
    "asyncio asyncio.base_events asyncio.events asyncio.tasks asyncio.futures asyncio.subprocess "
    "concurrent.futures contextlib functools inspect threading traceback typing dataclasses logging "
    "tempfile pathlib random time json itertools operator collections weakref types warnings"
)
for _hub in MODULE_HUBS.split():
    importlib.import_module(_hub)


def through_modules(name: str) -> str:
    """`name` with each leading part that a module names as one of its own modules replaced by
    that module's name: "asyncio.sys.modules" is "sys.modules", "inspect.os.kill" is "os.kill"
    (a red team reached sys and os so, past every rule, 2026-12-05). Only modules already loaded
    here are followed, by their namespaces (no module's __getattr__ runs)."""
    parts = name.split(".")
    module = sys.modules.get(parts[0])
    if not isinstance(module, ModuleType):
        return name
    resolved, index = parts[0], 1
    while index < len(parts):
        found = vars(module).get(parts[index])
        if not isinstance(found, ModuleType):
            break
        module, resolved, index = found, normal_name(found.__name__), index + 1
    return ".".join([resolved, *parts[index:]])


def normal_name(name: str) -> str:
    root, dot, rest = name.partition(".")
    if root in ROOT_ALIASES:
        return f"{ROOT_ALIASES[root]}{dot}{rest}"
    return name


def short_name(name: str) -> str:
    return name.removeprefix("builtins.")
