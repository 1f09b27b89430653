"""Runtime commands: start, claim, unclaim, delegate, resolve, reassign, complete, message.

Each command locks the instance row first (``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite the transaction already began with ``BEGIN IMMEDIATE``), moves the workflow,
syncs projections, appends an audit event, and returns. Task rules follow Camunda's
Tasklist: claim an unassigned task you are a candidate for (claiming your own task
again is a no-op); only the assignee completes; a delegated task is resolved by the
delegate and goes back to its owner.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import bindparam, insert, select

from . import (
    applicant_notices,
    audit,
    chase,
    event_subprocesses,
    forms,
    ledger,
    projection,
    sla,
    standards,
)
from .definitions import latest_definition_id
from .errors import (
    CaseClockError,
    Conflict,
    Forbidden,
    NotFound,
    ScriptError,
    ValidationError,
    at_field,
)
from .executor import CommandContext
from .store import Definition, MessageSubscription, ProcessInstance, Task
from .store.models import POOL_KINDS
from .store.prepared import Prepared
from .store.row_objects import column_keys, loaded, persistent
from .workflows import LoadedDefinition


def parse_data(text: str | None) -> dict[str, Any]:
    """``--data`` JSON from a user: an object or nothing."""
    if not text:
        return {}
    try:
        value = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"data is not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(value, dict):
        raise ValidationError('data must be a JSON object, e.g. {"amount": 100}')
    return value


def _not_json(constant: str) -> Any:
    """Python's json reads NaN and Infinity, which JSON has not: a field would store "nan"."""
    raise ValidationError(f"data is not valid JSON: {constant} is not a JSON number")


# --- shared steps ----------------------------------------------------------------------------


def lock_instance(ctx: CommandContext, instance_id: int) -> ProcessInstance:
    instance = ctx.session.scalars(
        select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update()
    ).first()
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    ctx.touched.add(instance.id)
    return instance


# The instance's workflow state is left out: most commands find the workflow in the cache.
_STATE = frozenset({"workflow_state"})
_INSTANCE_KEYS = sorted(column_keys(ProcessInstance) - _STATE)
_TASK_KEYS = sorted(column_keys(Task))
_LOCK_TASK_INSTANCE = Prepared(
    select(
        *(getattr(ProcessInstance, key).label(f"i_{key}") for key in _INSTANCE_KEYS),
        *(getattr(Task, key).label(f"t_{key}") for key in _TASK_KEYS),
    )
    .select_from(ProcessInstance)
    .join(Task, Task.instance_id == ProcessInstance.id)
    .where(Task.id == bindparam("task_id"))
    .with_for_update(of=ProcessInstance)
)


_KIND_NAMES = {"user": "a user task", "assist": "a 协办 request", "chase": "a chase task"}
_OTHER_KINDS = {
    "chase": "is a chase task: handle or urge it (caseclock chase)",
    "assist": "is a 协办 request: answer it (caseclock assist answer)",
}


def lock_task(
    ctx: CommandContext, task_id: int, kinds: tuple[str, ...] = ("user",)
) -> tuple[Task, ProcessInstance]:
    """Lock the task's instance and read the task in one query; what is read is current.
    Only the task ``kinds`` the command works on are accepted.

    On PostgreSQL the joined task row may predate a lock the query waited for (only the
    instance row is re-read then), so the task is read again under the lock.
    """
    found = _LOCK_TASK_INSTANCE.rows(ctx.session.connection(), {"task_id": task_id})
    if not found:
        raise NotFound(f"no task {task_id}")
    row, split = found[0], len(_INSTANCE_KEYS)
    instance_values = dict(zip(_INSTANCE_KEYS, row[:split], strict=True))
    instance = loaded(ctx.session, ProcessInstance, instance_values, _STATE)
    task = loaded(ctx.session, Task, dict(zip(_TASK_KEYS, row[split:], strict=True)))
    ctx.touched.add(instance.id)
    if not ctx.holds_database_lock:
        ctx.session.refresh(task)
    if task.state != "open":
        raise Conflict(f"task {task_id} is already {task.state}")
    if task.kind not in kinds:
        other = _OTHER_KINDS.get(task.kind) if "user" in kinds else None
        wanted = " or ".join(_KIND_NAMES[kind] for kind in kinds)
        raise Conflict(f"task {task_id} {other or f'is not {wanted}'}")
    return task, instance


def acts_for(ctx: CommandContext, task: Task, user: str) -> bool:
    """The assignee, or their deputy while they are away (休假委托)."""
    return task.assignee == user or (
        task.assignee is not None and ctx.org().stand_in(task.assignee, ctx.today()) == user
    )


def definition_of(ctx: CommandContext, instance: ProcessInstance) -> LoadedDefinition:
    return ctx.services.definitions.get(ctx.session, instance.definition_id)


