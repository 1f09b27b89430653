"""The restricted script engine: what scripts may do, what they may not, and the limits."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from engine.errors import ScriptError
from engine.scripting import (
    Sandbox,
    SandboxedEnvironment,
    SandboxedScriptEngine,
    ScriptSyntaxError,
    original_script_error,
    validate_expression,
    validate_script,
)
from engine.scripting_child import BUILTINS, guarded_getattr

WALL = 0.5


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(wall_time=WALL) as box:
        yield box


def child_pid(box: Sandbox) -> int:
    assert box._child is not None
    return box._child.proc.pid


# --- what scripts may do -------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "names", "expected"),
    [
        ("a + 1", {"a": 1}, 2),
        ("a * 2 - b / 4", {"a": 3, "b": 2}, 5.5),
        ("a > 5 and b != 'x'", {"a": 6, "b": "y"}, True),
        ("x in items", {"x": 2, "items": [1, 2]}, True),
        ("len(d) + sum(v for v in d.values())", {"d": {"a": 1, "b": 2}}, 5),
        ("sorted(xs, reverse=True)[:2]", {"xs": [3, 1, 2]}, [3, 2]),
        ("max(enumerate(xs), key=lambda p: p[1])", {"xs": [5, 9, 1]}, (1, 9)),
        ("d + timedelta(days=1)", {"d": date(2024, 2, 28)}, date(2024, 2, 29)),
        ("(b - a).days", {"a": date(2024, 1, 1), "b": date(2024, 3, 1)}, 60),
        ("Decimal('0.1') + p", {"p": Decimal("0.2")}, Decimal("0.3")),
        ("f'{n:>4}|{s!r}'", {"n": 7, "s": "x"}, "   7|'x'"),
        ("'%s-%d' % (s, n)", {"s": "a", "n": 1}, "a-1"),
        ("{k: v * 2 for k, v in d.items()}", {"d": {"a": 1}}, {"a": 2}),
        ("date", {"date": "shadowed by task data"}, "shadowed by task data"),
        ("\n   a > 1\n  ", {"a": 2}, True),  # XML indentation around a condition
    ],
)
def test_expressions(
    sandbox: Sandbox, expression: str, names: dict[str, Any], expected: Any
) -> None:
    validate_expression(expression)
    assert sandbox.evaluate(expression, names) == expected


def test_script_adds_changes_and_deletes_variables(sandbox: Sandbox) -> None:
    names = {
        "price": Decimal("19.99"),
        "qty": 3,
        "items": [1],
        "scratch": "x",
        "opened": datetime(2024, 1, 31, 9, 30),
        "untouched": {"big": list(range(50))},
    }
    script = (
        "total = price * qty\n"
        "items.append(2)\n"
        "meta = {'n': len(items), 'pair': (1, 'a')}\n"
        "due = opened + timedelta(days=30)\n"
        "due_date = due.date()\n"
        "del scratch\n"
        "def helper(x):\n"
        "    return x\n"
        "doubled = helper(qty) * 2\n"
        "qty += 1\n"
    )
    validate_script(script)
    result = sandbox.execute(script, names)
    assert result == {
        "price": Decimal("19.99"),
        "qty": 4,
        "items": [1, 2],
        "total": Decimal("59.97"),
        "meta": {"n": 2, "pair": (1, "a")},
        "opened": datetime(2024, 1, 31, 9, 30),
        "due": datetime(2024, 3, 1, 9, 30),
        "due_date": date(2024, 3, 1),
        "doubled": 6,
        "untouched": {"big": list(range(50))},
    }
    assert names["items"] == [1], "the caller's data is not mutated"
    assert result["untouched"] is names["untouched"], "names a script never uses stay put"
    assert sandbox.execute("\n    x = 1\n    if x:\n        y = 2\n") == {"x": 1, "y": 2}


def test_tagged_values_round_trip(sandbox: Sandbox) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    values = {
        "naive": datetime(2024, 10, 27, 2, 30, fold=1),
        "utc": datetime(2024, 1, 1, tzinfo=timezone.utc),
        "offset": datetime(2024, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))),
        "zoned": datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=berlin),
        "day": date(2024, 5, 1),
        "clock": dtime(12, 0, 1, 5),
        "span": timedelta(-1, 5, 7),
        "money": Decimal("-0.00"),
        "pair": (1, (2, 3)),
        "keys": {1: "a", (1, 2): "b"},
        "tagged": {"$t": "not a tag"},
        "nan_free": [1.5, None, True, "ü\U0001f600"],
    }
    result = sandbox.execute("copy = [" + ", ".join(values) + "]", values)
    assert result["copy"] == list(values.values())
    zoned = result["zoned"]
    assert zoned.tzinfo is berlin and zoned.fold == 1 and zoned.utcoffset() == timedelta(hours=1)
    assert result["naive"].fold == 1
    assert str(result["money"]) == "-0.00"
    assert sandbox.evaluate("datetime(2024, 1, 1, tzinfo=timezone.utc).isoformat()") == (
        "2024-01-01T00:00:00+00:00"
    )


def test_print_is_harmless(sandbox: Sandbox) -> None:
    assert sandbox.execute("print('hello')\nx = 1") == {"x": 1}


def test_unstorable_values_are_named(sandbox: Sandbox) -> None:
    with pytest.raises(ScriptError, match="variable 'gen' holds a generator"):
        sandbox.execute("gen = (i for i in [1, 2])")
    with pytest.raises(ScriptError, match="variable 'tags' holds a set"):
        sandbox.execute("tags = {1, 2}")
    with pytest.raises(ScriptError, match="expression result is a set"):
        sandbox.evaluate("{1, 2}")
    with pytest.raises(ScriptError, match="variable 'data' holds an object"):
        sandbox.execute("x = data", {"data": object()})
    # Functions, methods and classes are dropped, as SpiffWorkflow does after exec.
    assert sandbox.execute("f = lambda: 1\nup = 'a'.upper\nk = datetime\nx = f()") == {"x": 1}


def test_runtime_errors_carry_the_line(sandbox: Sandbox) -> None:
    with pytest.raises(ScriptError, match=r"script failed on line 2: ZeroDivisionError") as info:
        sandbox.execute("a = 1\nb = a / 0")
    assert info.value.details["line"] == 2
    with pytest.raises(ScriptError, match="NameError: name 'missing' is not defined"):
        sandbox.evaluate("missing + 1")


# --- validation without a child process ----------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("import os", "import is not allowed"),
        ("x = ().__class__", '"__class__" is an invalid attribute name'),
        ("s = 'a'\nf = s.format", '"format" is not allowed'),
        ("class A:\n    pass", "class definitions are not allowed"),
        ("x = 10 ** 10 ** 10", "too large"),
        ("x = 1\ny = (", "syntax error on line 2"),
    ],
)
def test_validate_script_refusals(code: str, message: str) -> None:
    with pytest.raises(ScriptError, match="invalid script") as info:
        validate_script(code)
    assert message in info.value.message


def test_syntax_errors_are_also_syntax_errors() -> None:
    """SpiffWorkflow's DMN code tells ``> 5`` from ``5`` by catching SyntaxError."""
    with pytest.raises(SyntaxError) as info:
        validate_expression("x = 1")
    assert isinstance(info.value, ScriptSyntaxError) and isinstance(info.value, ScriptError)
    assert info.value.lineno == 1
    validate_expression("total > 100 and f'{total}' != ''")
    validate_script("x = [i ** 2 for i in range(10)]\nassert x[3] == 9")


