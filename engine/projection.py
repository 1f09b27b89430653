"""Keeping the ``task``, ``timer`` and ``message_subscription`` rows in step with a workflow.

Called by every command after the workflow moved, inside the same transaction. The
inbox, the boards and the timer scan read these rows only; they never open a workflow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select

from . import org
from .errors import ScriptError
from .executor import CommandContext
from .store import MessageSubscription, ProcessInstance, Task, TaskCandidateGroup, Timer
from .timer_events import ClockedCycle, ClockedDuration, ClockedTimeDate

TIMER_KINDS = {ClockedTimeDate: "date", ClockedDuration: "duration", ClockedCycle: "cycle"}


def sync(ctx: CommandContext, instance: ProcessInstance, workflow: BpmnWorkflow) -> list[Task]:
    """Bring every projection of ``instance`` up to date; return newly opened tasks."""
    waiting = list(workflow.get_tasks(state=TaskState.WAITING))
    opened = _sync_tasks(ctx, instance, workflow)
    _sync_timers(ctx, instance, waiting)
    completed = workflow.is_completed()
    _sync_subscriptions(ctx, instance, waiting, running=not completed)
    if completed:
        instance.state = "completed"
        instance.ended_at = ctx.now
    last = workflow.last_task
    data = last.data if last is not None else workflow.data
    instance.data = ctx.services.serializer.data_to_json_safe(data)
    return opened


def _sync_tasks(
    ctx: CommandContext, instance: ProcessInstance, workflow: BpmnWorkflow
) -> list[Task]:
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    rows = ctx.session.scalars(
        select(Task).where(Task.instance_id == instance.id, Task.state == "open")
    ).all()
    for row in rows:
        if row.spiff_task_id not in ready:
            # A user task that left READY without our CompleteTask: a boundary event or
            # an interrupting event subprocess cancelled it.
            row.state, row.ended_at = "cancelled", ctx.now
            ctx.session.execute(
                delete(TaskCandidateGroup).where(TaskCandidateGroup.task_id == row.id)
            )
    known = {row.spiff_task_id for row in rows}
    opened = []
    for spiff_id, spiff_task in ready.items():
        if spiff_id not in known:
            opened.append(_open_task(ctx, instance, spiff_task))
    return opened


def _open_task(ctx: CommandContext, instance: ProcessInstance, spiff_task: Any) -> Task:
    element_id = spiff_task.task_spec.bpmn_id
    meta = instance.definition.meta["user_tasks"].get(element_id, {})
    assignee = _evaluate_assignment(ctx, spiff_task, meta.get("assignee"))
    groups = _candidate_groups(ctx, spiff_task, meta)
    task = Task(
        instance_id=instance.id,
        spiff_task_id=str(spiff_task.id),
        element_id=element_id,
        name=meta.get("name") or spiff_task.task_spec.bpmn_name or element_id,
        lane=meta.get("lane"),
        state="open",
        assignee=assignee,
        candidate_groups=groups,
        created_at=ctx.now,
        claimed_at=ctx.now if assignee else None,
    )
    ctx.session.add(task)
    ctx.session.flush()
    for key in groups:
        ctx.session.add(TaskCandidateGroup(task_id=task.id, group_key=key))
    return task


def _evaluate_assignment(ctx: CommandContext, spiff_task: Any, text: str | None) -> str | None:
    """``camunda:assignee`` is a literal user key or ``${variable}``."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("${") and text.endswith("}"):
        expression = text[2:-1].strip()
        try:
            value = ctx.services.script_engine.evaluate(spiff_task, expression)
        except Exception as exc:
            raise ScriptError(
                f"{spiff_task.task_spec.bpmn_id}: assignment {text!r} failed: {exc}"
            ) from exc
        return str(value) if value else None
    return text


def _candidate_groups(ctx: CommandContext, spiff_task: Any, meta: dict[str, Any]) -> list[str]:
    raw = _evaluate_assignment(ctx, spiff_task, meta.get("candidate_groups"))
    if raw:
        names = [name.strip() for name in raw.split(",") if name.strip()]
    elif meta.get("lane"):
        names = [meta["lane"]]
    else:
        names = []
    return [org.resolve_group(ctx.session, name) for name in names]


