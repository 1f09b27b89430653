"""The child-process side of the script sandbox, plus the pieces both sides share.

This file is run as a *script* (``python -I engine/scripting_child.py MEM CPU``) by
:class:`engine.scripting.Sandbox`, and imported as a module by the parent for the shared
codec and the restricted compiler. It therefore imports only the standard library and
RestrictedPython: ``-I`` keeps the child away from the project's code, the working
directory and every ``PYTHON*`` environment variable.

Why a separate process at all: RestrictedPython closes the known escapes at compile
time and with run-time guards, but it cannot bound CPU or memory (``10**10**10`` is a
single C call that no signal interrupts). The child runs under ``RLIMIT_AS`` and
``RLIMIT_CPU`` and the parent kills it when the wall-time limit passes, so a runaway
script costs one respawn, never the engine.

Wire format: each message is a 4-byte big-endian length followed by UTF-8 JSON. Values
JSON has no type for travel as ``{"$t": tag, "v": ...}``; pickle is never used, because
unpickling the child's output in the parent would hand a compromised child the parent.
"""

from __future__ import annotations

import ast
import functools
import json
import operator
import os
import re
import resource
import signal
import struct
import sys
import textwrap
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import CodeType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer

HEADER = struct.Struct(">I")
MAX_MESSAGE = 64 * 2**20
"""Largest message either side accepts; a reply beyond this is treated as hostile."""
MAX_SOURCE = 100_000
"""Longest script accepted, so compiling can never be the expensive part."""
MAX_DEPTH = 200
"""Deepest nesting of lists/dicts carried across; also bounds the codec's recursion."""
MAX_INT_BITS = 14_000
"""Largest int carried (JSON turns ints into decimal text, capped by Python at 4300 digits)."""
MAX_POW_BITS = 1 << 20
"""``a ** b`` with constant operands whose result would exceed this is refused at compile."""
RANGE_LIMIT = 10_000_000
"""``range()`` larger than this is refused: a loop that long cannot finish in time anyway."""

TAG = "$t"
SCRIPT_FILENAME = "<script>"
DENIED_ATTRIBUTES = INSPECT_ATTRIBUTES | {"format", "format_map", "mro"}
"""Refused on top of every ``_name``: ``str.format`` reads attributes inside the format
string (``'{0.__class__}'.format(x)``) where no compile-time check can see them; ``mro``
leads from any class to ``object``."""
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")


# ---------------------------------------------------------------------------------------
# Codec: plain JSON plus tagged datetime, date, time, timedelta, Decimal, tuple and dicts
# whose keys are not all strings.


class UnsupportedValue(ValueError):
    """A value the codec cannot carry; the message names its type."""