@pytest.mark.parametrize(
    "code",
    [
        "x = " + "-" * 90_000 + "1",
        "x = " + "+".join(["1"] * 30_000),
        "x = 1\n" * 20_000,
        "x" + ".a" * 5_000,
        "lambda: " * 2_000 + "1",
        "x = 1\0",
    ],
    ids=["unary-chain", "long-sum", "too-long", "attribute-chain", "lambdas", "nul"],
)
def test_pathological_source_is_refused_cleanly(sandbox: Sandbox, code: str) -> None:
    """Compiling happens in the parent at deploy time: it must never crash or hang."""
    with pytest.raises(ScriptError):
        validate_script(code)
    with pytest.raises(ScriptError):
        sandbox.execute(code)


def test_no_dangerous_builtins() -> None:
    dangerous = {
        "__import__",
        "open",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "type",
        "vars",
        "globals",
        "locals",
        "dir",
        "eval",
        "exec",
        "compile",
        "input",
        "breakpoint",
        "memoryview",
        "bytearray",
        "object",
        "super",
        "__build_class__",
    }
    assert not dangerous & BUILTINS.keys()


def test_runtime_getattr_guard() -> None:
    """Backs the compile-time checks; ``str.format`` is refused on the type as well."""
    for obj, name in [
        ("a", "format"),
        (str, "format"),
        ("a", "format_map"),
        ((), "__class__"),
        (int, "mro"),
        ((i for i in ()), "gi_frame"),
    ]:
        with pytest.raises(AttributeError):
            guarded_getattr(obj, name)
    assert guarded_getattr("a", "upper")() == "A"


