"""Event-subprocess semantics that SpiffWorkflow 3.2 leaves out.

SpiffWorkflow's Camunda parser runs an event subprocess as a plain call activity:

* an *interrupting* start (``isInterrupting="true"``, the BPMN default) does not
  cancel the rest of the process — here, once its start event has fired, every
  unfinished task outside it is cancelled;
* a still-waiting event subprocess (e.g. a case-deadline timer) keeps the instance
  open after the main flow has ended — here, when only untriggered event subprocesses
  remain, they are cancelled and the instance completes.

:func:`settle` applies both after every engine step.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState


def settle(workflow: BpmnWorkflow, event_subprocesses: dict[str, dict[str, Any]]) -> bool:
    """Return True if tasks were cancelled (the caller then runs engine steps again)."""
    if not event_subprocesses:
        return False
    own = [t for t in workflow.get_tasks() if t.workflow is workflow]
    handlers = [t for t in own if t.task_spec.bpmn_id in event_subprocesses]
    # SpiffWorkflow's own joins and end tasks (no BPMN id) wait for everything; they are
    # not "the main flow".
    main = [
        t
        for t in own
        if t.task_spec.bpmn_id is not None
        and t.task_spec.bpmn_id not in event_subprocesses
        and not t.has_state(TaskState.FINISHED_MASK)
    ]
    triggered = [t for t in handlers if _triggered(workflow, t, event_subprocesses)]
    if main and any(event_subprocesses[t.task_spec.bpmn_id]["interrupting"] for t in triggered):
        _cancel(main)
        return True
    waiting = [
        t for t in handlers if t not in triggered and not t.has_state(TaskState.FINISHED_MASK)
    ]
    if waiting and not main and all(t.has_state(TaskState.FINISHED_MASK) for t in triggered):
        _cancel(waiting)
        _wake_joins(workflow)
        return True
    return False


def _wake_joins(workflow: BpmnWorkflow) -> None:
    """The process end join waited on the cancelled branch; let it re-check its inputs."""
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if task.workflow is workflow and task.task_spec.bpmn_id is None:
            task.task_spec._update(task)


def _triggered(workflow: BpmnWorkflow, task: Any, event_subprocesses: dict[str, Any]) -> bool:
    if task.has_state(TaskState.COMPLETED):
        return True
    subprocess = workflow.subprocesses.get(task.id)
    if subprocess is None:
        return False
    start_id = event_subprocesses[task.task_spec.bpmn_id]["start"]
    return any(
        t.task_spec.bpmn_id == start_id and t.has_state(TaskState.COMPLETED)
        for t in subprocess.get_tasks()
    )


def _cancel(tasks: list[Any]) -> None:
    for task in tasks:
        if not task.has_state(TaskState.FINISHED_MASK):
            task.cancel()
