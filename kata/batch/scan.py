"""A static look at a submission's exercise files (the only code the grader runs), for the instructor.

A flag means "a human should look": the code does something an honest async answer has no
reason to do. Each is one line, `12_cancellation.py:14 executes decoded data (exec of
bytes.fromhex(...))`, at most MAX_FLAGS_PER_FILE per file (the strongest first, then "and N
more"). The grade never depends on a flag, and a scan error never stops grading: a file that
does not parse gets no flag (its tests fail anyway), one the scan cannot read gets one line.

What it looks for is a class of behaviour, whatever the spelling. Names are followed through
imports and aliases (`import sys as s`, `from gc import get_objects as g`, `m = sys.modules`,
`__import__('s' + 'ys')`, `getattr(sys, 'mod' + 'ules')`, `vars(sys)['modules']`), and strings
are worked out from their pieces (kata.batch.folding: `'/pr' + 'oc'`, `'/'.join(...)`, f-strings,
`%`, `.format`, hex, base64, zlib, character codes...). The rules and the words of each flag
are in kata.batch.suspicious. The classes:

- reaching into the interpreter: `sys.modules`, `sys.__dict__`, the garbage collector
  (`gc.get_objects`...), stack frames and tracebacks (`sys._getframe`, `inspect.stack`, `f_back`,
  `f_locals`, `tb_frame`, `cr_frame`...), `__subclasses__`/`__globals__`/`__code__`, builtins
  (`__builtins__`, `import builtins`), private names of modules (`kata.plugin._judge`), tracing
  and audit hooks, `ctypes`;
- running code that is not in the file: `exec`, `eval`, `compile`, `types.FunctionType`,
  `marshal`, `pickle`, `__import__`/`importlib.import_module` with a computed name, `getattr`/
  `setattr` with a computed name on a module or any object, and above all executing decoded data
  (the decoded text is scanned too, and what it does is named);
- walking what it is given to find what it was not (`inspect.getmembers`, `types.FrameType`,
  `getattr` over `dir()`): the way to the sandbox's own objects inside what the judge lends;
- the process and the machine: ending the process (`os._exit`, `sys.exit`, `raise SystemExit`),
  signals and `os.kill`, starting processes (`subprocess`, `os.fork`, `os.system`, `os.exec*`,
  `multiprocessing`; a new session is named), raw file descriptors, writing files outside its
  folder, `/proc` and `/dev/fd` paths, the grader's files, sockets of its own, `atexit`;
- the grader: importing pytest, `_pytest` or kata, patching a module or a class of one
  (`time.perf_counter = ...`, `setattr(asyncio, ...)`, `sys.modules[...] = ...`,
  `unittest.mock`), comparisons (`__eq__`, `__hash__`...) that answer the same whatever they are
  given;
- a coding declaration for any encoding but UTF-8 and ASCII (`# -*- coding: utf-7 -*-`): Python
  honours it, so a comment to a UTF-8 reader can be code; every file is read as Python reads it;
- as a last hint, strings that spell out such names (`'modules'`, `'f_back'`) and long encoded
  blobs.

What 10_cpu_bound needs is not flagged: a `concurrent.futures` process pool, `asyncio.to_thread`.

What it costs: every expression it works out is priced first (kata.batch.costs), so a file built
to make the scan slow or big gets "could not be scanned whole (too much to work out)" instead;
the batch runs the scan of each submission in a child with a time and a memory limit
(kata.batch.scan_process), for whatever the pricing misses.

What it cannot do: it is a static scan, a hint for a human and never proof. Code can compute a
name or a path in a loop, read it from a file or the network, or hide in ways no list foresees;
the sandbox and the grader's own checks are what protect the grades.
"""

from __future__ import annotations

