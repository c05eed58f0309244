"""What an expression of a submission would evaluate to, worked out without running the submission.

The scan (kata.batch.scan) asks "which string is this?" of expressions such as `'/pr' + 'oc'`,
`'/'.join(['', 'proc'])`, `f"/{'proc'}/{pid}"`, `'sy' 's'[::-1]` or
`bytes.fromhex('2f70726f63').decode()`, so that a path or a name cut into pieces, or code hidden
in hex, base64, zlib or a list of character codes, is seen whole.

Only pure operations on str, bytes and int are computed here, from a fixed list: string and
bytes methods (join, replace, decode, translate...), a few built-ins (chr, bytes, int, reversed,
map...), the decoders of base64, binascii, codecs, zlib, gzip, bz2 and lzma, `os.path.join`,
operators, slices, f-strings and `%`/`format` with small widths, comprehensions over constants.
A name stands for the value it was last given before the line that uses it (the scan is a hint,
not an interpreter). Nothing of the submission is imported or looked up in Python.

Every operation is priced before it is done (kata.batch.costs): one whose input or estimated
output is too big is not done, and its value is UNKNOWN; what is done is charged to the exercise
file's budget, and a file that has used it up raises OutOfBudget (the scan stops there and says so).

`text_of` goes one step further for the string checks: it keeps the known pieces of a string
built from known and unknown ones (`'/proc/' + str(pid)` is "/proc/\ufffd").
"""

from __future__ import annotations

import ast
import base64
import binascii
import bisect
import bz2
import codecs
import lzma
import posixpath
import re
import string
import zlib
from collections.abc import Callable, Iterable

from kata.batch import costs
from kata.batch.costs import MAX_INT_BITS, MAX_WIDTH, Budget, Cost, OutOfBudget, TooCostly

UNKNOWN = object()  # what an expression is when it cannot be worked out here
PIECE = "\ufffd"  # stands for an unknown part of a string in `text_of`

MAX_LENGTH = 200_000  # characters, bytes or items in any value
MAX_DEPTH = 60  # nested expressions followed

_WIDE_FORMAT = re.compile(r"\d{4,}")  # a width or precision of 1000 or more: refused
# No two parts of a pattern here may match the same characters (a width that could start with the
# flag 0 made `%000...0!` take minutes), and none crosses a brace it does not end at.
_PERCENT_SPEC = re.compile(r"%[-#0 +]*+(?:\*|[1-9]\d*+)?(?:\.(?:\*|\d*+))?[a-zA-Z%]")
_BRACE_FIELD = re.compile(r"\{[^{}]*\}")
_FIELD_LOOKUP = re.compile(r"\{[^{}]*[.\[]")  # `{0.attr}` or `{0[key]}` in a format string

_CONSTANTS = {
    "os.sep": "/",
    "os.path.sep": "/",
    "os.curdir": ".",
    "os.pardir": "..",
    "os.linesep": "\n",
    **{
        f"string.{name}": getattr(string, name)
        for name in string.__all__
        if isinstance(getattr(string, name), str)
    },
}

_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "center", "decode", "encode", "expandtabs", "format", "hex", "join",
        "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace",
        "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "strip", "swapcase", "title",
        "translate", "upper", "zfill", "to_bytes",
    }
)  # fmt: skip


_Refused = TooCostly  # too big, too costly, or not something computed here


def _small(value: object) -> object:
    if isinstance(value, (str, bytes, bytearray, list, tuple, range)) and len(value) > MAX_LENGTH:
        raise _Refused
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _Refused
    costs.checked_size(value)  # what a container holds, all told
    if isinstance(value, bytearray):
        return bytes(value)
    return value


def _decompress(data: object, make: Callable[[], object]) -> bytes:
    if not isinstance(data, bytes):
        raise _Refused
    decompressor = make()
    out = decompressor.decompress(data, MAX_LENGTH + 1)  # type: ignore[attr-defined]
    if len(out) > MAX_LENGTH:
        raise _Refused
    return out


def _codec(function: Callable[..., object]) -> Callable[..., object]:
    def call(data: object, encoding: str = "utf-8", errors: str = "strict") -> object:
        name = codecs.lookup(encoding).name
        if name == "zlib":
            return _decompress(data, zlib.decompressobj)
        if name == "bz2":
            return _decompress(data, bz2.BZ2Decompressor)
        return function(data, name, errors)

    return call