# --- hostile payloads ----------------------------------------------------------------

COMPILE, RUN = "refused at compile time", "refused at run time"
HOSTILE = [
    ("().__class__.__base__.__subclasses__()", COMPILE),
    ("().__class__.__mro__[1].__subclasses__()", COMPILE),
    ("[].__class__", COMPILE),
    ("[].__class__.__base__", COMPILE),
    ("dict.__subclasses__()", COMPILE),
    ("getattr((), '__class__')", RUN),  # NameError: no getattr
    ("type(())", RUN),
    ("vars()", RUN),
    ("globals()", RUN),
    ("__builtins__", COMPILE),
    ("import os", COMPILE),
    ("from os import system", COMPILE),
    ("import sys; sys.exit()", COMPILE),
    ("__import__('os')", COMPILE),
    ("open('/etc/passwd').read()", RUN),
    ("'{0.__class__}'.format(())", COMPILE),
    ("'{.__class__.__base__}'.format(1)", COMPILE),
    ("'{x.__class__}'.format_map({'x': 1})", COMPILE),
    ("s = 'a'\nfmt = s.format", COMPILE),
    ("fmt = str.format", COMPILE),
    ("f'{().__class__}'", COMPILE),
    ("eval('1')", COMPILE),
    ("exec('x=1')", COMPILE),
    ("compile('1', '', 'eval')", RUN),
    ("(lambda: 0).__code__", COMPILE),
    ("(x for x in ()).gi_frame", COMPILE),
    ("def g():\n    yield 1\nx = g().gi_frame.f_back", COMPILE),
    ("try:\n    1 / 0\nexcept Exception as e:\n    tb = e.__traceback__", COMPILE),
    ("max.__self__", COMPILE),
    ("Decimal.mro()", COMPILE),
    ("class A:\n    pass", COMPILE),
    ("breakpoint()", COMPILE),
    ("async def f():\n    pass", COMPILE),
    ("setattr(date, 'today', 1)", RUN),  # no setattr
    ("x = 1\nx.real = 5", RUN),  # write guard
    ("d = {}\nd.__setitem__('a', 1)", COMPILE),
    ("raise SystemExit", RUN),
    ("def f():\n    return f()\nf()", RUN),  # RecursionError
    ("x = list(range(10 ** 12))", RUN),  # range() limit
    ("10**10**10", COMPILE),
    ("n = 10\nx = n ** n ** n", RUN),  # time limit
    ("'a' * 10**10", RUN),  # memory limit
    ("[0] * 10**10", RUN),  # memory limit
    ("x = [1]\nx *= 10**10", RUN),  # memory limit
    ("while True:\n    pass", RUN),  # time limit
    ("x = []\nwhile True:\n    x.append(1)", RUN),  # time or memory limit
    ("x = 'a'\nwhile True:\n    x += x", RUN),  # memory limit
    ("g = (i for i in [1])", RUN),  # cannot be stored
]


@pytest.mark.parametrize(("payload", "stage"), HOSTILE, ids=[p for p, _ in HOSTILE])
def test_hostile_payload_is_refused(sandbox: Sandbox, payload: str, stage: str) -> None:
    if stage == COMPILE:
        with pytest.raises(ScriptError):
            validate_script(payload)
    else:
        validate_script(payload)  # documents that only the run time catches it
    # The sandbox refuses on its own, whether or not anyone validated first...
    with pytest.raises(ScriptError):
        sandbox.execute(payload)
    # ...and is usable straight afterwards.
    assert sandbox.evaluate("a + 1", {"a": 41}) == 42


def test_limits_have_clear_messages(sandbox: Sandbox) -> None:
    before = child_pid(sandbox)
    with pytest.raises(ScriptError, match=r"^script exceeded the time limit of 0\.5 s$"):
        sandbox.execute("while True:\n    pass")
    assert child_pid(sandbox) != before, "a killed child is replaced"
    with pytest.raises(ScriptError, match=r"^script exceeded the memory limit$") as info:
        sandbox.execute("x = 'a' * 10**10")
    assert info.value.details == {"kind": "memory", "limit_bytes": 256 * 2**20}
    assert sandbox.evaluate("1 + 1") == 2


