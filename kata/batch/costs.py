"""What working out an expression of a submission costs, estimated before it is done.

kata.batch.folding computes pure operations on constants (string methods, decoders, operators...)
so that code hidden in pieces is seen whole. A submission chooses their inputs, and some cost far
more than their inputs' size: a translate table that maps one character to 200,000 (gigabytes
for one call), 100 calls through one that maps it to 999 (25 s), a `{0}` field repeated a
thousand times, punycode (quadratic: 52 s for 20,000 characters), a list of 200,000 copies of a
long string (all measured on a 2-core machine, 2026-12-01).

So, before each operation:
- its output's size is estimated from its inputs' sizes, an upper bound; an operation whose time
  is not linear in its input (a codec not known to be linear) is done only on a small input;
- it is refused (TooCostly) when an input or the estimated output is over MAX_UNITS;
- its cost is charged to the exercise file's Budget: time (a unit is about a nanosecond) and what
  is kept (a unit is about a byte). A file whose budget runs out is scanned no further
  (OutOfBudget), and its flags say so.

An operation with no estimate here is refused: adding one to kata.batch.folding means adding its
bound here (tests/harness/test_batch_scan_costs.py checks that every one has one).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass

MAX_UNITS = 4_000_000  # about bytes, in any one value (a list of 200,000 ints is about 2 MB)
MAX_NANOSECONDS = 500_000_000  # estimated time per exercise file, with the code it runs
MAX_HELD_UNITS = 64_000_000  # about bytes of values made per exercise file (kept in a cache)
MAX_WIDTH = 1_000  # of format specs and padding (kata.batch.folding refuses more)
MAX_INT_BITS = 4_096

STEP_NANOSECONDS = 2_000  # one expression looked at by the folder: Python code, microseconds
CALL_NANOSECONDS = 300  # one name resolved or node followed by the scan
SLOT = 8  # a container's slot for each item
_FAST = 5  # nanoseconds a unit: a C routine over a string or bytes, or Python going through a list
_PYTHON = 50  # nanoseconds an item: Python going through a container
_SLOW = 300  # nanoseconds a unit: base64's pure-Python encodings (b32, b85, a85)
SMALL_INPUT = 64  # units a codec not known to be linear may work on (punycode, idna...)


class TooCostly(Exception):
    """An input or the estimated output of one operation is too big: the value stays unknown."""


class NoEstimate(TooCostly):
    """An operation this module has no estimate for: it is not computed."""


class OutOfBudget(Exception):
    """The exercise file has used its budget: it is scanned no further."""


@dataclass
class Budget:
    """What working out one exercise file's expressions, and those of the code it runs, may still use."""

    nanoseconds: int = MAX_NANOSECONDS
    held: int = MAX_HELD_UNITS

    def spend(self, nanoseconds: int, held: int = 0) -> None:
        self.nanoseconds -= nanoseconds
        self.held -= held
        if self.nanoseconds < 0 or self.held < 0:
            raise OutOfBudget


@dataclass(frozen=True)
class Cost:
    output: int  # units the result may hold, at most
    nanoseconds: int


# ---------------------------------------------------------------------------- sizes


def size_of(value: object, cap: int = MAX_UNITS) -> int:
    """About how many bytes `value` would take written out: what an operation on it goes through
    (a list holding one list twice counts it twice). Past `cap` the counting stops (the answer
    is then only known to be over it). A kind of value the folder does not make is over it."""
    return _size(value, cap, {})


def _size(value: object, cap: int, known: dict[int, int]) -> int:
    kind = type(value)
    if kind is str:
        return len(value) if value.isascii() else 4 * len(value)  # type: ignore[attr-defined,arg-type]
    if kind is bytes or kind is bytearray:
        return len(value)  # type: ignore[arg-type]
    if kind is int:
        return 1 + value.bit_length() // 8  # type: ignore[attr-defined]
    if value is None or kind is bool or kind is float:
        return 1
    if kind is range:
        return SLOT * len(value)  # type: ignore[arg-type]
    if kind is list or kind is tuple or kind is dict:
        if id(value) not in known:  # a container held many times is gone through once
            items = value.items() if kind is dict else value  # type: ignore[attr-defined]
            total = SLOT * len(value)  # type: ignore[arg-type]
            for item in items:
                if total > cap:
                    break
                total += _size(item, cap - total, known)
            known[id(value)] = total
        return known[id(value)]
    return cap + 1


