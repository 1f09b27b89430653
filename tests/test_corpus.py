"""Third-party diagrams (../shared/corpus, read only): deployed, or refused clearly.

Every ``.bpmn`` file the corpus holds either deploys (and, when it has a plain start
event, starts without crashing) or is refused with :class:`DeploymentError` whose
problems each name the file and, where there is one, an element id that exists in the
file. No other exception may escape. Specific files then pin down what CaseClock must
do with timers, engine-specific expressions and modelling quirks written by others.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine import queries
from engine.app import CaseClock
from engine.clock import FrozenClock
from engine.errors import CaseClockError, DeploymentError
from engine.parser import BPMN_NS
from engine.runtime import StartInstance
from timers.worker import Worker

from .conftest import CORPUS, SHANGHAI, deploy

if not CORPUS.is_dir():
    pytest.skip(
        f"third-party corpus not found at {CORPUS} (only present in the team workspace)",
        allow_module_level=True,
    )

NS = {"bpmn": BPMN_NS}
MIWG = CORPUS / "miwg"
OTHERS = CORPUS / "bpmn"
RECEIPT = CORPUS / "logs" / "receipt.bpmn"


def _is_bpmn(path: Path) -> bool:
    try:
        root = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError:
        return False
    return etree.QName(root).namespace == BPMN_NS and etree.QName(root).localname == "definitions"


def _corpus_files() -> list[Path]:
    files = sorted(MIWG.glob("*.bpmn")) + sorted(OTHERS.glob("*.bpmn"))
    if RECEIPT.is_file() and _is_bpmn(RECEIPT):
        files.append(RECEIPT)
    return files


FILES = _corpus_files()


def _ids(path: Path) -> set[str]:
    return {el.get("id") for el in etree.parse(str(path)).iter() if el.get("id")}


def _processes(path: Path) -> list[etree._Element]:
    return etree.parse(str(path)).getroot().findall("bpmn:process", NS)


def _only_non_executable(path: Path) -> bool:
    processes = _processes(path)
    return bool(processes) and all(
        p.get("isExecutable", "true").lower() == "false" for p in processes
    )


def _has_plain_start(process: etree._Element) -> bool:
    """A top-level start event with no event definition (a 'none' start)."""
    for start in process.findall("bpmn:startEvent", NS):
        if not any(etree.QName(child).localname.endswith("EventDefinition") for child in start):
            return True
    return False


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def view(app: CaseClock, instance_id: int) -> dict[str, Any]:
    return app.read(lambda s: queries.instance(s, instance_id, app.services.timezone))


def refusal(app: CaseClock, path: Path) -> DeploymentError:
    with pytest.raises(DeploymentError) as excinfo:
        deploy(app, path)
    return excinfo.value


def corpus(name: str) -> Path:
    path = OTHERS / name
    if not path.is_file():
        pytest.skip(f"{_label(path)} is not in this corpus")
    return path


# --- every file ----------------------------------------------------------------------------------


def test_corpus_is_not_empty() -> None:
    assert len(FILES) >= 20, f"expected the MIWG and engine diagrams, found {len(FILES)}"


@pytest.mark.parametrize("path", FILES, ids=_label)
def test_corpus_file_deploys_or_is_refused_clearly(app: CaseClock, path: Path) -> None:
    ids = _ids(path)
    try:
        results = deploy(app, path)
    except DeploymentError as exc:
        problems = exc.details.get("problems")
        assert problems, f"DeploymentError without problems: {exc.message}"
        for problem in problems:
            assert problem["file"] == path.name
            assert len(problem["message"].strip()) >= 10, problem
            if problem["element_id"] is None:
                # Only whole-file problems may name no element.
                assert "executable" in problem["message"] or "BPMN" in problem["message"], problem
            else:
                assert problem["element_id"] in ids, f"unknown element in {problem}"
        assert problems[0]["message"] in exc.message, "the message shows the problems"
        assert app.read(queries.definitions) == [], "a refused deploy stores nothing"
        return

    executable = {
        p.get("id"): p for p in _processes(path) if p.get("isExecutable", "true") == "true"
    }
    assert results, "a deploy that succeeds creates at least one definition"
    assert {r.key for r in results} <= set(executable)
    listed = app.read(queries.definitions)
    assert {(d["key"], d["version"]) for d in listed} == {(r.key, 1) for r in results}
    for result in results:
        if not _has_plain_start(executable[result.key]):
            continue
        try:
            instance = app.execute(StartInstance(result.key), actor="tester")
        except CaseClockError as exc:  # e.g. a script needing case data: clear, not a crash
            assert exc.message
            continue
        shown = view(app, instance.id)
        assert shown["state"] in {"running", "completed"}
        assert {t["element_id"] for t in shown["open_tasks"]} <= ids
        assert {t["element_id"] for t in shown["waiting_timers"]} <= ids


NON_EXECUTABLE = [p for p in FILES if _only_non_executable(p)]


@pytest.mark.parametrize("path", NON_EXECUTABLE, ids=_label)
def test_non_executable_files_are_refused_as_such(app: CaseClock, path: Path) -> None:
    problems = refusal(app, path).details["problems"]
    assert {
        "file": path.name,
        "element_id": None,
        "message": 'no executable process (isExecutable="true")',
    } in problems


def test_the_miwg_models_are_mostly_not_executable() -> None:
    names = {p.name for p in NON_EXECUTABLE}
    assert {"A.1.0.bpmn", "A.2.0.bpmn", "A.3.0.bpmn", "C.2.0.bpmn"} <= names
    assert "C.1.0.bpmn" not in names, "C.1.0 has one executable process"


# --- specific expectations -----------------------------------------------------------------------


def test_quartz_cron_cycle_is_refused_naming_the_start_event(app: CaseClock) -> None:
    path = corpus("camunda-examples-order-handling.bpmn")
    assert "0/5 0/1 * 1/1 * ?" in path.read_text()
    problems = refusal(app, path).details["problems"]
    [cron] = [p for p in problems if "cron" in p["message"].lower()]
    assert cron["element_id"] == "StartEvent_1"
    assert "0/5 0/1 * 1/1 * ?" in cron["message"]
    assert "R/PT1H" in cron["message"], "the message suggests the ISO form"
    # The file's service tasks are refused too, each by its id.
    service = {p["element_id"] for p in problems if "service task" in p["message"]}
    assert service == {"Task_06z99p1", "Task_1yjkccw"}


def test_other_engines_expression_in_time_date_is_refused(app: CaseClock) -> None:
    path = corpus("bpmnengine-timers.bpmn")
    problems = refusal(app, path).details["problems"]
    [timer] = [p for p in problems if "${environment.variables.catchDate}" in p["message"]]
    assert "expression language" in timer["message"]
    assert timer["element_id"] in {"catch-date", "TimerEventDefinition_1mj6p21"}


def test_timer_problem_names_the_event_not_its_definition(app: CaseClock) -> None:
    path = corpus("bpmnengine-timers.bpmn")
    problems = refusal(app, path).details["problems"]
    [timer] = [p for p in problems if "catchDate" in p["message"]]
    assert timer["element_id"] == "catch-date"


def test_camunda_multiple_timers_on_user_task(app: CaseClock, clock: FrozenClock) -> None:
    path = corpus("camunda-BoundaryTimerEventTest.testMultipleTimersOnUserTask.bpmn")
    [result] = deploy(app, path)
    assert (result.key, result.version) == ("multipleTimersOnUserTask", 1)
    instance = app.execute(StartInstance("multipleTimersOnUserTask"), actor="tester")
    shown = view(app, instance.id)
    assert [t["element_id"] for t in shown["open_tasks"]] == ["firstTask"]
    assert [
        (t["element_id"], t["due_at"], t["kind"], t["interrupting"], t["attached_to"])
        for t in shown["waiting_timers"]
    ] == [
        ("escalationTimer2", "2026-03-02T10:00:00+08:00", "duration", True, "firstTask"),
        ("escalationTimer1", "2026-03-02T11:00:00+08:00", "duration", True, "firstTask"),
        ("escalationTimer3", "2026-03-02T12:00:00+08:00", "duration", True, "firstTask"),
    ]

    worker = Worker(app, owner="corpus-worker")
    clock.set(datetime(2026, 3, 2, 9, 59, tzinfo=SHANGHAI))
    assert worker.run_once().fired == 0
    # The earliest timer (PT1H) wins and cancels the task and the other two timers.
    clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI))
    assert worker.run_once().fired == 1
    shown = view(app, instance.id)
    assert [t["element_id"] for t in shown["open_tasks"]] == ["thirdTask"]
    assert shown["waiting_timers"] == []
    clock.set(datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI))
    assert worker.run_once().fired == 0


def test_camunda_unbounded_non_interrupting_cycle(app: CaseClock, clock: FrozenClock) -> None:
    path = corpus("camunda-BoundaryTimerNonInterruptingEventTest.testTimerWithCycle.bpmn")
    deploy(app, path)
    instance = app.execute(StartInstance("nonInterruptingCycle"), actor="tester")
    [timer] = view(app, instance.id)["waiting_timers"]
    assert (timer["element_id"], timer["kind"], timer["interrupting"]) == ("timer", "cycle", False)
    assert timer["due_at"] == "2026-03-02T10:00:00+08:00"

    worker = Worker(app, owner="corpus-worker")
    for hour in (10, 11):
        clock.set(datetime(2026, 3, 2, hour, 0, tzinfo=SHANGHAI))
        assert worker.run_once().fired == 1
        shown = view(app, instance.id)
        [timer] = shown["waiting_timers"]
        assert timer["due_at"] == f"2026-03-02T{hour + 1}:00:00+08:00", "R/ repeats forever"
        assert "task" in {t["element_id"] for t in shown["open_tasks"]}
    # Each firing started its own timerFiredTask; the task itself is still open.
    assert sorted(t["element_id"] for t in shown["open_tasks"]) == [
        "task",
        "timerFiredTask",
        "timerFiredTask",
    ]


def test_spiff_cycle_written_as_python_string(app: CaseClock) -> None:
    path = corpus("spiff-timer-cycle.bpmn")
    [result] = deploy(app, path)
    instance = app.execute(StartInstance(result.key), actor="tester")
    shown = view(app, instance.id)
    [timer] = shown["waiting_timers"]
    assert (timer["element_id"], timer["kind"], timer["interrupting"]) == (
        "CatchMessage",
        "cycle",
        False,
    )
    # "R2/PT0.1S" from 09:00:00: first due a tenth of a second later.
    assert timer["due_at"] == "2026-03-02T09:00:00+08:00"


def test_sequence_flows_without_id_are_followed(app: CaseClock) -> None:
    path = corpus(
        "camunda-HistoricActivityInstanceTest.testHistoricActivityInstanceTimerEvent.bpmn"
    )
    deploy(app, path)
    instance = app.execute(StartInstance("catchSignal"), actor="tester")
    shown = view(app, instance.id)
    assert shown["state"] == "running"
    assert [(t["element_id"], t["due_at"]) for t in shown["waiting_timers"]] == [
        ("timerEvent", "2026-03-02T09:05:00+08:00")
    ]
    assert shown["waiting_messages"] == [{"element_id": "messageEvent", "message": "newInvoice"}]


def test_escalation_event_subprocesses_wait_for_their_escalation(app: CaseClock) -> None:
    path = corpus("camunda-TaskServiceTest.handleUserTaskEscalation.bpmn")
    deploy(app, path)
    instance = app.execute(StartInstance("process"), actor="tester")
    shown = view(app, instance.id)
    assert [t["element_id"] for t in shown["open_tasks"]] == ["throw-escalation"]


def test_receipt_log_model_is_refused_as_not_executable(app: CaseClock) -> None:
    if not RECEIPT.is_file():
        pytest.skip("logs/receipt.bpmn is not in this corpus")
    assert _is_bpmn(RECEIPT)
    problems = refusal(app, RECEIPT).details["problems"]
    assert [p["message"] for p in problems] == ['no executable process (isExecutable="true")']