def load_workflow(
    ctx: CommandContext, instance: ProcessInstance, definition: LoadedDefinition
) -> BpmnWorkflow:
    workflow = ctx.services.workflows.load(instance, definition, ctx.services.script_engine)
    return _bind(ctx, definition, workflow)


def _bind(
    ctx: CommandContext, definition: LoadedDefinition, workflow: BpmnWorkflow
) -> BpmnWorkflow:
    """Give the workflow this command's calendar (timers with working-time durations)."""
    name = definition.meta.get("calendar")
    workflow.calendar_provider = lambda: ctx.calendar(name)
    return workflow


def run_engine(workflow: BpmnWorkflow, meta: dict[str, Any], action: Any = None) -> None:
    """Run ``action`` then every automatic step; SpiffWorkflow errors become ours."""
    try:
        if action is not None:
            action()
        workflow.do_engine_steps()
        while event_subprocesses.settle(workflow, meta.get("event_subprocesses", {})):
            workflow.do_engine_steps()
    except CaseClockError:
        raise
    except SpiffWorkflowException as exc:
        raise _as_case_clock_error(exc) from exc


def _as_case_clock_error(exc: SpiffWorkflowException) -> CaseClockError:
    cause = getattr(exc, "exception", None) or exc.__cause__
    message = cause.message if isinstance(cause, CaseClockError) else str(exc)
    task_spec = getattr(exc, "task_spec", None)
    where = getattr(task_spec, "bpmn_id", None) or getattr(exc, "task_name", None) or "workflow"
    return ScriptError(f"{where}: {message}", details={"element_id": where})


def finish(
    ctx: CommandContext,
    instance: ProcessInstance,
    definition: LoadedDefinition,
    workflow: BpmnWorkflow,
) -> list[Task]:
    opened = projection.sync(ctx, instance, definition.meta, workflow)
    ctx.services.workflows.save(instance, workflow)
    applicant_notices.send(ctx, instance, definition.meta, workflow)
    return opened


# --- commands ----------------------------------------------------------------------------------