def _bytes(*args: object) -> bytes:
    if len(args) == 1 and isinstance(args[0], int):
        raise _Refused  # bytes(n) is n zeros: nothing to learn from it
    return bytes(*args)  # type: ignore[arg-type]


def _str(*args: object) -> str:
    if len(args) == 1 and not isinstance(args[0], (str, int, float, bool, type(None))):
        raise _Refused  # str(b'..') would show a repr, not the text
    return str(*args)  # type: ignore[arg-type]


def _path(*parts: object) -> str:
    if not all(isinstance(part, str) for part in parts):
        raise _Refused
    return posixpath.join(*parts) if parts else "."  # type: ignore[arg-type]


_FUNCTIONS: dict[str, Callable[..., object]] = {
    "builtins.chr": chr,
    "builtins.ord": ord,
    "builtins.str": _str,
    "builtins.bytes": _bytes,
    "builtins.bytearray": _bytes,
    "builtins.int": int,
    "builtins.hex": hex,
    "builtins.oct": oct,
    "builtins.bin": bin,
    "builtins.abs": abs,
    "builtins.len": len,
    "builtins.list": list,
    "builtins.tuple": tuple,
    "builtins.sorted": sorted,
    "builtins.reversed": lambda value: list(reversed(value)),
    "builtins.bytes.fromhex": bytes.fromhex,
    "builtins.bytearray.fromhex": bytes.fromhex,
    "builtins.str.maketrans": str.maketrans,
    "builtins.bytes.maketrans": bytes.maketrans,
    "builtins.int.from_bytes": int.from_bytes,
    **{f"base64.{name}": getattr(base64, name) for name in base64.__all__ if "code" in name},
    **{f"binascii.{name}": getattr(binascii, name) for name in ("a2b_base64", "a2b_hex", "unhexlify")},
    "codecs.decode": _codec(codecs.decode),
    "codecs.encode": _codec(codecs.encode),
    "zlib.decompress": lambda data, *rest: _decompress(data, lambda: zlib.decompressobj(*rest[:1] or (47,))),
    "gzip.decompress": lambda data: _decompress(data, lambda: zlib.decompressobj(47)),
    "bz2.decompress": lambda data: _decompress(data, bz2.BZ2Decompressor),
    "lzma.decompress": lambda data, *rest: _decompress(data, lzma.LZMADecompressor),
    "os.path.join": _path,
    "posixpath.join": _path,
    **{f"pathlib.{name}": _path for name in ("Path", "PurePath", "PosixPath", "PurePosixPath")},
    "operator.add": lambda a, b: a + b,
    "operator.concat": lambda a, b: a + b,
    "operator.xor": lambda a, b: a ^ b,
}  # fmt: skip

_OPERATORS: dict[type, Callable[[object, object], object]] = {
    ast.Add: lambda a, b: a + b,  # type: ignore[operator]
    ast.Sub: lambda a, b: a - b,  # type: ignore[operator]
    ast.BitXor: lambda a, b: a ^ b,  # type: ignore[operator]
    ast.BitAnd: lambda a, b: a & b,  # type: ignore[operator]
    ast.BitOr: lambda a, b: a | b,  # type: ignore[operator]
    ast.FloorDiv: lambda a, b: a // b,  # type: ignore[operator]
    ast.Mod: lambda a, b: a % b,  # type: ignore[operator]
    ast.RShift: lambda a, b: a >> b,  # type: ignore[operator]
}


def _guard_format(template: object, arguments: Iterable[object]) -> None:
    if isinstance(template, (str, bytes)) and _WIDE_FORMAT.search(
        template if isinstance(template, str) else template.decode("latin-1")
    ):
        raise _Refused
    if any(isinstance(argument, int) and abs(argument) > MAX_WIDTH for argument in arguments):
        raise _Refused  # a `*` width taken from the arguments