def test_time_limit_from_a_worker_thread(sandbox: Sandbox) -> None:
    caught: list[BaseException] = []

    def work() -> None:
        try:
            sandbox.execute("while True:\n    pass")
        except BaseException as exc:
            caught.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=WALL + 5)
    assert not worker.is_alive()
    assert time.monotonic() - started < WALL + 2
    assert len(caught) == 1 and isinstance(caught[0], ScriptError)
    assert "time limit" in str(caught[0])
    assert sandbox.execute("x = 1") == {"x": 1}, "respawned child works at once"


def test_concurrent_callers_get_their_own_answers(sandbox: Sandbox) -> None:
    errors: list[str] = []

    def work(n: int) -> None:
        for i in range(40):
            if sandbox.evaluate("a * 1000 + b", {"a": n, "b": i}) != n * 1000 + i:
                errors.append(f"{n}/{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_dead_child_is_respawned_transparently(sandbox: Sandbox) -> None:
    sandbox.evaluate("1")
    pid = child_pid(sandbox)
    os.kill(pid, signal.SIGKILL)
    assert sandbox._child is not None
    sandbox._child.proc.wait(timeout=5)
    assert sandbox.evaluate("a", {"a": "still here"}) == "still here"
    assert child_pid(sandbox) != pid


def test_closed_sandbox_refuses() -> None:
    box = Sandbox()
    assert box.evaluate("2 ** 10") == 1024
    box.close()
    with pytest.raises(ScriptError, match="closed"):
        box.evaluate("1")


# --- SpiffWorkflow integration -------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="x">
  <bpmn:process id="Proc" isExecutable="true">
    <bpmn:startEvent id="StartEvent"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Compute" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="Gate" default="f_small">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f_big</bpmn:outgoing><bpmn:outgoing>f_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="StartEvent" targetRef="Compute" />
    <bpmn:sequenceFlow id="f2" sourceRef="Compute" targetRef="Gate" />
    <bpmn:sequenceFlow id="f_big" sourceRef="Gate" targetRef="Big">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="Gate" targetRef="Small" />
    <bpmn:scriptTask id="Big" scriptFormat="python">
      <bpmn:incoming>f_big</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>branch = 'big'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="Small" scriptFormat="python">
      <bpmn:incoming>f_small</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>branch = 'small'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="Big" targetRef="EndEvent" />
    <bpmn:sequenceFlow id="f4" sourceRef="Small" targetRef="EndEvent" />
    <bpmn:endEvent id="EndEvent"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

GOOD_SCRIPT = """total = price * qty
due = opened + timedelta(days=3)
del scratch"""


class CountingSandbox(Sandbox):
    """Records what went through the sandbox, to prove nothing ran in-process."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[tuple[str, str]] = []

    def evaluate(self, expression: str, names: Any = None) -> Any:
        self.calls.append(("eval", expression))
        return super().evaluate(expression, names)

    def execute_delta(self, script: str, names: Any) -> tuple[dict[str, Any], frozenset[str]]:
        self.calls.append(("exec", script))
        return super().execute_delta(script, names)


def test_environment_contract(sandbox: Sandbox) -> None:
    """What SpiffWorkflow's PythonScriptEngine relies on, incl. DMN's external context."""
    env = SandboxedEnvironment(sandbox, environment_globals={"limit": 10})
    context: dict[str, Any] = {"a": 1, "gone": True, "kept": [1], "bag": object()}
    assert env.evaluate("a + dmninputexpr + limit", context, {"dmninputexpr": 5}) == 16
    assert env.execute("a += ext\nb = a * limit\ndel gone\next = 0", context, {"ext": 2})
    assert context == {"a": 3, "b": 30, "kept": [1], "bag": context["bag"]}


@pytest.fixture(scope="module")
def counting() -> Iterator[CountingSandbox]:
    with CountingSandbox(wall_time=WALL) as box:
        yield box


def make_workflow(
    box: Sandbox, script: str = GOOD_SCRIPT, condition: str = "total &gt; 100", **data: Any
) -> BpmnWorkflow:
    parser = CamundaParser()
    parser.add_bpmn_str(BPMN.format(script=script, condition=condition).encode())
    engine = SandboxedScriptEngine(box, clock="the engine's clock")
    assert engine.clock == "the engine's clock"
    workflow = BpmnWorkflow(parser.get_spec("Proc"), script_engine=engine)
    start = workflow.get_next_task(state=TaskState.READY)
    assert start is not None
    start.data.update({"opened": date(2024, 1, 30), "scratch": 1, **data})
    return workflow


@pytest.mark.parametrize(("price", "branch"), [(Decimal("40.5"), "big"), (10, "small")])
def test_workflow_runs_scripts_and_conditions_in_the_sandbox(
    counting: CountingSandbox, price: Any, branch: str
) -> None:
    counting.calls.clear()
    workflow = make_workflow(counting, price=price, qty=3)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data["branch"] == branch
    assert workflow.data["total"] == price * 3
    assert workflow.data["due"] == date(2024, 2, 2)
    assert "scratch" not in workflow.data
    assert ("exec", GOOD_SCRIPT) in counting.calls
    assert ("eval", "total > 100") in counting.calls
    assert ("exec", f"branch = '{branch}'") in counting.calls


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("x = ().__class__.__base__", '"__class__" is an invalid attribute name'),
        ("import os\nos.system('id')", "import is not allowed"),
        ("total = 1\nwhile True:\n    pass", "script exceeded the time limit of 0.5 s"),
        ("total = 1\nx = open('/etc/passwd')", "NameError: name 'open' is not defined"),
    ],
)
def test_hostile_script_task_fails_the_step(
    counting: CountingSandbox, script: str, message: str
) -> None:
    workflow = make_workflow(counting, script=script, price=1, qty=1)
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert message in str(info.value)
    original = original_script_error(info.value)
    assert isinstance(original, ScriptError) and message in original.message
    assert info.value.exception is original and info.value.__cause__ is original
    failed = workflow.get_next_task(state=TaskState.ERROR)
    assert failed is not None and failed.task_spec.name == "Compute"
    assert counting.evaluate("1 + 1") == 2


def test_hostile_gateway_condition_fails_the_step(counting: CountingSandbox) -> None:
    workflow = make_workflow(counting, condition="total.__class__", price=1, qty=1)
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert "Error evaluating expression 'total.__class__'" in str(info.value)
    assert '"__class__" is an invalid attribute name' in str(info.value)
    assert isinstance(info.value.__cause__, ScriptError)


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="D" name="D"
    namespace="x">
  <decision id="grade" name="grade">
    <decisionTable id="T" hitPolicy="UNIQUE">
      <input id="I"><inputExpression id="IE" typeRef="integer"><text>score</text>
      </inputExpression></input>
      <output id="O" name="grade" typeRef="string" />
      <rule id="R1"><inputEntry id="R1i"><text>&gt; 50</text></inputEntry>
        <outputEntry id="R1o"><text>"high"</text></outputEntry></rule>
      <rule id="R2"><inputEntry id="R2i"><text>? &lt;= 50 and ? &gt;= 0</text></inputEntry>
        <outputEntry id="R2o"><text>"low"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""

DMN_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="x">
  <bpmn:process id="Rules" isExecutable="true">
    <bpmn:startEvent id="StartEvent"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="Decide" camunda:decisionRef="grade">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="EndEvent"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="StartEvent" targetRef="Decide" />
    <bpmn:sequenceFlow id="f2" sourceRef="Decide" targetRef="EndEvent" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize(("score", "grade"), [(80, "high"), (20, "low")])
def test_dmn_decisions_use_the_sandbox(counting: CountingSandbox, score: int, grade: str) -> None:
    """DMN relies on validate() raising SyntaxError and on external context names."""
    parser = CamundaParser()
    parser.add_bpmn_str(DMN_BPMN.encode())
    parser.add_dmn_str(DMN.encode())
    workflow = BpmnWorkflow(parser.get_spec("Rules"), script_engine=SandboxedScriptEngine(counting))
    start = workflow.get_next_task(state=TaskState.READY)
    assert start is not None
    start.data["score"] = score
    counting.calls.clear()
    workflow.do_engine_steps()
    assert workflow.is_completed() and workflow.data["grade"] == grade
    assert any(op == "eval" for op, _ in counting.calls)
