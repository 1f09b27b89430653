"""The restricted script engine: BPMN scripts and expressions are untrusted input.

Three layers, each for a different threat:

* **RestrictedPython** (policy in :mod:`engine.scripting_child`) refuses at compile time
  what can be seen in the source: imports, ``_``-names such as ``__class__``, frame and
  generator internals, ``str.format``, class definitions, ``eval``/``exec``. At run time
  its guards check every attribute access, and the builtins hold no ``open``, ``getattr``,
  ``type``, ``vars``, ``globals``, ``compile`` or ``__import__``.
* **A child process** (:class:`Sandbox`) runs the code under ``RLIMIT_AS`` and a CPU
  backstop, and the parent kills it when the wall-time limit passes. That is what stops
  ``10**10**10``, ``'a' * 10**10`` and ``while True: pass``, which no compile-time check
  can stop in general. The child is started with ``subprocess`` (``python -I``, a minimal
  environment, no inherited descriptors): never ``fork`` of a process holding database
  connections and threads, and no pickle anywhere (see the codec in the child module).
* **SpiffWorkflow glue** (:class:`SandboxedEnvironment`, :class:`SandboxedScriptEngine`)
  so every script task, gateway condition, timer and DMN expression goes through it.

Use :func:`validate_script` / :func:`validate_expression` at deploy time; they need no
child process.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.errors import ScriptError

from .scripting_child import (
    HEADER,
    MAX_MESSAGE,
    MAX_SOURCE,
    Compiled,
    UnsupportedValue,
    cached_compile,
    dumps,
    frame,
    loads,
    normalise,
    to_json,
)

__all__ = [
    "Sandbox",
    "SandboxedEnvironment",
    "SandboxedScriptEngine",
    "ScriptSyntaxError",
    "original_script_error",
    "validate_expression",
    "validate_script",
]

CHILD_SCRIPT = Path(__file__).with_name("scripting_child.py")
STARTUP_TIMEOUT = 10.0
"""Seconds a fresh child may take to report ready; not counted against any script."""
_CHILD_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH")
"""The only environment a child gets: nothing like database URLs or API keys."""


class ScriptSyntaxError(ScriptError, SyntaxError):
    """A syntax error: a :class:`ScriptError` that is also a :class:`SyntaxError`.

    SpiffWorkflow's DMN engine calls ``script_engine.validate`` and catches
    ``SyntaxError`` to tell ``> 5`` (needs an operand) from ``5`` (needs ``==``).
    """


# ---------------------------------------------------------------------------------------
# Deploy-time validation


def validate_script(code: str) -> None:
    """Raise :class:`ScriptError` if ``code`` would be refused as a script."""
    _raise_if_refused(
        cached_compile(code, "exec")
        if isinstance(code, str)
        else Compiled(None, "refused", "code must be a string", None),
        "script",
    )


def validate_expression(code: str) -> None:
    """Raise :class:`ScriptError` if ``code`` would be refused as an expression."""
    _raise_if_refused(
        cached_compile(code, "eval")
        if isinstance(code, str)
        else Compiled(None, "refused", "code must be a string", None),
        "expression",
    )


def _raise_if_refused(compiled: Compiled, what: str) -> None:
    if compiled.code is not None:
        return
    details = {"kind": compiled.kind, "line": compiled.line}
    if compiled.kind == "syntax":
        error = ScriptSyntaxError(f"invalid {what}: {compiled.message}", details=details)
        error.lineno = compiled.line
        raise error
    raise ScriptError(f"invalid {what}: {compiled.message}", details=details)


@functools.lru_cache(maxsize=1024)
def _names_used(source: str, mode: str) -> frozenset[str] | None:
    """Every plain name in ``source``; None if it does not parse.

    Scripts cannot reach variables by any route but their name (no ``globals()``, no
    frames), so only these entries of the task data are sent to, or can come back
    changed from, the child. Big task data then costs nothing for ``x > 5``.
    """
    if len(source) > MAX_SOURCE:
        return None
    try:
        tree = ast.parse(normalise(source, mode), mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif (
            isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)
            )
            and node.name
        ):
            found.add(node.name)  # binding these replaces (so drops) a variable
        elif isinstance(node, ast.Global):
            found.update(node.names)
    return frozenset(found)


# ---------------------------------------------------------------------------------------
# The child process, seen from the parent


class _Timeout(Exception):
    pass


class _Gone(Exception):
    pass


def _reap(proc: subprocess.Popen[bytes], owner: int) -> None:
    """Kill and collect a child (idempotent; also runs at exit via weakref.finalize)."""
    if os.getpid() != owner:  # a forked copy of our process must not kill our child
        return
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.kill()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


class _Child:
    """One sandbox process and the parent's ends of its pipes."""

    def __init__(self, memory_bytes: int, cpu_budget: int) -> None:
        env = {key: os.environ[key] for key in _CHILD_ENV_KEYS if key in os.environ}
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(CHILD_SCRIPT), str(memory_bytes), str(cpu_budget)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
            cwd="/",
            env=env,
            start_new_session=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.owner = os.getpid()
        self.ready = False
        self._write_fd = self.proc.stdin.fileno()
        self._read_fd = self.proc.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._read_fd, select.POLLIN)
        self._buffer = bytearray()
        self._finalizer = weakref.finalize(self, _reap, self.proc, self.owner)

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.proc.poll() is None

    def send(self, payload: bytes) -> None:
        view = memoryview(frame(payload))
        while view:
            view = view[os.write(self._write_fd, view) :]

    def receive(self, deadline: float) -> bytes:
        """One message; :class:`_Timeout` at ``deadline``, :class:`_Gone` on EOF."""
        (size,) = HEADER.unpack(self._read_exact(HEADER.size, deadline))
        if size > MAX_MESSAGE:
            raise _Gone("reply too large")
        return self._read_exact(size, deadline)

    def _read_exact(self, size: int, deadline: float) -> bytes:
        while len(self._buffer) < size:
            remaining_ms = math.ceil((deadline - time.monotonic()) * 1000)
            if not self._poll.poll(max(remaining_ms, 0)):
                raise _Timeout
            chunk = os.read(self._read_fd, max(size - len(self._buffer), 65536))
            if not chunk:
                raise _Gone("end of file")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def discard(self) -> None:
        """Kill the process; after a fork, only let go of the parent's child."""
        if self.owner != os.getpid():
            self._finalizer.detach()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
        else:
            self._finalizer()