def checked_size(value: object) -> int:
    """size_of(value), or TooCostly when it is over MAX_UNITS."""
    size = size_of(value)
    if size > MAX_UNITS:
        raise TooCostly
    return size


def _sizes(values: Iterable[object]) -> int:
    return sum(checked_size(value) for value in values)


def joined_cost(parts: Iterable[object]) -> Cost:
    """Putting strings (or lists) together: an f-string, a path, a string with unknown pieces."""
    units = _sizes(parts)
    return _linear(units, units)


def items_cost(count: int) -> int:
    """Nanoseconds for Python to go through `count` items (a comprehension, map, a size check)."""
    return _PYTHON * count


def _linear(output: int, inputs: int, per_unit: int = _FAST) -> Cost:
    if output > MAX_UNITS:
        raise TooCostly
    return Cost(output, per_unit * (inputs + output) + STEP_NANOSECONDS)


def _text_units(length: int) -> int:
    """A string made of `length` characters of any kind."""
    return 4 * length


# ---------------------------------------------------------------------------- codecs

# codecs.lookup(...).name -> most output units per input unit, either way (text to bytes, bytes to
# text, bytes to bytes), for the codecs whose time is linear in their input.
_LINEAR_CODECS = {
    **dict.fromkeys(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"], 4),
    **dict.fromkeys(["utf-32", "utf-32-le", "utf-32-be", "ascii", "iso8859-1", "cp1252", "rot-13"], 4),
    **dict.fromkeys(["utf-7", "unicode-escape", "raw-unicode-escape"], 40),
    **dict.fromkeys(["base64", "hex", "quopri", "uu"], 4),
}
_DECOMPRESSING = frozenset({"zlib", "bz2"})  # kata.batch.folding decompresses with a cap on the output
_ERROR_HANDLERS = {"strict": 1, "ignore": 1, "replace": 1, "surrogateescape": 1, "surrogatepass": 1}
_ERROR_HANDLERS |= {"backslashreplace": 10, "xmlcharrefreplace": 10}
MAX_ENCODING_NAME = 64


def codec_name(encoding: object) -> str:
    if not isinstance(encoding, str) or len(encoding) > MAX_ENCODING_NAME:
        raise TooCostly
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise TooCostly from None


def codec_cost(data: object, encoding: object = "utf-8", errors: object = "strict", cap: int = 0) -> Cost:
    """Encoding or decoding `data`; `cap` is the output cap of a decompressing codec."""
    name = codec_name(encoding)
    if not isinstance(data, (str, bytes)) or errors not in _ERROR_HANDLERS:
        raise TooCostly
    units = size_of(data)
    if units > MAX_UNITS:
        raise TooCostly
    if name in _DECOMPRESSING:
        return _linear(cap, units, 10)
    if name in _LINEAR_CODECS:
        return _linear(_LINEAR_CODECS[name] * _ERROR_HANDLERS[errors] * units + 16, units)
    if units > SMALL_INPUT:  # punycode, idna... may be quadratic, or worse: only small inputs
        raise TooCostly
    return _linear(_text_units(16 * (units + 4)), units, _SLOW * (units + 1))


# ---------------------------------------------------------------------------- formatting


def format_cost(template: object, values: Iterable[object], fields: int) -> Cost:
    """`template.format(*values)` or `template % values`, with `fields` replacement fields: each may
    show any of the values (a key or an index used again), padded to MAX_WIDTH at most."""
    if not isinstance(template, (str, bytes)):
        raise TooCostly
    widest = 0
    for value in values:
        if not (value is None or isinstance(value, (str, bytes, int, float))):
            raise TooCostly  # a container would show as its repr: not worked out
        widest = max(widest, size_of(value))
    shown = _text_units(10 * widest + MAX_WIDTH)  # repr() or ascii() of a string: up to 10 characters each
    return _linear(size_of(template) + fields * shown, size_of(template) + widest)


# ---------------------------------------------------------------------------- operators


def binary_cost(left: object, right: object) -> Cost:
    """`+`, `*`, `/` (path joining) and the operators on numbers."""
    if isinstance(left, int) and isinstance(right, (str, bytes, list, tuple)):
        left, right = right, left
    if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, int) and not isinstance(right, bool):
        return _linear(checked_size(left) * max(right, 0), checked_size(left))  # repetition
    inputs = checked_size(left) + checked_size(right)
    return _linear(inputs + SLOT, inputs)