class Folder:
    """Works out expressions of one parsed file; `qualname` names what an expression refers to.

    `qualname(node)` answers "builtins.chr", "base64.b64decode", "os.sep"... for the names and
    attributes the scan has resolved through the file's imports, or None.
    """

    def __init__(
        self,
        nodes: Iterable[ast.AST],
        qualname: Callable[[ast.expr], str | None],
        budget: Budget | None = None,
    ) -> None:
        """`nodes`: every node of the file (`ast.walk(tree)`); `budget`: the exercise file's, shared
        with the folders of the code it runs."""
        self._qualname = qualname
        self.budget = budget or Budget()
        self._depth = 0
        self._cache: dict[int, object] = {}
        self._texts: dict[int, str | None] = {}
        self._bindings = _bindings(nodes)
        self._bound: dict[str, list[ast.expr]] = {}
        self._lines = {name: [line for line, _, _ in found] for name, found in self._bindings.items()}
        self._evaluating: set[int] = set()

    # ------------------------------------------------------------------ public

    def value(self, node: ast.AST) -> object:
        """What `node` evaluates to, or UNKNOWN. Raises OutOfBudget once the file's budget is used up."""
        return self._value(node, {})

    def bound_to(self, name: str) -> list[ast.expr]:
        """Every expression the file assigns to `name` (to follow where a value comes from)."""
        if name not in self._bound:
            found = self._bindings.get(name, [])
            self._bound[name] = [expression for _, _, expression in found if expression is not None]
        return self._bound[name]

    def text_of(self, node: ast.AST) -> str | None:
        """The string `node` builds, unknown parts as PIECE; None when it is not a string at all."""
        if id(node) not in self._texts:
            try:
                self._texts[id(node)] = self._text(node, 0)
            except (TooCostly, RecursionError):
                self._texts[id(node)] = None
        return self._texts[id(node)]

    # ------------------------------------------------------------------ evaluation

    def _value(self, node: ast.AST, env: dict[str, object]) -> object:
        if not env and id(node) in self._cache:
            return self._cache[id(node)]
        try:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused
            self.budget.spend(costs.STEP_NANOSECONDS)
            result = _small(self._compute(node, env))
            if isinstance(result, (list, tuple, dict)):
                self.budget.spend(costs.items_cost(len(result)))  # the size check went through it
        except OutOfBudget:
            raise
        except Exception:  # _Refused, or any error of the computation itself (TypeError, ValueError...)
            result = UNKNOWN
        finally:
            self._depth -= 1
        if not env:
            self._cache[id(node)] = result
        return result

    def _known(self, node: ast.AST, env: dict[str, object]) -> object:
        value = self._value(node, env)
        if value is UNKNOWN:
            raise _Refused
        return value

    def _pay(self, cost: Cost) -> None:
        """Charge an operation's estimated cost before doing it (TooCostly: it is not done)."""
        self.budget.spend(cost.nanoseconds, cost.output)

    def _compute(self, node: ast.AST, env: dict[str, object]) -> object:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, bytes, int, float, bool, type(None))):
                return node.value
            raise _Refused
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            if any(isinstance(element, ast.Starred) for element in node.elts):
                raise _Refused
            items = [self._known(element, env) for element in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise _Refused
            return {
                self._known(k, env): self._known(v, env) for k, v in zip(node.keys, node.values, strict=True)
            }  # type: ignore[arg-type]
        if isinstance(node, ast.Name):
            return self._name(node, env)
        if isinstance(node, ast.JoinedStr):
            parts = [self._known(part, env) for part in node.values]
            self._pay(costs.joined_cost(parts))
            return "".join(parts)  # type: ignore[arg-type]
        if isinstance(node, ast.FormattedValue):
            value = self._known(node.value, env)
            spec = self._known(node.format_spec, env) if node.format_spec else ""
            _guard_format(spec, [])
            self._pay(costs.format_cost("", [value], 1))
            if node.conversion == ord("r"):
                value = repr(value)
            elif node.conversion == ord("s"):
                value = str(value)
            elif node.conversion == ord("a"):
                value = ascii(value)
            return format(value, spec)  # type: ignore[arg-type]
        if isinstance(node, ast.BinOp):
            return self._binop(node, env)
        if isinstance(node, ast.UnaryOp):
            operand = self._known(node.operand, env)
            if isinstance(node.op, ast.USub):
                return -operand  # type: ignore[operator]
            if isinstance(node.op, ast.UAdd):
                return +operand  # type: ignore[operator]
            if isinstance(node.op, ast.Invert):
                return ~operand  # type: ignore[operator]
            return not operand
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = self._known(node.left, env), self._known(node.comparators[0], env)
            self._pay(costs.comparison_cost(left, right))
            return _compare(node.ops[0], left, right)
        if isinstance(node, ast.IfExp):
            test = self._value(node.test, env)
            if test is UNKNOWN:  # `True if x else True` is True whatever x is
                body, orelse = self._known(node.body, env), self._known(node.orelse, env)
                self._pay(costs.comparison_cost(body, orelse))
                if type(body) is not type(orelse) or body != orelse:
                    raise _Refused
                return body
            return self._known(node.body if test else node.orelse, env)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, env)
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
            return self._comprehension(node, env)
        if isinstance(node, ast.Call):
            return self._call(node, env)
        if isinstance(node, ast.Attribute):
            name = self._qualname(node)
            if name in _CONSTANTS:
                return _CONSTANTS[name]
        raise _Refused

    def _name(self, node: ast.Name, env: dict[str, object]) -> object:
        if node.id in env:
            return env[node.id]
        name = self._qualname(node)
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        return self._binding_value(node.id, getattr(node, "lineno", 0))

    def _binding_value(self, name: str, line: int) -> object:
        """The value the name was last given before `line` (or, if none, the last one in the file)."""
        bindings = self._bindings.get(name)
        if not bindings:
            raise _Refused
        before = bisect.bisect_left(self._lines[name], line)  # bindings on lines before this one
        return self._nth_binding(name, before - 1 if before else len(bindings) - 1)

    def _nth_binding(self, name: str, index: int) -> object:
        _, how, expression = self._bindings[name][index]
        if expression is None or id(expression) in self._evaluating:
            raise _Refused
        self._evaluating.add(id(expression))
        try:
            value = self._known(expression, {})
            if how is None:
                return value
            if index == 0:
                raise _Refused
            return self._apply(how, self._nth_binding(name, index - 1), value)
        finally:
            self._evaluating.discard(id(expression))

    def _binop(self, node: ast.BinOp, env: dict[str, object]) -> object:
        left, right = self._known(node.left, env), self._known(node.right, env)
        return self._apply(node.op, left, right)

    def _apply(self, op: ast.operator, left: object, right: object) -> object:
        if isinstance(op, ast.Mod) and isinstance(left, (str, bytes)):
            fields = left.count("%" if isinstance(left, str) else b"%")  # type: ignore[arg-type]
            self._pay(costs.format_cost(left, _format_arguments(right), fields))
        else:
            self._pay(costs.binary_cost(left, right))
        if isinstance(op, ast.Div) and isinstance(left, str) and isinstance(right, str):
            return posixpath.join(left, right)  # pathlib's `/`, folded into strings
        if isinstance(op, ast.Mult):
            count, seq = (left, right) if isinstance(left, int) else (right, left)
            sized = isinstance(count, int) and isinstance(seq, (str, bytes, list, tuple))
            if sized and len(seq) * max(count, 0) > MAX_LENGTH:  # type: ignore[arg-type]
                raise _Refused
            return left * right  # type: ignore[operator]
        if isinstance(op, ast.Pow):
            if not isinstance(left, int) or not isinstance(right, int):
                raise _Refused
            if right < 0 or max(left.bit_length(), 1) * right > MAX_INT_BITS:
                raise _Refused
            return left**right
        if isinstance(op, ast.LShift):
            if not isinstance(right, int) or right > MAX_INT_BITS:
                raise _Refused
            return left << right  # type: ignore[operator]
        if isinstance(op, ast.Mod) and isinstance(left, (str, bytes)):
            _guard_format(left, right if isinstance(right, tuple) else [right])
        operator = _OPERATORS.get(type(op))
        if operator is None:
            raise _Refused
        return operator(left, right)

    def _subscript(self, node: ast.Subscript, env: dict[str, object]) -> object:
        container = self._known(node.value, env)
        if not isinstance(container, (str, bytes, list, tuple, dict, range)):
            raise _Refused
        self._pay(costs.joined_cost([container]))  # a slice is no bigger than what it is cut from
        if isinstance(node.slice, ast.Slice):
            bounds = [
                None if part is None else self._known(part, env)
                for part in (node.slice.lower, node.slice.upper, node.slice.step)
            ]
            return container[slice(*bounds)]  # type: ignore[index]
        return container[self._known(node.slice, env)]  # type: ignore[index]

    def _comprehension(self, node: ast.GeneratorExp | ast.ListComp, env: dict[str, object]) -> object:
        if len(node.generators) != 1 or node.generators[0].is_async:
            raise _Refused
        generator = node.generators[0]
        items = self._known(generator.iter, env)
        if not isinstance(items, (str, bytes, list, tuple, range, dict)):
            raise _Refused
        self.budget.spend(costs.items_cost(len(items)))
        results = []
        for item in items:
            inner = {**env, **_unpack(generator.target, item)}
            if all(self._known(condition, inner) for condition in generator.ifs):
                results.append(self._known(node.elt, inner))
        return results

    def _call(self, node: ast.Call, env: dict[str, object]) -> object:
        if any(isinstance(argument, ast.Starred) for argument in node.args):
            raise _Refused
        name = self._qualname(node.func)
        if name == "builtins.map" and len(node.args) == 2:
            function = self._function(node.args[0], env)
            items = self._known(node.args[1], env)
            if not isinstance(items, (str, bytes, list, tuple, range, dict)):
                raise _Refused
            self.budget.spend(costs.items_cost(len(items)))
            return [function(item) for item in items]
        if name == "builtins.range":
            bounds = [self._known(argument, env) for argument in node.args]
            span = range(*bounds)  # type: ignore[arg-type]
            if len(span) > MAX_LENGTH:
                raise _Refused
            return span
        args = [self._known(argument, env) for argument in node.args]
        kwargs = {k.arg: self._known(k.value, env) for k in node.keywords if k.arg is not None}
        if len(kwargs) != len(node.keywords):
            raise _Refused
        if name in _FUNCTIONS:
            return self._call_function(name, args, kwargs)
        if isinstance(node.func, ast.Attribute) and node.func.attr in _STR_METHODS:
            receiver = self._known(node.func.value, env)
            if not isinstance(receiver, (str, bytes, int)) or (
                isinstance(receiver, int) and node.func.attr != "to_bytes"
            ):
                raise _Refused
            return self._method(receiver, node.func.attr, args, kwargs)
        raise _Refused

    def _call_function(self, name: str, args: list, kwargs: dict) -> object:
        self._pay(costs.function_cost(name, args, kwargs, MAX_LENGTH + 1))
        return _FUNCTIONS[name](*args, **kwargs)

    def _method(self, receiver: str | bytes | int, method: str, args: list, kwargs: dict) -> object:
        if method == "format":
            _guard_format(receiver, [*args, *kwargs.values()])
            if "{" in _BRACE_FIELD.sub("", str(receiver)) or _FIELD_LOOKUP.search(str(receiver)):
                raise _Refused  # no attribute or item lookups inside format fields
        padding = method in ("center", "ljust", "rjust", "zfill", "expandtabs", "to_bytes")
        if padding and any(isinstance(argument, int) and argument > MAX_WIDTH for argument in args):
            raise _Refused
        self._pay(costs.method_cost(receiver, method, args, kwargs))
        return getattr(receiver, method)(*args, **kwargs)

    def _function(self, node: ast.expr, env: dict[str, object]) -> Callable[[object], object]:
        """The function map() applies: a built-in from the list, or a lambda of one parameter."""
        if isinstance(node, ast.Lambda) and len(node.args.args) == 1 and not node.args.vararg:
            parameter = node.args.args[0].arg
            return lambda item: self._known(node.body, {**env, parameter: item})
        name = self._qualname(node)
        if name in _FUNCTIONS:
            return lambda item: self._call_function(name, [item], {})
        raise _Refused

    # ------------------------------------------------------------------ partial strings

    def _text(self, node: ast.AST, depth: int) -> str | None:
        if depth > MAX_DEPTH:
            raise _Refused
        value = self.value(node)
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode("latin-1")
        if value is not UNKNOWN:
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div, ast.Mod)):
            left, right = self._text(node.left, depth + 1), self._text(node.right, depth + 1)
            if left is None and right is None:
                return None
            if isinstance(node.op, ast.Mod):
                return _PERCENT_SPEC.sub(PIECE, self._pieced([left])) if left is not None else None
            joint = "/" if isinstance(node.op, ast.Div) else ""
            return self._pieced([left, joint, right])
        if isinstance(node, ast.JoinedStr):
            return self._pieced([self._text(part, depth + 1) for part in node.values])
        if isinstance(node, ast.FormattedValue):
            return self._text(node.value, depth + 1)
        if isinstance(node, ast.Call):
            return self._call_text(node, depth)
        return None

    def _call_text(self, node: ast.Call, depth: int) -> str | None:
        name = self._qualname(node.func)
        pieces = [self._text(argument, depth + 1) for argument in node.args]
        joins = name in ("os.path.join", "posixpath.join") or (name or "").startswith("pathlib.")
        if joins and any(piece is not None for piece in pieces):
            return self._pieced(pieces, "/")
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("join", "format"):
            receiver = self._text(node.func.value, depth + 1)
            if receiver is None:
                return None
            if node.func.attr == "format":
                return _BRACE_FIELD.sub(PIECE, self._pieced([receiver]))
            items = node.args[0] if node.args else None
            if isinstance(items, (ast.List, ast.Tuple)):
                return self._pieced([self._text(element, depth + 1) for element in items.elts], receiver)
        return None

    def _pieced(self, parts: list[str | None], separator: str = "") -> str:
        """The parts joined, an unknown one as PIECE, once the result is priced and small enough."""
        texts = [PIECE if part is None else part for part in parts]
        if sum(map(len, texts)) + len(separator) * len(texts) > MAX_LENGTH:
            raise _Refused
        self._pay(costs.joined_cost([*texts, separator]))  # the length, separators and all, is checked
        return separator.join(texts)