import ast
import codecs
import importlib.util
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from kata.batch.costs import CALL_NANOSECONDS, STEP_NANOSECONDS, Budget, OutOfBudget, items_cost
from kata.batch.folding import PIECE, UNKNOWN, Folder
from kata.batch.suspicious import (
    ALWAYS_SAME,
    ANSWERING,
    ATTRIBUTE_GETTERS,
    BASE64,
    BUILTIN_NAMES,
    BUILTINS,
    BY_NAME,
    CODE_DOES,
    COMPARISONS,
    DECODER_MODULES,
    DECODERS,
    DECODING_METHODS,
    DOTTED,
    DRIVE,
    DYNAMIC_IMPORT,
    EACH_TARGET,
    ENCODED,
    ENDING_EXCEPTIONS,
    ENDS,
    EXECUTORS,
    GETATTRS,
    GRADER_FILE,
    GRADER_FILES,
    GRADER_OBJECTS,
    GRADER_PREFIX,
    GRADER_WORDS,
    HEX,
    HINT,
    IDENTIFIER,
    IMPORTERS,
    LEAVES_GROUP,
    MODULE_LOOKUPS,
    MORE,
    NAME_PHRASES,
    NEW_SESSION,
    NOT_SCANNED,
    OPENERS,
    OWN_OBJECT_NAMES,
    PATCHABLE_ROOTS,
    PATCHES,
    PATCHES_BY_NAME,
    PATCHES_CLASS,
    PATH_WRITERS,
    PROC,
    PROC_PATH,
    PROCESSES,
    RAW_FDS,
    READS_OUTSIDE,
    REPLACES_MODULE,
    RUNS_CODE,
    RUNS_DECODED,
    RUNS_STRING,
    SCANNED_IN_PART,
    SENSITIVE_NAMES,
    SESSION_KEYWORDS,
    SOURCE_ENCODING,
    SOURCE_RUNNERS,
    SPELLS_OUT,
    WALKED_NAMES,
    WRITES_OUTSIDE,
    WRITES_SOMEWHERE,
    attribute_phrase,
    normal_name,
    rank_of,
    rule_for,
    short_name,
    shown_as,
    through_modules,
)

MAX_FLAGS_PER_FILE = 3
MAX_NESTING = 3  # decoded code inside decoded code is scanned this deep
MAX_QUALNAME_DEPTH = 100
MAX_DECODED_CHARACTERS = 1_000_000  # of decoded code scanned, per exercise file
MAX_FLAG_LENGTH = 300

_PATH_SEPARATOR = re.compile(r"[/\\]")
_DIGIT = re.compile(r"\d")
_LOWER_CASE = re.compile(r"[a-z]")

# ---------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """One thing worth a look: where, what in plain words, and how strong a sign."""

    line: int
    phrase: str
    rank: int = 0  # STRONG, GENERAL or HINT
    kind: str = ""  # the phrase's template: a file shows each kind once


def _found(line: int, template: str, *details: str, rank: int | None = None) -> Finding:
    return Finding(line, template.format(*details), rank_of(template) if rank is None else rank, template)


def scan_files(files: dict[str, bytes]) -> list[str]:
    """Flags for a submission's exercise files: "03_create_task.py:12 ends the test process (os._exit)".

    Never raises: a file the scan cannot handle gets one line saying so.
    """
    flags: list[str] = []
    for stem, data in sorted(files.items()):
        try:
            text, encoding = source_text(data)
            findings = scan_source(text)
            if encoding is not None:
                findings.insert(0, _found(encoding[0], SOURCE_ENCODING, encoding[1]))
        except Exception as error:  # a bug or a pathological file must not stop grading
            why = {RecursionError: "nested too deeply", MemoryError: "too big"}.get(type(error))
            findings = [_found(0, NOT_SCANNED, why or type(error).__name__)]
        shown = findings[:MAX_FLAGS_PER_FILE]
        flags += [
            f"{stem}.py:{finding.line} {_clip(finding.phrase, MAX_FLAG_LENGTH)}"
            if finding.line
            else f"{stem}.py: {finding.phrase}"
            for finding in shown
        ]
        if len(findings) > len(shown):
            flags.append(f"{stem}.py: {MORE.format(len(findings) - len(shown))}")
    return flags


# PEP 263: a coding declaration in a comment on line 1 or 2.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_PLAIN_ENCODINGS = {"utf-8", "ascii"}