def comparison_cost(left: object, right: object) -> Cost:
    inputs = checked_size(left) + checked_size(right)
    return Cost(1, _FAST * inputs + STEP_NANOSECONDS)


# ---------------------------------------------------------------------------- functions


def _base64_cost(name: str, args: list, kwargs: dict) -> Cost:
    units = _sizes([*args, *kwargs.values()])
    slow = name.startswith(("base64.b32", "base64.b85", "base64.a85"))
    per_unit = _SLOW if slow else _FAST
    return _linear(4 * units + 16, units, per_unit)  # a85's "z" is 4 bytes; encodings grow by 2 at most


def function_cost(name: str, args: list, kwargs: dict, decompressed: int) -> Cost:
    """The cost of calling the folder's function `name` (kata.batch.folding._FUNCTIONS);
    `decompressed` is the cap of a decompressor's output."""
    inputs = _sizes([*args, *kwargs.values()])
    first = args[0] if args else None
    if name in ("builtins.chr", "builtins.ord", "builtins.abs", "builtins.len"):
        return _linear(SLOT, inputs)
    if name in ("builtins.hex", "builtins.oct", "builtins.bin"):
        return _linear(MAX_INT_BITS + 2, inputs)
    if name == "builtins.int":
        if isinstance(first, (str, bytes)) and len(first) > MAX_INT_BITS + 100:
            raise TooCostly
        return _linear(MAX_INT_BITS // 8, inputs)
    if name == "builtins.int.from_bytes":
        if isinstance(first, (bytes, list)) and 8 * len(first) > MAX_INT_BITS:
            raise TooCostly
        return _linear(MAX_INT_BITS // 8, inputs)
    if name == "builtins.str":
        if len(args) >= 2:
            return codec_cost(first, *args[1:3], **kwargs)
        return _linear(_text_units(inputs + MAX_INT_BITS), inputs)
    if name in ("builtins.bytes", "builtins.bytearray"):
        if len(args) >= 2 and isinstance(first, str):
            return codec_cost(first, *args[1:3], **kwargs)
        return _linear(inputs + SLOT, inputs, _PYTHON if isinstance(first, (list, tuple)) else _FAST)
    if name in ("builtins.list", "builtins.tuple", "builtins.sorted", "builtins.reversed"):
        count = len(first) if isinstance(first, (str, bytes, list, tuple, dict, range)) else 0
        output = inputs + SLOT * count + (SLOT * count if isinstance(first, range) else 0)
        return _linear(output, inputs, _PYTHON if name == "builtins.sorted" else _FAST)
    if name in ("builtins.bytes.fromhex", "builtins.bytearray.fromhex"):
        return _linear(inputs, inputs)
    if name in ("builtins.str.maketrans", "builtins.bytes.maketrans"):
        return _linear(4 * inputs + 256 * SLOT, inputs, _PYTHON)
    if name.startswith("base64."):
        return _base64_cost(name, args, kwargs)
    if name.startswith("binascii."):
        return _linear(inputs, inputs)
    if name in ("codecs.decode", "codecs.encode"):
        return codec_cost(first, *args[1:3], **kwargs, cap=decompressed)
    if name.endswith("decompress"):
        return _linear(decompressed, inputs, 10)
    if name in ("os.path.join", "posixpath.join") or name.startswith("pathlib."):
        return _linear(inputs + len(args), inputs)
    if name.startswith("operator."):
        return binary_cost(*args) if len(args) == 2 else _linear(inputs, inputs)
    raise NoEstimate(name)


# ---------------------------------------------------------------------------- methods of str, bytes, int

_CASE_METHODS = frozenset({"capitalize", "casefold", "lower", "swapcase", "title", "upper"})
_NOT_LONGER = frozenset({"removeprefix", "removesuffix"})
_PADDING = frozenset({"center", "ljust", "rjust", "zfill"})
_PARTS = frozenset({"partition", "rpartition", "split", "rsplit", "splitlines"})
_STRIPS = frozenset({"strip", "lstrip", "rstrip"})


def method_cost(receiver: object, method: str, args: list, kwargs: dict) -> Cost:
    """The cost of `receiver.method(*args, **kwargs)` for the folder's str, bytes and int methods."""
    size = checked_size(receiver)
    inputs = size + _sizes([*args, *kwargs.values()])
    if method in _CASE_METHODS:
        return _linear(3 * size + SLOT, inputs)  # one character may become three ("ß" to "SS")
    if method in _NOT_LONGER:
        return _linear(size, inputs)
    if method in _STRIPS:
        characters = args[0] if args and args[0] is not None else " "
        return _linear(size, inputs, _FAST * max(1, len(characters)))  # each character looked up in them
    if method in _PADDING or method == "to_bytes":
        return _linear(size + 4 * MAX_WIDTH, inputs)
    if method == "expandtabs":
        tabs = receiver.count("\t" if isinstance(receiver, str) else b"\t")  # type: ignore[union-attr]
        width = args[0] if args else kwargs.get("tabsize", 8)
        return _linear(size + 4 * tabs * max(int(width), 1), inputs)
    if method in _PARTS:
        return _linear(size + SLOT * (len(receiver) + 3), inputs)  # type: ignore[arg-type]
    if method in ("encode", "decode"):
        return codec_cost(receiver, *args[:2], **kwargs)
    if method == "hex":
        return _linear(3 * size + SLOT, inputs)
    if method == "join":
        parts = args[0] if args else ()
        count = len(parts) if isinstance(parts, (str, bytes, list, tuple)) else 0
        return _linear(inputs + size * count, inputs)
    if method == "replace":
        return _replace_cost(receiver, args, inputs)
    if method == "format":
        values = [*args, *kwargs.values()]
        return format_cost(receiver, values, receiver.count("{"))  # type: ignore[union-attr]
    if method == "translate":
        return _linear(size * _widest_mapping(args[0] if args else None), inputs, 5 * _FAST)
    if method == "maketrans":
        return _linear(4 * inputs + 256 * SLOT, inputs, _PYTHON)
    raise NoEstimate(method)


def _replace_cost(receiver: object, args: list, inputs: int) -> Cost:
    if len(args) < 2 or not isinstance(receiver, (str, bytes)):
        raise TooCostly
    old, new = args[0], args[1]
    if not isinstance(old, type(receiver)) or not isinstance(new, type(receiver)):
        raise TooCostly
    times = receiver.count(old) if old else len(receiver) + 1  # type: ignore[arg-type]
    if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
        times = min(times, args[2])
    grown = len(receiver) + times * max(len(new) - len(old), 0)
    wide = 1 if receiver.isascii() and new.isascii() else 4
    return _linear(wide * grown, inputs)


def _widest_mapping(table: object) -> int:
    """The most units one character may become through a translate table (4 a character)."""
    if isinstance(table, (str, bytes)) or table is None:
        return 4
    if isinstance(table, dict):
        values: Iterable[object] = table.values()
    elif isinstance(table, (list, tuple)):
        values = table
    else:
        raise TooCostly
    widest = 1
    for value in values:
        if isinstance(value, (str, bytes)):
            widest = max(widest, len(value))
    return 4 * widest