def _format_arguments(right: object) -> Iterable[object]:
    """What `template % right` may show: a tuple's items, a dict's values, or `right` itself."""
    if isinstance(right, dict):
        return right.values()
    if isinstance(right, tuple):
        return right
    return (right,)


def _compare(op: ast.cmpop, left: object, right: object) -> object:
    if isinstance(op, ast.Eq):
        return left == right
    if isinstance(op, ast.NotEq):
        return left != right
    if isinstance(op, ast.Is):
        return left is right
    if isinstance(op, ast.IsNot):
        return left is not right
    if isinstance(op, ast.In):
        return left in right  # type: ignore[operator]
    if isinstance(op, ast.NotIn):
        return left not in right  # type: ignore[operator]
    if isinstance(op, ast.Lt):
        return left < right  # type: ignore[operator]
    if isinstance(op, ast.LtE):
        return left <= right  # type: ignore[operator]
    if isinstance(op, ast.Gt):
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]


def _unpack(target: ast.expr, item: object) -> dict[str, object]:
    if isinstance(target, ast.Name):
        return {target.id: item}
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(item, (tuple, list, str, bytes)):
        if len(target.elts) != len(item):
            raise _Refused
        names: dict[str, object] = {}
        for element, part in zip(target.elts, item, strict=True):
            names |= _unpack(element, part)
        return names
    raise _Refused