def to_json(value: Any, depth: int = 0) -> Any:
    """Turn ``value`` into something :func:`json.dumps` takes, tagging what JSON lacks."""
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is float:
        return value
    if isinstance(value, int):  # also IntEnum and friends from the parent side
        if value.bit_length() > MAX_INT_BITS:
            raise UnsupportedValue("an integer too large to store")
        return int(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, float):
        return float(value)
    if depth >= MAX_DEPTH:
        raise UnsupportedValue(f"data nested more than {MAX_DEPTH} levels deep")
    depth += 1
    if isinstance(value, list):
        return [to_json(item, depth) for item in value]
    if isinstance(value, dict):
        if TAG not in value and all(type(key) is str for key in value):
            return {key: to_json(item, depth) for key, item in value.items()}
        pairs = [[to_json(key, depth), to_json(item, depth)] for key, item in value.items()]
        return {TAG: "dict", "v": pairs}
    if isinstance(value, tuple):
        return {TAG: "tuple", "v": [to_json(item, depth) for item in value]}
    if isinstance(value, datetime):
        out: dict[str, Any] = {TAG: "datetime", "v": value.isoformat()}
        if isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key:
            out["tz"] = value.tzinfo.key
        elif value.fold:
            out["fold"] = 1
        return out
    if isinstance(value, date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {TAG: "time", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        return {TAG: "decimal", "v": str(value)}
    raise UnsupportedValue(describe(value))


def from_json_object(obj: dict[str, Any]) -> Any:
    """``object_hook`` for :func:`json.loads`: rebuild the values :func:`to_json` tagged.

    Raises ValueError/TypeError/KeyError on anything malformed; callers treat that as a
    broken peer.
    """
    tag = obj.get(TAG)
    if tag is None:
        return obj
    v = obj["v"]
    if tag == "datetime":
        dt = datetime.fromisoformat(v)
        zone = obj.get("tz")
        if zone is not None:
            if not (isinstance(zone, str) and _ZONE_KEY.fullmatch(zone)) or dt.tzinfo is None:
                raise ValueError("bad time zone")
            return dt.astimezone(ZoneInfo(zone))
        return dt.replace(fold=1) if obj.get("fold") else dt
    if tag == "date":
        return date.fromisoformat(v)
    if tag == "time":
        return time.fromisoformat(v)
    if tag == "timedelta":
        days, seconds, micros = v
        return timedelta(days=days, seconds=seconds, microseconds=micros)
    if tag == "decimal":
        if type(v) is not str:
            raise TypeError("decimal must be a string")
        return Decimal(v)
    if tag == "tuple":
        return tuple(v)
    if tag == "dict":
        return {key: item for key, item in v}
    raise ValueError(f"unknown tag {tag!r}")


def dumps(message: Any) -> bytes:
    """Serialise an already :func:`to_json`-converted message."""
    return json.dumps(message, separators=(",", ":"), check_circular=False).encode()


def loads(data: bytes) -> Any:
    """Parse one message, rebuilding tagged values."""
    return json.loads(data, object_hook=from_json_object)


def frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length, as both sides read it."""
    return HEADER.pack(len(payload)) + payload


def describe(value: object) -> str:
    """Short user-facing name of a value's type, e.g. ``a set``, ``a generator``."""
    name = type(value).__name__
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


# ---------------------------------------------------------------------------------------
# Restricted compilation (used by the child to run code, and by the parent to validate).


class _HugePower(Exception):
    pass


def _pow_bits(base: int, exponent: int) -> int:
    return exponent * max(abs(base).bit_length() - 1, 0)


def _constant_int(node: ast.AST) -> int | None:
    """Value of an int literal expression such as ``-10 ** 10``; None if not constant."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _constant_int(node.operand)
        if inner is None:
            return None
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base, exponent = _constant_int(node.left), _constant_int(node.right)
        if base is None or exponent is None or exponent < 0:
            return None
        if _pow_bits(base, exponent) > MAX_POW_BITS:
            raise _HugePower
        return int(base**exponent)
    return None


class CaseClockPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, tightened where BPMN scripts never need the feature.

    RestrictedPython *allows* ``import`` (relying on a guarded ``__import__``) and class
    definitions (relying on ``__metaclass__``); we provide neither, so we refuse them at
    compile time with a clear message instead of a confusing run-time NameError.
    """

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "import is not allowed")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.error(node, "import is not allowed")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.error(node, "class definitions are not allowed")
        return node

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr in ("format", "format_map"):
            self.error(node, f'"{node.attr}" is not allowed; use an f-string or % instead')
        elif node.attr == "mro":
            self.error(node, '"mro" is not allowed')
        return super().visit_Attribute(node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        """Refuse ``**`` whose constant operands promise a gigantic number.

        A cheap early answer only: ``n = 10; n ** n ** n`` gets past it and is stopped
        by the child's time and memory limits.
        """
        if isinstance(node.op, ast.Pow):
            try:
                base, exponent = _constant_int(node.left), _constant_int(node.right)
            except _HugePower:
                base, exponent = None, MAX_POW_BITS + 1
            if (
                exponent is not None
                and (_pow_bits(base, exponent) if base is not None else exponent) > MAX_POW_BITS
            ):
                self.error(node, "the result of ** would be too large")
                return node
        return super().visit_BinOp(node)


class Compiled(NamedTuple):
    """Outcome of :func:`restricted_compile`; ``code`` is None when refused."""

    code: CodeType | None
    kind: str  # "ok", "syntax" or "refused"
    message: str
    line: int | None


def normalise(source: str, mode: str) -> str:
    """Forgive the indentation BPMN XML tends to add around code.

    ``eval()`` itself ignores leading blanks, which SpiffWorkflow's default engine relies
    on for conditions; ``compile()`` does not. Dedenting a script changes nothing for code
    that was valid before (line numbers stay the same).
    """
    return source.strip() if mode == "eval" else textwrap.dedent(source)


def restricted_compile(source: str, mode: str) -> Compiled:
    """Compile ``source`` ("exec" or "eval" mode) under :class:`CaseClockPolicy`."""
    if not isinstance(source, str):
        return Compiled(None, "refused", "code must be a string", None)
    if len(source) > MAX_SOURCE:
        return Compiled(None, "refused", f"code is longer than {MAX_SOURCE} characters", None)
    try:
        tree = ast.parse(normalise(source, mode), SCRIPT_FILENAME, mode)
    except SyntaxError as exc:
        where = f" on line {exc.lineno}" if exc.lineno else ""
        return Compiled(None, "syntax", f"syntax error{where}: {exc.msg}", exc.lineno)
    except ValueError as exc:
        return Compiled(None, "syntax", f"code cannot be parsed: {exc}", None)
    except (RecursionError, MemoryError):
        return Compiled(None, "syntax", "code is nested too deeply to parse", None)
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    try:
        result = compiler(tree, SCRIPT_FILENAME, policy=CaseClockPolicy)
    except (RecursionError, MemoryError):
        return Compiled(None, "refused", "code is nested too deeply", None)
    if result.errors:
        found = re.match(r"Line (\d+):", result.errors[0])
        line = int(found.group(1)) if found else None
        return Compiled(None, "refused", "; ".join(result.errors), line)
    return Compiled(result.code, "ok", "", None)


@functools.lru_cache(maxsize=512)
def cached_compile(source: str, mode: str) -> Compiled:
    """Scripts and gateway conditions repeat endlessly; compile each one once."""
    return restricted_compile(source, mode)


# ---------------------------------------------------------------------------------------
# What a script can see.


def guarded_getattr(obj: object, name: str) -> Any:
    """``_getattr_``: every ``a.b`` in restricted code goes through here at run time."""
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_") or name in DENIED_ATTRIBUTES:
        raise AttributeError(f"attribute {name!r} is not allowed")
    return getattr(obj, name)


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "^=": operator.ixor,
    "|=": operator.ior,
    "@=": operator.imatmul,
}


def inplacevar(op: str, target: Any, value: Any) -> Any:
    """``_inplacevar_``: RestrictedPython rewrites ``x += y`` into a call of this."""
    return _INPLACE[op](target, value)


def apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``_apply_``: calls written with ``*args``/``**kwargs`` land here."""
    return func(*args, **kwargs)


def limited_range(*args: int) -> range:
    """``range`` that refuses absurd lengths up front."""
    result = range(*args)
    if len(result) > RANGE_LIMIT:
        raise ValueError(f"range() is limited to {RANGE_LIMIT} items")
    return result


_LEFT_OUT = {"__build_class__", "setattr", "delattr", "_getattr_"}
BUILTINS: dict[str, Any] = {k: v for k, v in safe_builtins.items() if k not in _LEFT_OUT}
BUILTINS.update(
    # harmless extras BPMN scripts want
    min=min,
    max=max,
    sum=sum,
    any=any,
    all=all,
    sorted=sorted,
    reversed=reversed,
    enumerate=enumerate,
    zip=zip,
    map=map,
    filter=filter,
    next=next,
    iter=iter,
    dict=dict,
    list=list,
    tuple=tuple,
    set=set,
    frozenset=frozenset,
    range=limited_range,
    # values scripts work with (classes are safe: the guards refuse every dunder)
    datetime=datetime,
    date=date,
    timedelta=timedelta,
    timezone=timezone,
    Decimal=Decimal,
    # RestrictedPython's hooks; scripts cannot name them since they start with "_"
    _getattr_=guarded_getattr,
    _getitem_=operator.getitem,
    _getiter_=iter,
    _write_=full_write_guard,
    _inplacevar_=inplacevar,
    _apply_=apply,
    _unpack_sequence_=guarded_unpack_sequence,
    _iter_unpack_sequence_=guarded_iter_unpack_sequence,
    _print_=PrintCollector,
)
"""Everything lives in ``__builtins__`` so the script's globals hold only its own data."""


# ---------------------------------------------------------------------------------------
# The child process.


class _Refusal(Exception):
    """Ends a request with an error reply; ``reply`` is the JSON-ready body."""

    def __init__(self, kind: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.reply = {"ok": False, "kind": kind, "message": message, "line": line}


_MEMORY_REPLY = frame(b'{"ok":false,"kind":"memory","message":"memory limit"}')
"""Prepared in advance: after a MemoryError there may be no memory to build a reply."""


def _script_line(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _run(request: dict[str, Any]) -> dict[str, Any]:
    op, source, names = request["op"], request["code"], request["names"]
    compiled = cached_compile(source, "eval" if op == "eval" else "exec")
    if compiled.code is None:
        raise _Refusal(compiled.kind, compiled.message, compiled.line)
    scope: dict[str, Any] = {"__builtins__": BUILTINS}
    # "_" names are RestrictedPython's hooks; data must never shadow them.
    scope.update((key, item) for key, item in names.items() if not key.startswith("_"))
    try:
        if op == "eval":
            value = eval(compiled.code, scope)
        else:
            exec(compiled.code, scope)
    except MemoryError:
        raise
    except BaseException as exc:  # SystemExit and friends are script failures too
        try:
            text = str(exc)[:500]
        except Exception:
            text = ""
        message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        raise _Refusal("runtime", message, _script_line(exc)) from None
    if op == "eval":
        try:
            return {"ok": True, "value": to_json(value)}
        except UnsupportedValue as exc:
            raise _Refusal(
                "data", f"the expression result is {exc}, which cannot be returned"
            ) from None
    out: dict[str, Any] = {}
    for key, item in scope.items():
        # Mirror SpiffWorkflow: functions (anything callable) a script defines are dropped.
        if key.startswith("_") or callable(item):
            continue
        try:
            out[key] = to_json(item)
        except UnsupportedValue as exc:
            raise _Refusal(
                "data", f"variable {key!r} holds {exc}, which cannot be stored in task data"
            ) from None
    return {"ok": True, "vars": out}


def _arm_cpu_limit(budget: int) -> None:
    """Let this request use ``budget`` more CPU seconds; beyond that the kernel kills us.

    ``RLIMIT_CPU`` counts the whole process lifetime, so it is re-armed per request. It
    is only the backstop for a parent that stopped watching; the wall-time kill comes first.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + budget
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _handle(body: bytes, cpu_budget: int) -> bytes:
    try:
        try:
            request = loads(body)
            _arm_cpu_limit(cpu_budget)
            reply = _run(request)
        except _Refusal as refusal:
            reply = refusal.reply
        except (ValueError, TypeError, KeyError) as exc:
            reply = {"ok": False, "kind": "protocol", "message": f"bad request: {exc}"}
        except RecursionError:
            reply = {"ok": False, "kind": "data", "message": "data is nested too deeply"}
        payload = dumps(reply)
        if len(payload) > MAX_MESSAGE:
            payload = dumps(
                {"ok": False, "kind": "data", "message": "the script produced too much data"}
            )
        return frame(payload)
    except MemoryError:
        return _MEMORY_REPLY


def _read_exact(stream: Any, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def _warm_up() -> None:
    """Load lazily-imported modules now, before the memory limit applies."""
    datetime.strptime("2000-01-02", "%Y-%m-%d")
    ZoneInfo("UTC")
    cached_compile("x = [a for a in range(3)]\ny = f'{x!r:>4}'", "exec")
    _handle(dumps({"op": "eval", "code": "1", "names": {}}), 10)


def _set_limits(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def main(argv: Iterable[str]) -> int:
    """Serve requests on stdin/stdout until the parent closes the pipe."""
    memory_bytes, cpu_budget = (int(arg) for arg in argv)
    # Keep the protocol pipes private: nothing a script triggers may write into them.
    reader = os.fdopen(os.dup(0), "rb")
    writer = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent
    try:
        _warm_up()
        _set_limits(memory_bytes)
    except Exception as exc:  # report instead of dying silently
        writer.write(frame(dumps({"ready": False, "message": repr(exc)})))
        return 1
    writer.write(frame(dumps({"ready": True})))
    while True:
        header = _read_exact(reader, HEADER.size)
        if header is None:
            return 0
        (size,) = HEADER.unpack(header)
        body = _read_exact(reader, size) if size <= MAX_MESSAGE else None
        if body is None:
            return 1
        writer.write(_handle(body, cpu_budget))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