class Sandbox:
    """A pre-started child process that runs restricted code under hard limits.

    ``wall_time`` (seconds) bounds every call; ``memory_bytes`` is the child's address
    space (``RLIMIT_AS``). A call that overruns either raises :class:`ScriptError`, the
    child is killed and a fresh one started at once, so the next call works. A child that
    died for any other reason is replaced on the next call. Calls from several threads
    are serialised by a lock (one child, one script at a time).

    Values cross the process boundary as JSON with tags for ``datetime`` (naive or
    aware), ``date``, ``time``, ``timedelta``, ``Decimal`` and ``tuple``; anything else
    (sets, generators, ...) is refused with a message naming the variable. Functions a
    script defines are dropped from its results, as SpiffWorkflow does.
    """

    def __init__(self, wall_time: float = 1.0, memory_bytes: int = 256 * 2**20) -> None:
        if not wall_time > 0 or memory_bytes <= 0:
            raise ValueError("wall_time and memory_bytes must be positive")
        self.wall_time = float(wall_time)
        self.memory_bytes = int(memory_bytes)
        # RLIMIT_CPU only matters if the parent stops watching; give it slack.
        self._cpu_budget = math.ceil(self.wall_time) + 1
        self._lock = threading.Lock()
        self._closed = False
        self._child: _Child | None = self._spawn()

    # -- public API ----------------------------------------------------------------

    def evaluate(self, expression: str, names: Mapping[str, Any] | None = None) -> Any:
        """Value of ``expression`` with ``names`` as its variables."""
        reply, _ = self._call("eval", expression, names or {})
        return reply["value"]

    def execute(self, script: str, names: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run ``script`` on a copy of ``names``; return the resulting variables.

        The result holds every entry of ``names`` the script did not delete (changed
        ones with their new values) plus the variables it created.
        """
        names = names or {}
        changed, sent = self.execute_delta(script, names)
        result = {key: value for key, value in names.items() if key not in sent}
        result.update(changed)
        return result

    def execute_delta(
        self, script: str, names: Mapping[str, Any]
    ) -> tuple[dict[str, Any], frozenset[str]]:
        """Like :meth:`execute`, but only what the script could touch.

        Returns ``(variables, sent)``: ``sent`` are the keys of ``names`` the script
        mentions (only those were copied into the child); ``variables`` are the sent ones
        it kept (possibly changed) plus the ones it created. A sent key missing from
        ``variables`` was deleted. Saves copying large task data on every script.
        """
        reply, sent = self._call("exec", script, names)
        return reply["vars"], sent

    def close(self) -> None:
        """Stop the child; later calls raise :class:`ScriptError`."""
        with self._lock:
            self._closed = True
            if self._child is not None:
                self._child.discard()
                self._child = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------

    def _call(
        self, op: str, code: str, names: Mapping[str, Any]
    ) -> tuple[dict[str, Any], frozenset[str]]:
        what = "expression" if op == "eval" else "script"
        used = _names_used(code, op) if isinstance(code, str) else None
        if used is None:  # let the compiler say precisely what is wrong
            if not isinstance(code, str):
                raise ScriptError(f"invalid {what}: code must be a string")
            _raise_if_refused(cached_compile(code, op), what)
            raise ScriptError(f"invalid {what}: it cannot be parsed")
        encoded: dict[str, Any] = {}
        for key in (key for key in used if key in names):
            try:
                encoded[key] = to_json(names[key])
            except UnsupportedValue as exc:
                raise ScriptError(
                    f"variable {key!r} holds {exc}, which cannot be passed to a script",
                    details={"kind": "data", "variable": key},
                ) from None
        payload = dumps({"op": op, "code": code, "names": encoded})
        with self._lock:
            reply = self._roundtrip(payload)
            ok = reply.get("ok") is True
            if ok and not (
                "value" in reply if op == "eval" else isinstance(reply.get("vars"), dict)
            ):
                self._restart()
                raise ScriptError(
                    "the script sandbox sent an invalid reply", details={"kind": "protocol"}
                )
        if ok:
            return reply, frozenset(encoded)
        kind, message, line = reply.get("kind"), str(reply.get("message")), reply.get("line")
        details = {"kind": kind, "line": line}
        if kind == "syntax":
            error = ScriptSyntaxError(f"invalid {what}: {message}", details=details)
            error.lineno = line
            raise error
        if kind == "refused":
            raise ScriptError(f"invalid {what}: {message}", details=details)
        if kind == "runtime":
            where = f" on line {line}" if line else ""
            raise ScriptError(f"{what} failed{where}: {message}", details=details)
        raise ScriptError(message, details=details)

    def _roundtrip(self, payload: bytes) -> dict[str, Any]:
        """Send one request and return the decoded reply; caller holds the lock."""
        if self._closed:
            raise ScriptError("the script sandbox is closed")
        try:
            child = self._ready_child()
            child.send(payload)
        except OSError:  # died after its last reply: it never saw this request
            self._restart()
            child = self._ready_child()
            try:
                child.send(payload)
            except OSError as exc:
                self._restart()
                raise ScriptError("the script sandbox is not responding") from exc
        try:
            raw = child.receive(time.monotonic() + self.wall_time)
        except _Timeout:
            self._restart()
            raise ScriptError(
                f"script exceeded the time limit of {self.wall_time} s",
                details={"kind": "timeout", "limit_s": self.wall_time},
            ) from None
        except _Gone:
            child.discard()
            code = child.proc.returncode
            self._restart()
            if code == -signal.SIGXCPU:
                raise ScriptError(
                    f"script exceeded the time limit of {self.wall_time} s",
                    details={"kind": "timeout", "limit_s": self.wall_time},
                ) from None
            raise ScriptError(
                "the script process died unexpectedly",
                details={"kind": "crash", "returncode": code},
            ) from None
        try:
            reply = loads(raw)
            if not isinstance(reply, dict):
                raise TypeError("reply is not an object")
        except Exception:  # the child is untrusted: a bad reply means a bad child
            self._restart()
            raise ScriptError(
                "the script sandbox sent an invalid reply", details={"kind": "protocol"}
            ) from None
        if reply.get("kind") == "memory":
            self._restart()
            raise ScriptError(
                "script exceeded the memory limit",
                details={"kind": "memory", "limit_bytes": self.memory_bytes},
            )
        return reply

    def _spawn(self) -> _Child:
        try:
            return _Child(self.memory_bytes, self._cpu_budget)
        except OSError as exc:
            raise ScriptError(f"could not start the script sandbox: {exc}") from exc

    def _restart(self) -> None:
        """Replace the child now, so its start-up overlaps with whatever comes next."""
        if self._child is not None:
            self._child.discard()
            self._child = None
        with contextlib.suppress(ScriptError):  # the next call tries again and reports
            self._child = self._spawn()

    def _ready_child(self) -> _Child:
        child = self._child
        if child is None or not child.alive():
            if child is not None:
                child.discard()
            child = self._child = self._spawn()
        if not child.ready:
            try:
                hello = loads(child.receive(time.monotonic() + STARTUP_TIMEOUT))
            except Exception:  # _Timeout, _Gone or garbage
                hello = {"message": "no ready signal"}
            if not isinstance(hello, dict) or hello.get("ready") is not True:
                child.discard()
                self._child = None
                reason = hello.get("message") if isinstance(hello, dict) else None
                raise ScriptError(f"could not start the script sandbox: {reason}")
            child.ready = True
        return child


# ---------------------------------------------------------------------------------------
# SpiffWorkflow integration


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs everything in a :class:`Sandbox`.

    Name lookup mirrors ``TaskDataEnvironment``: task data shadows the external context
    (e.g. DMN's ``dmninputexpr`` or data objects), which shadows ``environment_globals``
    (these must be plain data: functions cannot cross into the sandbox).
    """

    def __init__(self, sandbox: Sandbox, environment_globals: dict[str, Any] | None = None) -> None:
        super().__init__(environment_globals)
        self.sandbox = sandbox

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        return self.sandbox.evaluate(expression, self._names(context, external_context))

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> bool:
        """Update ``context`` in place (added, changed and deleted keys); return True.

        As in SpiffWorkflow, names that came only from the globals or the external
        context are not copied into the task data.
        """
        names = self._names(context, external_context)
        changed, sent = self.sandbox.execute_delta(script, names)
        for key in sent:
            if key not in changed:
                context.pop(key, None)
        for key, value in changed.items():
            if key in context or key not in names:  # not a borrowed (external) name
                context[key] = value
        return True

    def _names(
        self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None
    ) -> Mapping[str, Any]:
        if not self.globals and not external_context:
            return context  # the usual case: no copy of the task data
        return {**self.globals, **(external_context or {}), **context}


def _link(wrapper: WorkflowTaskException, error: BaseException) -> WorkflowTaskException:
    wrapper.exception = error  # type: ignore[attr-defined]
    wrapper.__cause__ = error
    return wrapper


def original_script_error(exc: BaseException | None) -> ScriptError | None:
    """The :class:`ScriptError` behind a SpiffWorkflow exception, if there is one.

    Follows ``.exception`` (set by :class:`SandboxedScriptEngine`), ``__cause__`` and
    ``__context__`` (SpiffWorkflow's DMN code wraps without ``from``).
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ScriptError):
            return exc
        seen.add(id(exc))
        inner = getattr(exc, "exception", None)
        exc = inner if isinstance(inner, BaseException) else (exc.__cause__ or exc.__context__)
    return None


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine whose scripts and expressions run in ``sandbox``.

    Failures surface, as SpiffWorkflow expects, as
    :class:`~SpiffWorkflow.bpmn.exceptions.WorkflowTaskException` whose message contains
    the :class:`ScriptError` message. The original error is ``exc.exception`` and
    ``exc.__cause__``; :func:`original_script_error` finds it from any wrapper.

    ``clock`` is stored for the engine's timer handling and not used here.
    """

    def __init__(
        self, sandbox: Sandbox, clock: Any = None, environment: SandboxedEnvironment | None = None
    ) -> None:
        super().__init__(environment=environment or SandboxedEnvironment(sandbox))
        self.sandbox = sandbox
        self.clock = clock

    def validate(self, expression: str) -> None:
        """Restricted compile check; syntax errors are also ``SyntaxError`` (see DMN)."""
        validate_script(expression)

    def evaluate(
        self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            detail = exc.message if isinstance(exc, ScriptError) else str(exc)
            wrapper = WorkflowTaskException(
                f"Error evaluating expression '{expression}': {detail}", task=task, exception=exc
            )
            raise _link(wrapper, exc) from exc

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Any:
        if not isinstance(err, ScriptError):
            wrapper = super().create_task_exec_exception(task, script, err)
            return wrapper if wrapper is err else _link(wrapper, err)
        line = err.details.get("line") or 0
        lines = script.splitlines()
        error_line = lines[line - 1] if 0 < line <= len(lines) else ""
        wrapper = WorkflowTaskException(
            err.message, task=task, exception=err, line_number=line, error_line=error_line
        )
        return _link(wrapper, err)