def source_text(data: bytes) -> tuple[str, tuple[int, str] | None]:
    """The text Python runs from a file's bytes, and where it declares an unusual encoding.

    Python honours a coding declaration (`# -*- coding: utf-7 -*-`): read as UTF-8, such a file
    hides code in what looks like a comment (`# +AAo-import gc` is a line break and an import in
    UTF-7). The text is decoded as Python decodes it; any declared encoding but UTF-8 and ASCII
    is returned as (line, name), itself worth a flag. A file Python cannot decode is read as
    UTF-8 (its tests fail anyway)."""
    declared = None
    for number, line in enumerate(data.splitlines()[:2], start=1):
        match = _CODING.match(line)
        if match:
            name = match.group(1).decode("ascii", errors="replace")
            try:
                canonical = codecs.lookup(name).name
            except LookupError:
                break
            if canonical not in _PLAIN_ENCODINGS:
                declared = (number, canonical)
            break
        if line.strip() and not line.lstrip().startswith(b"#"):
            break  # a declaration counts only above any code
    try:
        return importlib.util.decode_source(data), declared
    except (SyntaxError, UnicodeDecodeError, LookupError, ValueError):
        return data.decode("utf-8", errors="replace"), declared


def scan_source(source: str, nesting: int = 0, budget: _Budget | None = None) -> list[Finding]:
    """Findings for one file's text, strongest first, then by line; one per kind.

    A file Python cannot parse has none (its tests fail anyway). May raise on a pathological
    file (RecursionError, MemoryError): scan_files turns that into one line. `nesting` and
    `budget` are for the code a file runs (exec of decoded data), scanned in turn. A file that
    uses up its budget (kata.batch.costs) keeps the findings made so far, and says it was
    scanned in part.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: list[Finding] = []
    try:
        for finding in _Scan(tree, nesting, budget or _Budget()).findings():
            found.append(finding)
    except OutOfBudget:
        found.append(_found(0, SCANNED_IN_PART, "too much to work out"))
    return _tidy(found)


@dataclass
class _Budget:
    """What one exercise file's scan, and the scans of all the code it runs, may still use."""

    characters: int = MAX_DECODED_CHARACTERS  # of decoded code scanned
    work: Budget = field(default_factory=Budget)  # of working out expressions (kata.batch.costs)


def _tidy(findings: list[Finding]) -> list[Finding]:
    """Drop hints on lines that already have a strong finding, and repeats; strongest first.

    A kind is shown once (its first line), except patches and comparisons: each target counts.
    """
    strong_lines = {finding.line for finding in findings if finding.rank < HINT}
    kept: dict[str, Finding] = {}
    for finding in sorted(findings, key=lambda f: (f.rank, f.line, -len(f.phrase))):
        if finding.rank == HINT and finding.line in strong_lines:
            continue
        key = finding.phrase if finding.kind in EACH_TARGET or not finding.kind else finding.kind
        kept.setdefault(key, finding)
    return list(kept.values())


# ---------------------------------------------------------------------------- the scan of one file