class StartInstance:
    name = "start"

    def __init__(
        self,
        key: str,
        business_key: str | None = None,
        data: dict[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        self.key, self.business_key = key, business_key
        self.data, self.message = data or {}, message

    def __call__(self, ctx: CommandContext) -> ProcessInstance:
        definition_id = latest_definition_id(ctx.session, self.key)
        definition = ctx.services.definitions.get(ctx.session, definition_id)
        return start_instance(ctx, definition, self.business_key, self.data, self.message)


def start_instance(
    ctx: CommandContext,
    definition: LoadedDefinition,
    business_key: str | None,
    data: dict[str, Any],
    message: str | None = None,
) -> ProcessInstance:
    if definition.meta["message_starts"] and message is None:
        names = ", ".join(definition.meta["message_starts"])
        raise ValidationError(
            f"process {definition.key!r} starts on a message ({names}); "
            f"send it with: caseclock message NAME --business-key K"
        )
    workflow = _bind(
        ctx, definition, ctx.services.workflows.new(definition, ctx.services.script_engine)
    )

    def begin() -> None:
        workflow.task_tree.data.update(data)
        if message is not None:
            workflow.do_engine_steps()
            workflow.catch(BpmnEvent(MessageEventDefinition(message), payload=data))

    run_engine(workflow, definition.meta, begin)
    # The row first: projection rows written with Core statements need its id.
    instance = _insert_instance(ctx, {
        "definition_id": definition.id, "business_key": business_key, "state": "running",
        "version": 1, "workflow_state": ctx.services.serializer.state_to_json(workflow),
        "data": {}, "started_at": ctx.now, "started_by": ctx.actor, "ended_at": None,
        "error": None, "due_at": None, "audit_seq": 0, "audit_hash": audit.GENESIS,
    })  # fmt: skip
    meta = definition.meta
    chosen = standards.in_force(ctx, definition.key, standards.CASE, data, meta.get("case_sla"))
    if chosen is not None:
        sla.start_case_clock(ctx, instance, chosen.sla, meta.get("calendar"))
    projection.sync(ctx, instance, meta, workflow, new=True)
    applicant_notices.send(ctx, instance, meta, workflow)
    ctx.services.workflows.remember(instance, workflow)
    audit.append(ctx, "start", instance=instance, payload={
        "definition": definition.label, "business_key": business_key, "message": message,
    }, private={"data": data})  # fmt: skip
    return instance


_INSERT_INSTANCE = Prepared(insert(ProcessInstance).returning(ProcessInstance.id))


def _insert_instance(ctx: CommandContext, values: dict[str, Any]) -> ProcessInstance:
    """Insert the row with one prepared statement and return its persistent object."""
    instance_id = _INSERT_INSTANCE.run(ctx.session.connection(), values)
    ctx.touched.add(instance_id)
    return persistent(ctx.session, ProcessInstance, {**values, "id": instance_id})


def _claim(ctx: CommandContext, task: Task, instance: ProcessInstance, user: str) -> None:
    if task.assignee:
        raise Conflict(f"task {task.id} is already claimed by {task.assignee}")
    groups = ctx.org().groups_of(user)
    if task.candidate_groups and not groups & set(task.candidate_groups):
        raise Forbidden(
            f"{user} is not in a candidate group of task {task.id} "
            f"({', '.join(task.candidate_groups)})"
        )
    task.assignee, task.claimed_at = user, ctx.now
    audit.append(ctx, "claim", instance=instance, task_id=task.id, payload={"user": user})


class ClaimTask:
    name = "claim"

    def __init__(self, task_id: int, user: str) -> None:
        self.task_id, self.user = task_id, user

    def __call__(self, ctx: CommandContext) -> Task:
        ctx.org().person_id(self.user)
        task, instance = lock_task(ctx, self.task_id, POOL_KINDS)
        if task.assignee != self.user:
            _claim(ctx, task, instance, self.user)
        return task


class UnclaimTask:
    name = "unclaim"

    def __init__(self, task_id: int, user: str) -> None:
        self.task_id, self.user = task_id, user

    def __call__(self, ctx: CommandContext) -> Task:
        task, instance = lock_task(ctx, self.task_id, POOL_KINDS)
        if task.assignee is None:
            raise Conflict(f"task {task.id} is not claimed")
        if task.assignee != self.user:
            raise Forbidden(f"task {task.id} is claimed by {task.assignee}, not {self.user}")
        if task.delegation_state == "pending":
            raise Conflict(f"task {task.id} is delegated; resolve it instead")
        task.assignee, task.claimed_at = None, None
        audit.append(ctx, "unclaim", instance=instance, task_id=task.id,
                     payload={"user": self.user})  # fmt: skip
        return task


class DelegateTask:
    """The assignee hands the work to someone else and stays its owner."""

    name = "delegate"

    def __init__(self, task_id: int, user: str, to: str) -> None:
        self.task_id, self.user, self.to = task_id, user, to

    def __call__(self, ctx: CommandContext) -> Task:
        ctx.org().person_id(self.to)
        task, instance = lock_task(ctx, self.task_id)
        if task.assignee != self.user:
            raise Forbidden(f"only the assignee of task {task.id} can delegate it")
        if self.to == self.user:
            # The task would wait for its own assignee to hand it back to themselves.
            raise at_field("to", f"task {task.id} is yours already: delegate it to someone else")
        task.owner = task.owner or self.user
        task.assignee, task.delegation_state = self.to, "pending"
        audit.append(ctx, "delegate", instance=instance, task_id=task.id,
                     payload={"from": self.user, "to": self.to})  # fmt: skip
        return task


class ResolveTask:
    """The delegate hands the task back to its owner (Camunda ``resolveTask``)."""

    name = "resolve"

    def __init__(self, task_id: int, user: str, data: dict[str, Any] | None = None) -> None:
        self.task_id, self.user, self.data = task_id, user, data or {}

    def __call__(self, ctx: CommandContext) -> Task:
        task, instance = lock_task(ctx, self.task_id)
        if task.delegation_state != "pending" or task.assignee != self.user:
            raise Conflict(f"task {task.id} is not delegated to {self.user}")
        if self.data:
            _apply_form(ctx, task, instance, self.data, by=None)
        task.assignee, task.delegation_state = task.owner, "resolved"
        audit.append(ctx, "resolve", instance=instance, task_id=task.id,
                     payload={"user": self.user}, private={"data": self.data})  # fmt: skip
        return task


class ReassignTask:
    """Set the assignee outright (a supervisor's action); ``None`` puts it back in the pool."""

    name = "reassign"

    def __init__(self, task_id: int, to: str | None) -> None:
        self.task_id, self.to = task_id, to

    def __call__(self, ctx: CommandContext) -> Task:
        if self.to:
            ctx.org().person_id(self.to)
        task, instance = lock_task(ctx, self.task_id, POOL_KINDS)
        hand_over(ctx, instance, task, self.to)
        return task


def hand_over(
    ctx: CommandContext, instance: ProcessInstance, task: Task, to: str | None, **note: object
) -> None:
    """Reassign ``task`` (``None``: back to the pool); a late task's chases close."""
    previous = task.assignee
    task.assignee, task.claimed_at = to, ctx.now if to else None
    task.owner, task.delegation_state = None, None
    if task.kind != "chase":
        chase.close_for(ctx, instance, task, f"reassigned to {to or 'the group pool'}")
    audit.append(ctx, "reassign", instance=instance, task_id=task.id,
                 payload={"from": previous, "to": to, **note})  # fmt: skip


class CompleteTask:
    """Complete a task you hold; with ``claim=True`` an unclaimed group task is claimed
    first, in the same transaction (the Tasklist's "complete" on a group task)."""

    name = "complete"

    def __init__(
        self, task_id: int, user: str, data: dict[str, Any] | None = None, claim: bool = False
    ) -> None:
        self.task_id, self.user, self.data, self.claim = task_id, user, data or {}, claim

    def __call__(self, ctx: CommandContext) -> list[Task]:
        ctx.org().person_id(self.user)
        task, instance = lock_task(ctx, self.task_id)
        if task.assignee is None and self.claim:
            _claim(ctx, task, instance, self.user)
        if task.assignee is None:
            raise Conflict(f"task {task.id} is not claimed; claim it before completing")
        if not acts_for(ctx, task, self.user):
            raise Forbidden(f"task {task.id} is assigned to {task.assignee}; only they complete it")
        if task.delegation_state == "pending":
            raise Conflict(f"task {task.id} is delegated; the delegate resolves it instead")
        opened = _apply_form(ctx, task, instance, self.data, by=self.user)
        payload = {"user": self.user}
        if task.assignee != self.user:
            payload["on_behalf_of"] = task.assignee
        audit.append(ctx, "complete", instance=instance, task_id=task.id, payload=payload,
                     private={"data": self.data})  # fmt: skip
        return opened


def _apply_form(
    ctx: CommandContext,
    task: Task,
    instance: ProcessInstance,
    data: dict[str, Any],
    by: str | None,
) -> list[Task]:
    """Save form data; with ``by`` (the user completing it) also complete the task."""
    complete = by is not None
    definition = definition_of(ctx, instance)
    fields = definition.meta["user_tasks"].get(task.element_id, {}).get("form", [])
    cleaned = forms.validate(fields, data, partial=not complete)
    workflow = load_workflow(ctx, instance, definition)
    spiff_task = workflow.get_task_from_id(UUID(task.spiff_task_id))
    if spiff_task is None:
        raise Conflict(f"task {task.id} no longer exists in its workflow")

    def apply() -> None:
        spiff_task.data.update(cleaned)
        if complete:
            spiff_task.run()

    run_engine(workflow, definition.meta, apply)
    if complete:
        task.state, task.ended_at, task.completed_by = "completed", ctx.now, by
        sla.stop_task_clock(ctx, task)
        chase.close_for(ctx, instance, task, "completed")
        ledger.record_final(ctx, instance, task)
    return finish(ctx, instance, definition, workflow)


class CorrelateMessage:
    """Deliver a named message to the instance(s) waiting for it with this business key.

    If none waits and a process starts on this message, a new instance is started.
    """

    name = "message"

    def __init__(self, message: str, business_key: str, data: dict[str, Any] | None = None):
        self.message, self.business_key, self.data = message, business_key, data or {}

    def __call__(self, ctx: CommandContext) -> list[int]:
        instance_ids = ctx.session.scalars(
            select(MessageSubscription.instance_id)
            .where(
                MessageSubscription.message_name == self.message,
                MessageSubscription.business_key == self.business_key,
            )
            .distinct()
            .order_by(MessageSubscription.instance_id)
        ).all()
        if instance_ids:
            for instance_id in instance_ids:
                self._deliver(ctx, instance_id)
            return list(instance_ids)
        definition = self._starting_definition(ctx)
        instance = start_instance(ctx, definition, self.business_key, self.data, self.message)
        return [instance.id]

    def _deliver(self, ctx: CommandContext, instance_id: int) -> None:
        instance = lock_instance(ctx, instance_id)
        definition = definition_of(ctx, instance)
        workflow = load_workflow(ctx, instance, definition)
        event = BpmnEvent(MessageEventDefinition(self.message), payload=dict(self.data))
        run_engine(workflow, definition.meta, lambda: workflow.catch(event))
        finish(ctx, instance, definition, workflow)
        audit.append(ctx, "message", instance=instance, private={"data": self.data}, payload={
            "message": self.message, "business_key": self.business_key,
        })  # fmt: skip

    def _starting_definition(self, ctx: CommandContext) -> LoadedDefinition:
        keys = ctx.session.scalars(select(Definition.key).distinct()).all()
        for key in keys:
            definition = ctx.services.definitions.get(
                ctx.session, latest_definition_id(ctx.session, key)
            )
            if self.message in definition.meta["message_starts"]:
                return definition
        raise NotFound(
            f"no instance with business key {self.business_key!r} waits for message "
            f"{self.message!r}, and no process starts on it"
        )