# A binding: (line, how, expression). how is None for `name = expression`, the operator for
# `name op= expression`; expression is None when the name gets a value this module cannot know
# (a parameter, a loop variable, an import...).
_Binding = tuple[int, "ast.operator | None", "ast.expr | None"]


def _bindings(nodes: Iterable[ast.AST]) -> dict[str, list[_Binding]]:
    """Every name the file binds, with what it is bound to, in line order."""
    found: dict[str, list[_Binding]] = {}

    def bind(name: str, node: ast.AST, how: ast.operator | None, expression: ast.expr | None) -> None:
        found.setdefault(name, []).append((getattr(node, "lineno", 0), how, expression))

    def bind_target(target: ast.AST, node: ast.AST, expression: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            bind(target.id, node, None, expression)
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = expression.elts if isinstance(expression, (ast.Tuple, ast.List)) else None
            if values is not None and len(values) != len(target.elts):
                values = None
            for index, element in enumerate(target.elts):
                bind_target(element, node, values[index] if values is not None else None)
        elif isinstance(target, ast.Starred):
            bind_target(target.value, node, None)

    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind_target(target, node, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            bind_target(node.target, node, node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            bind(node.target.id, node, node.op, node.value)
        elif isinstance(node, ast.NamedExpr):
            bind(node.target.id, node, None, node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            bind_target(node.target, node if not isinstance(node, ast.comprehension) else node.iter, None)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    bind_target(item.optional_vars, node, None)
        elif isinstance(node, ast.arg):
            bind(node.arg, node, None, None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name, node, None, None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bind((alias.asname or alias.name).split(".")[0], node, None, None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name, node, None, None)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            continue
    for bindings in found.values():
        bindings.sort(key=lambda binding: binding[0])
    return found