class _Scan:
    """The findings of one parsed file; `budget` is shared with the code it runs, scanned in turn."""

    def __init__(self, tree: ast.Module, nesting: int, budget: _Budget) -> None:
        self.nodes = list(ast.walk(tree))
        self.nesting = nesting
        self.budget = budget
        self.folder = Folder(self.nodes, self.qualname, budget.work)
        self.aliases: dict[str, str] = {}
        self._signs: dict[int, tuple[str, list[tuple[str, str]]]] = {}  # id(text) -> (text, its signs)
        self.bound = set(_bound_names(self.nodes))
        self._qualname_depth = 0
        self._resolve_aliases()
        self.docstrings = {
            id(node.value)
            for node in self.nodes
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }

    # ------------------------------------------------------------------ names

    def _resolve_aliases(self) -> None:
        for node in self.nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = normal_name(alias.name)
                    else:
                        root = alias.name.split(".")[0]
                        self.aliases[root] = normal_name(root)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        self.aliases[alias.asname or alias.name] = normal_name(f"{node.module}.{alias.name}")
        assignments = [(target, value) for node in self.nodes for target, value in _assigned_names(node)]
        for _ in range(3):  # aliases of aliases
            changed = False
            for target, value in assignments:
                if target in self.aliases:
                    continue
                name = self.qualname(value)
                if name is not None:
                    self.aliases[target] = name
                    changed = True
            if not changed:
                break

    def qualname(self, node: ast.AST) -> str | None:
        """What a name, attribute, item or call refers to through the file's imports: "sys.modules"."""
        self.budget.work.spend(CALL_NANOSECONDS)
        self._qualname_depth += 1
        try:
            if self._qualname_depth > MAX_QUALNAME_DEPTH:
                return None
            name = self._qualname(node)
            return through_modules(name) if name else None
        finally:
            self._qualname_depth -= 1

    def _qualname(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            if node.id == "__builtins__":
                return "builtins"
            if node.id in BUILTIN_NAMES and node.id not in self.bound:
                return f"builtins.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            return self._call_qualname(node)
        if isinstance(node, ast.Subscript):
            base = self.qualname(node.value)
            key = self.folder.value(node.slice)
            if base is None or not isinstance(key, str) or not DOTTED.fullmatch(f"x.{key}"):
                return None
            if base == "sys.modules":
                return normal_name(key)
            if base.endswith(".__dict__"):
                return f"{base.removesuffix('.__dict__')}.{key}"
            if base == "builtins":  # __builtins__ is a dict outside __main__
                return f"builtins.{key}"
        return None

    def _call_qualname(self, node: ast.Call) -> str | None:
        function = self.qualname(node.func)
        if function is None or not node.args:
            return None
        first = node.args[0]
        if function in IMPORTERS or function in MODULE_LOOKUPS:
            name = self.folder.value(first)
            return normal_name(name) if isinstance(name, str) and DOTTED.fullmatch(f"x.{name}") else None
        if function == "builtins.vars" and len(node.args) == 1:
            base = self.qualname(first)
            return f"{base}.__dict__" if base else None
        if GETATTRS.get(function) == "get" and function != "builtins.hasattr" and len(node.args) >= 2:
            base = self.qualname(first)
            name = self.folder.value(node.args[1])
            if base and isinstance(name, str) and name.isidentifier():
                return f"{base}.{name}"
        return None

    # ------------------------------------------------------------------ the walk

    def findings(self) -> Iterator[Finding]:
        script_only = self._script_only()
        handled: set[int] = set()  # nodes a more precise finding already covers
        for node in self.nodes:
            if id(node) in script_only:
                continue
            line = getattr(node, "lineno", 0)
            if isinstance(node, ast.Import):
                yield from self._imports(node)
            elif isinstance(node, ast.ImportFrom):
                yield from self._imports_from(node)
            elif isinstance(node, ast.Call):
                yield from self._call(node, handled)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                yield from self._patches(node)
            elif isinstance(node, ast.ClassDef):
                yield from self._comparisons(node)
            elif isinstance(node, ast.Raise) and node.exc is not None:
                raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if self.qualname(raised) in ENDING_EXCEPTIONS:
                    yield _found(line, ENDS, f"raise {_clip(ast.unparse(raised))}")
            if isinstance(node, ast.Attribute) and (phrase := attribute_phrase(node.attr, _own(node.value))):
                yield _found(line, phrase, f".{node.attr}")
            if isinstance(node, ast.Name) and node.id in NAME_PHRASES:
                yield _found(line, NAME_PHRASES[node.id], node.id)
            if (
                isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Call))
                and id(node) not in handled
            ):
                name = self.qualname(node)
                match = rule_for(name) if name else None
                if match:
                    yield _found(line, *match)
            yield from self._strings(node)

    def _script_only(self) -> set[int]:
        """The nodes under `if __name__ == "__main__":`, which never run when the tests import the
        file (a demo the lesson suggests) - unless the file gives `__name__` a value of its own."""
        if "__name__" in self.bound:
            return set()
        return {
            id(inner)
            for node in self.nodes
            if isinstance(node, ast.If) and _is_main_check(node.test)
            for statement in node.body
            for inner in ast.walk(statement)
        }

    def _imports(self, node: ast.Import) -> Iterator[Finding]:
        for alias in node.names:
            name = normal_name(alias.name)
            if name.split(".")[0] == "builtins":
                yield _found(node.lineno, BUILTINS, f"import {alias.name}")
            match = rule_for(name)
            if match:
                yield _found(node.lineno, *shown_as(match, f"import {alias.name}"))

    def _imports_from(self, node: ast.ImportFrom) -> Iterator[Finding]:
        if not node.module or node.level:
            return
        module = normal_name(node.module)
        if module.split(".")[0] == "builtins":
            yield _found(node.lineno, BUILTINS, f"from {node.module} import ...")
        for alias in node.names:
            whole = alias.name == "*"
            match = rule_for(module if whole else f"{module}.{alias.name}", whole=whole)
            if match:
                yield _found(node.lineno, *shown_as(match, f"from {node.module} import {alias.name}"))

    # ------------------------------------------------------------------ calls

    def _call(self, node: ast.Call, handled: set[int]) -> Iterator[Finding]:
        line = node.lineno
        function = self.qualname(node.func)
        if function is None:
            if isinstance(node.func, ast.Attribute) and node.func.attr in PATH_WRITERS:
                yield from self._file_access(line, node.func.value, True, f".{node.func.attr}(...)")
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "open" and self._writes(node, 0):
                # A path's own open: Path(name).open("w") wrote a module where a later process
                # looked for one, its name computed at run time (a red team, 2026-12-05).
                yield from self._file_access(line, node.func.value, True, ".open(...)")
            return
        shown = short_name(function)
        if function in EXECUTORS:
            handled.add(id(node.func))
            yield self._execution(node, function)
        elif function in IMPORTERS and node.args and not isinstance(self.folder.value(node.args[0]), str):
            yield _found(line, DYNAMIC_IMPORT, shown)
        elif function in GETATTRS and len(node.args) >= 2:
            yield from self._by_name(node, function)
        elif function in OPENERS and node.args:
            yield from self._open(node)
        elif function in ATTRIBUTE_GETTERS and node.args:
            path = self.folder.value(node.args[0])
            if not isinstance(path, str):  # any object, by any path (a red team's, 2026-12-05)
                yield _found(line, BY_NAME, "an object", shown)
            for name in path.split(".") if isinstance(path, str) else []:
                if phrase := attribute_phrase(name):
                    yield _found(line, phrase, f"{shown}({path!r})")
        elif function == "builtins.type" and len(node.args) == 3 and isinstance(node.args[2], ast.Dict):
            yield from self._made_class(node.args[2])
        match = rule_for(function)
        starts = match is not None and match[0] in (PROCESSES, RAW_FDS, LEAVES_GROUP)
        if starts and any(k.arg in SESSION_KEYWORDS and not _is_false(k.value) for k in node.keywords):
            yield _found(line, NEW_SESSION, shown)

    def _execution(self, node: ast.Call, function: str) -> Finding:
        shown = short_name(function)
        argument = node.args[0] if node.args else None
        decoder = self._decoding(argument) if argument is not None else None
        if decoder:
            finding = _found(node.lineno, RUNS_DECODED, shown, decoder)
        elif isinstance(argument, ast.Constant) and isinstance(argument.value, (str, bytes)):
            finding = _found(node.lineno, RUNS_STRING, shown)
        else:
            finding = _found(node.lineno, RUNS_CODE, shown)
        inside = self._inside(argument) if function in SOURCE_RUNNERS and argument is not None else []
        if inside:
            return Finding(node.lineno, CODE_DOES.format(finding.phrase, "; ".join(inside)), 0, CODE_DOES)
        return finding

    def _inside(self, argument: ast.expr) -> list[str]:
        """What the code passed to exec/eval/compile does, when it can be worked out."""
        if self.nesting >= MAX_NESTING:
            return []
        value = self.folder.value(argument)
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if not isinstance(value, str) or len(value) > self.budget.characters:
            return []
        self.budget.characters -= len(value)
        inner = [f for f in scan_source(value, self.nesting + 1, self.budget) if f.rank < HINT]
        phrases = [finding.phrase for finding in inner[:2]]
        return [*phrases, MORE.format(len(inner) - 2)] if len(inner) > 2 else phrases

    def _decoding(self, node: ast.expr) -> str | None:
        """The first decoding step in where `node`'s value comes from: "bytes.fromhex(...)"."""
        methods: list[str] = []
        seen: set[int] = set()
        followed: set[str] = set()  # names whose values are already pending
        pending: deque[ast.AST] = deque([node])
        while pending and len(seen) < 2_000:
            current = pending.popleft()
            if id(current) in seen:
                continue
            seen.add(id(current))
            self.budget.work.spend(STEP_NANOSECONDS)
            if isinstance(current, ast.Call):
                function = self.qualname(current.func)
                if function and (function in DECODERS or function.startswith(DECODER_MODULES)):
                    return f"{short_name(function)}(...)"
                if isinstance(current.func, ast.Attribute) and current.func.attr in DECODING_METHODS:
                    methods.append(f".{current.func.attr}(...)")
            elif isinstance(current, ast.Subscript) and isinstance(current.slice, ast.Slice):
                if current.slice.step is not None:
                    methods.append(f"[{ast.unparse(current.slice)}]")
            elif isinstance(current, ast.Name) and isinstance(current.ctx, ast.Load):
                function = self.qualname(current)
                if function in DECODERS and function not in ("builtins.bytes", "builtins.bytearray"):
                    return f"{short_name(function)}(...)"
                if current.id not in followed:
                    followed.add(current.id)
                    bound = self.folder.bound_to(current.id)
                    self.budget.work.spend(items_cost(len(bound)))
                    pending += bound
            pending += ast.iter_child_nodes(current)
        return methods[0] if methods else None

    def _by_name(self, node: ast.Call, function: str) -> Iterator[Finding]:
        """getattr/setattr/delattr and their spellings: the attribute name may be computed."""
        shown = short_name(function)
        target = self.qualname(node.args[0])
        name = self.folder.value(node.args[1])
        writes = GETATTRS[function] == "set"
        if isinstance(name, str):
            if phrase := attribute_phrase(name):
                yield _found(node.lineno, phrase, f"{shown}(..., {name!r})")
            if writes and target:
                yield _found(node.lineno, PATCHES, f"{short_name(target)}.{name}")
        elif target:
            yield _found(node.lineno, PATCHES_BY_NAME if writes else BY_NAME, short_name(target), shown)
        else:  # any object, by any name: with dir(), the way to the grader's objects in what it lends
            yield _found(node.lineno, PATCHES_BY_NAME if writes else BY_NAME, "an object", shown)

    def _open(self, node: ast.Call) -> Iterator[Finding]:
        path = self.folder.value(node.args[0])
        if isinstance(path, int) and not isinstance(path, bool):
            yield _found(node.lineno, RAW_FDS, f"open({path})")
            return
        yield from self._file_access(node.lineno, node.args[0], self._writes(node, 1), "open(...)")

    def _writes(self, node: ast.Call, position: int) -> bool:
        """Whether an open call's mode (its argument at `position`, or `mode=`) may write."""
        mode_node = node.args[position] if len(node.args) > position else _keyword(node, "mode")
        mode = self.folder.value(mode_node) if mode_node is not None else "r"
        return not isinstance(mode, str) or any(letter in mode for letter in "wax+")

    def _file_access(self, line: int, path_node: ast.expr, writes: bool, shown: str) -> Iterator[Finding]:
        text = self.folder.text_of(path_node)
        if text is not None and _outside(text):
            yield _found(line, WRITES_OUTSIDE if writes else READS_OUTSIDE, repr(_clip(text)))
        elif writes and (text is None or PIECE in text):
            yield _found(line, WRITES_SOMEWHERE, shown)

    # ------------------------------------------------------------------ patching

    def _patches(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete) -> Iterator[Finding]:
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in _flatten(list(targets)):
            if isinstance(target, ast.Attribute):
                base = self.qualname(target.value)
                if base:
                    yield _found(node.lineno, PATCHES, f"{short_name(base)}.{target.attr}")
                elif self._class_of_something_given(target.value):
                    yield _found(node.lineno, PATCHES_CLASS, _clip(ast.unparse(target)))
            elif isinstance(target, ast.Subscript):
                base = self.qualname(target.value)
                if base == "sys.modules":
                    yield _found(node.lineno, REPLACES_MODULE, _clip(ast.unparse(target)))
                elif base:
                    yield _found(node.lineno, PATCHES, short_name(self.qualname(target) or base))

    def _class_of_something_given(self, node: ast.expr) -> bool:
        """`type(x).attr = ...` or `x.__class__.attr = ...` for an x that is not self or cls."""
        if isinstance(node, ast.Call) and self.qualname(node.func) == "builtins.type" and len(node.args) == 1:
            subject = node.args[0]
        elif isinstance(node, ast.Attribute) and node.attr == "__class__":
            subject = node.value
        else:
            return False
        return not (isinstance(subject, ast.Name) and subject.id in ("self", "cls"))

    # ------------------------------------------------------------------ comparisons

    def _comparisons(self, node: ast.ClassDef) -> Iterator[Finding]:
        """`__eq__` and its kin that answer the same whatever they are given."""
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in ANSWERING:
                returns = [
                    n.value for n in ast.walk(item) if isinstance(n, ast.Return) and n.value is not None
                ]
                if self._always_same(item.name, item.args, returns, item.body):
                    yield _found(item.lineno, ALWAYS_SAME, item.name)
            elif isinstance(item, ast.Assign) and isinstance(item.value, ast.Lambda):
                for target in item.targets:
                    if isinstance(target, ast.Name) and target.id in ANSWERING:
                        body = item.value.body
                        if self._always_same(target.id, item.value.args, [body], [body]):
                            yield _found(item.lineno, ALWAYS_SAME, target.id)

    def _made_class(self, namespace: ast.Dict) -> Iterator[Finding]:
        """`type("A", (), {"__eq__": lambda self, other: True})`."""
        for key, value in zip(namespace.keys, namespace.values, strict=True):
            name = self.folder.value(key) if key is not None else None
            lam = value if isinstance(value, ast.Lambda) else None
            if name in ANSWERING and lam and self._always_same(str(name), lam.args, [lam.body], [lam.body]):
                yield _found(value.lineno, ALWAYS_SAME, str(name))

    def _always_same(self, name: str, args: ast.arguments, returns: list[ast.expr], body: list) -> bool:
        """Every answer is the same constant, or a comparison never reads what it is compared with."""
        answers = [value for value in returns if self.qualname(value) != "builtins.NotImplemented"]
        if not answers:
            return False
        values = [self.folder.value(value) for value in answers]
        first = values[0]
        if first is not UNKNOWN and all(type(value) is type(first) and value == first for value in values):
            return True  # the values were priced when worked out; comparing costs no more
        parameters = [*args.posonlyargs, *args.args]
        if name not in COMPARISONS or len(parameters) < 2 or args.vararg:
            return False
        other = parameters[1].arg
        return not any(isinstance(n, ast.Name) and n.id == other for part in body for n in ast.walk(part))

    # ------------------------------------------------------------------ strings

    def _strings(self, node: ast.AST) -> Iterator[Finding]:
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (str, bytes)) or id(node) in self.docstrings:
                return
        elif isinstance(node, (ast.List, ast.Tuple)):
            yield from _character_codes(node)
            return
        elif isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                return
        elif not isinstance(node, (ast.JoinedStr, ast.BinOp, ast.Call, ast.Subscript)):
            return
        if isinstance(node, ast.Constant):
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
        else:
            text = self.folder.text_of(node)
        if not text:
            return
        line = getattr(node, "lineno", 0)
        for template, detail in self._signs_in(text):
            yield _found(line, template, detail)
        if isinstance(node, ast.Constant):
            yield from _encoded(line, node.value, text)

    def _signs_in(self, text: str) -> list[tuple[str, str]]:
        """What a string spells out, worked out once per string: a worked-out value may be used on
        every line of a file, and each look goes through all of it."""
        known = self._signs.get(id(text))
        if known is not None and known[0] is text:
            return known[1]
        self.budget.work.spend(items_cost(len(text) // 8 + 1))
        signs = list(_string_signs(text))
        self._signs[id(text)] = (text, signs)  # keeps the text, so its id is not reused
        return signs


# ---------------------------------------------------------------------------- helpers


def _string_signs(text: str) -> Iterator[tuple[str, str]]:
    """(template, detail) for each sign that a string names the grader's world."""
    if PROC.search(text) or text.strip("/") == "proc":
        yield PROC_PATH, repr(_clip(text))
    folded = text.casefold()
    if any(word in folded for word in GRADER_WORDS) and GRADER_FILE.search(text):
        yield GRADER_FILES, repr(_clip(text))
    if GRADER_PREFIX in text:  # a name of the grader's, in a path a getter or format field walks
        yield GRADER_OBJECTS, repr(_clip(text))
    elif "_" in text and WALKED_NAMES.intersection(IDENTIFIER.findall(text)):
        yield SPELLS_OUT, repr(_clip(text))
    stripped = text.strip()
    dotted = stripped.split(".") if DOTTED.fullmatch(stripped) else []
    if (
        stripped in SENSITIVE_NAMES
        or "pytest" in stripped.lower()
        or (dotted and (dotted[0] in PATCHABLE_ROOTS or SENSITIVE_NAMES.intersection(dotted)))
    ):
        yield SPELLS_OUT, repr(_clip(stripped))


def _own(node: ast.AST) -> bool:
    """Whether an attribute is read from `self` or `cls`: an object of the code's own making."""
    return isinstance(node, ast.Name) and node.id in OWN_OBJECT_NAMES


def _clip(text: str, limit: int = 40) -> str:
    """One short printable line; an unknown piece of a string shows as *."""
    text = "".join(
        "*" if character == PIECE else character if character.isprintable() else "?" for character in text
    )
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _outside(path: str) -> bool:
    return path.startswith(("/", "~", "\\")) or bool(DRIVE.match(path)) or ".." in _PATH_SEPARATOR.split(path)


def _is_main_check(test: ast.expr) -> bool:
    """`__name__ == "__main__"`, either way round."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [side.id for side in sides if isinstance(side, ast.Name)]
    texts = [side.value for side in sides if isinstance(side, ast.Constant)]
    return names == ["__name__"] and texts == ["__main__"]


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and not node.value


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _flatten(targets: list[ast.expr]) -> Iterator[ast.expr]:
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            yield from _flatten(list(target.elts))
        elif isinstance(target, ast.Starred):
            yield from _flatten([target.value])
        else:
            yield target


def _assigned_names(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    """(name, value) for `name = value`, `a, b = x, y` and `(name := value)`."""
    if isinstance(node, ast.NamedExpr):
        yield node.target.id, node.value
    elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                yield target.id, node.value
            elif (
                isinstance(target, (ast.Tuple, ast.List))
                and isinstance(node.value, (ast.Tuple, ast.List))
                and len(target.elts) == len(node.value.elts)
            ):
                for element, value in zip(target.elts, node.value.elts, strict=True):
                    if isinstance(element, ast.Name):
                        yield element.id, value


def _bound_names(nodes: list[ast.AST]) -> Iterator[str]:
    """Names the file gives a value of its own (so a built-in of that name is not meant)."""
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            yield node.id
        elif isinstance(node, ast.arg):
            yield node.arg
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)):
            yield node.name or ""


def _encoded(line: int, value: str | bytes, text: str) -> Iterator[Finding]:
    """A long hex or base64 string, or binary bytes: how code hides from a reader."""
    if HEX.search(text):
        yield _found(line, ENCODED, f"a {len(text)}-character hex string")
    elif BASE64.search(text) and _DIGIT.search(text) and _LOWER_CASE.search(text):
        yield _found(line, ENCODED, f"a {len(text)}-character base64 string")
    elif isinstance(value, bytes) and len(value) >= 64:
        unprintable = sum(1 for byte in value if byte < 9 or 13 < byte < 32 or byte > 126)
        if unprintable * 4 > len(value):
            yield _found(line, ENCODED, f"{len(value)} bytes of binary data")


def _character_codes(node: ast.List | ast.Tuple) -> Iterator[Finding]:
    """A long list of small numbers is how text hides from a reader (`bytes([105, 109, ...])`)."""
    if len(node.elts) >= 64 and all(
        isinstance(element, ast.Constant) and type(element.value) is int and 0 <= element.value < 0x110000
        for element in node.elts
    ):
        yield _found(node.lineno, ENCODED, f"a list of {len(node.elts)} character codes")