def _sync_timers(ctx: CommandContext, instance: ProcessInstance, waiting: list[Any]) -> None:
    current = {str(t.id): t for t in waiting if _timer_definition(t) is not None}
    rows = {
        row.spiff_task_id: row
        for row in ctx.session.scalars(
            select(Timer).where(Timer.instance_id == instance.id, Timer.status == "waiting")
        )
    }
    for spiff_id, row in rows.items():
        if spiff_id not in current:
            # FireTimer marks the timer it fires; any other timer that stopped waiting
            # went with its task (completed, cancelled, or another event won).
            row.status = "cancelled"
    meta = instance.definition.meta["timers"]
    for spiff_id, spiff_task in current.items():
        due = _due_at(spiff_task)
        if due is None:
            continue
        row = rows.get(spiff_id)
        if row is None:
            element_id = _catching_element(spiff_task, meta)
            info = meta.get(element_id, {})
            definition = _timer_definition(spiff_task)
            ctx.session.add(Timer(
                instance_id=instance.id,
                spiff_task_id=spiff_id,
                element_id=element_id,
                name=info.get("name") or definition.name or element_id,
                kind=TIMER_KINDS[type(definition)],
                interrupting=info.get("interrupting", True),
                attached_to=info.get("attached_to"),
                due_at=due,
                status="waiting",
                created_at=ctx.now,
            ))  # fmt: skip
        elif row.due_at != due:
            row.due_at, row.lease_owner, row.lease_until = due, None, None


def _event_definitions(spiff_task: Any) -> list[Any]:
    """The definitions a waiting task listens for; an event-based gateway has several."""
    definition = getattr(spiff_task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def _catching_element(spiff_task: Any, known: dict[str, Any], message: str | None = None) -> str:
    """The BPMN element that waits: for an event-based gateway, the catch event after it.

    SpiffWorkflow moves the following events' definitions onto the gateway task; users
    know the timer or message by the event they drew.
    """
    own = spiff_task.task_spec.bpmn_id
    if own in known:
        return own
    for output in spiff_task.task_spec.outputs:
        info = known.get(output.bpmn_id)
        if info is not None and (message is None or info == message):
            return output.bpmn_id
    return own


def _timer_definition(spiff_task: Any) -> Any:
    return next((d for d in _event_definitions(spiff_task) if type(d) in TIMER_KINDS), None)


def _due_at(spiff_task: Any) -> datetime | None:
    """Make SpiffWorkflow compute the due time if it has not yet, then read it."""
    value = spiff_task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("next") if value.get("cycles") != 0 else None
    return datetime.fromisoformat(value) if value else None


def _sync_subscriptions(
    ctx: CommandContext, instance: ProcessInstance, waiting: list[Any], running: bool
) -> None:
    """Waiting message catches, plus the message starts of event subprocesses.

    An event subprocess has no waiting task until its message arrives, so its
    subscription comes from the definition and lasts while the instance runs.
    """
    catches = instance.definition.meta.get("message_catches", {})
    current: dict[str, tuple[str, str]] = {
        f"{t.id}:{d.name}": (_catching_element(t, catches, d.name), d.name)
        for t in waiting
        for d in _event_definitions(t)
        if isinstance(d, MessageEventDefinition)
    }
    if running:
        for sub_id, info in instance.definition.meta.get("event_subprocesses", {}).items():
            if info["message"]:
                current[f"start:{sub_id}"] = (info["start"], info["message"])
    rows = {
        row.key: row
        for row in ctx.session.scalars(
            select(MessageSubscription).where(MessageSubscription.instance_id == instance.id)
        )
    }
    for key, row in rows.items():
        if key not in current:
            ctx.session.delete(row)
    for key, (element_id, message) in current.items():
        if key not in rows:
            ctx.session.add(MessageSubscription(
                instance_id=instance.id,
                key=key,
                element_id=element_id,
                message_name=message,
                business_key=instance.business_key,
            ))  # fmt: skip
