"""Keeping the ``task``, ``timer`` and ``message_subscription`` rows in step with a workflow.

Called by every command after the workflow moved, inside the same transaction. The
inbox, the boards and the timer scan read these rows only; they never open a workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from . import ledger, sla, standards
from .errors import ScriptError
from .executor import CommandContext
from .store import MessageSubscription, ProcessInstance, Task, TaskCandidateGroup, Timer
from .store.models import POOL_KINDS
from .store.prepared import Prepared
from .store.row_objects import persistent
from .timer_events import ClockedCycle, ClockedDuration, ClockedTimeDate

T = TypeVar("T")

TIMER_KINDS = {ClockedTimeDate: "date", ClockedDuration: "duration", ClockedCycle: "cycle"}


def sync(
    ctx: CommandContext,
    instance: ProcessInstance,
    meta: dict[str, Any],
    workflow: BpmnWorkflow,
    new: bool = False,
) -> list[Task]:
    """Bring every projection of ``instance`` up to date; return newly opened tasks.

    ``new``: the instance is not stored yet, so it has no rows to compare against.
    Autoflush is off while the rows are compared, so the changes go out together.
    """
    ready, waiting = [], []
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if task.state == TaskState.WAITING:
            waiting.append(task)
        elif task.task_spec.manual:
            ready.append(task)
    completed = workflow.is_completed()
    with ctx.session.no_autoflush:
        opened = _sync_tasks(ctx, instance, meta, ready, new)
        if meta["timers"]:
            _sync_timers(ctx, instance, meta, waiting, new)
        if meta.get("has_messages", True):
            _sync_subscriptions(ctx, instance, meta, waiting, not completed, new)
        if meta.get("subprocess_slas"):
            _sync_scope_clocks(ctx, instance, meta, workflow, new)
    if completed:
        instance.state = "completed"
        instance.ended_at = ctx.now
        sla.stop_case_clock(ctx, instance, bool(meta.get("subprocess_slas")))
        case_calendar = (meta.get("case_sla") or {}).get("calendar") or meta.get("calendar")
        ledger.record_case_final(ctx, instance, case_calendar)
    last = workflow.last_task
    data = last.data if last is not None else workflow.data
    instance.data = ctx.services.serializer.data_to_json_safe(data)
    return opened


def _sync_scope_clocks(
    ctx: CommandContext,
    instance: ProcessInstance,
    meta: dict[str, Any],
    workflow: BpmnWorkflow,
    new: bool,
) -> None:
    """Start the clock of a subprocess with a limit when it starts; stop it when it ends.

    A clock is keyed by the subprocess's SpiffWorkflow task id; one whose timers have all
    fired already must not start again, so every clock ever started is read, once.
    """
    wanted = meta["subprocess_slas"]
    clocks = [] if new else ctx.session.execute(
        select(Timer.spiff_task_id, Timer.status).where(
            Timer.instance_id == instance.id, Timer.kind == "sla",
            Timer.task_id.is_(None), Timer.spiff_task_id != "",
        )
    ).all()  # fmt: skip
    existed = {spiff_id for spiff_id, _ in clocks}
    running = {spiff_id for spiff_id, status in clocks if status in ("waiting", "paused")}
    started = set()
    for task in workflow.get_tasks(state=TaskState.STARTED):
        element_id = task.task_spec.bpmn_id
        if element_id not in wanted:
            continue
        spiff_id = str(task.id)
        started.add(spiff_id)
        if spiff_id not in existed:
            scope = (spiff_id, element_id)
            sla.start_scope_clock(ctx, instance, scope, wanted[element_id], meta.get("calendar"))
    for spiff_id in running - started:
        sla.stop_scope_clock(ctx, instance, spiff_id)


def _keys(ctx: CommandContext, query: Prepared, instance: ProcessInstance) -> list[Any]:
    """A few columns of ``instance``'s rows, read by a prepared statement: building ORM
    objects for every open row costs more than the rest of the comparison, and few rows
    change."""
    return query.rows(ctx.session.connection(), {"instance_id": instance.id})


def _loaded(ctx: CommandContext, cls: type[T], row_id: int) -> T | None:
    """The object for a row if this command already holds it (perhaps changed and not
    yet written), else ``None``; never a query."""
    return ctx.session.identity_map.get(ctx.session.identity_key(cls, row_id))  # type: ignore[return-value]


_OF_INSTANCE = bindparam("instance_id")
_TASKS = Task.__table__
# 协办 requests come with the steps they assist: one read finds the requests whose step
# ended in this command (completed or cancelled), with no query of its own.
_OPEN_TASKS = Prepared(
    select(_TASKS.c.id, _TASKS.c.spiff_task_id, _TASKS.c.kind, _TASKS.c.assists_id).where(
        _TASKS.c.instance_id == _OF_INSTANCE,
        _TASKS.c.state == "open",
        or_(*(_TASKS.c.kind == kind for kind in POOL_KINDS)),
    )
)
# SLA timers are engine.sla's; paused ones (engine.clock_control) still belong to a
# waiting BPMN timer.
_LIVE_TIMER = ("waiting", "paused")
_TIMERS = Timer.__table__
_LIVE_TIMERS = Prepared(
    select(_TIMERS.c.id, _TIMERS.c.spiff_task_id, _TIMERS.c.status, _TIMERS.c.due_at).where(
        _TIMERS.c.instance_id == _OF_INSTANCE,
        or_(*(_TIMERS.c.status == status for status in _LIVE_TIMER)),
        _TIMERS.c.kind != "sla",
    )
)
_SUBS = MessageSubscription.__table__
_SUBSCRIPTIONS = Prepared(
    select(_SUBS.c.id, _SUBS.c.key).where(_SUBS.c.instance_id == _OF_INSTANCE)
)
_DELETE_SUBSCRIPTION = Prepared(delete(_SUBS).where(_SUBS.c.id == bindparam("subscription_id")))
_INSERT_SUBSCRIPTION = Prepared(_SUBS.insert())


def _task_state(ctx: CommandContext, task_id: int) -> str:
    """A task row read as open, as this command left it."""
    task = _loaded(ctx, Task, task_id)
    return task.state if task is not None else "open"


def _sync_tasks(
    ctx: CommandContext,
    instance: ProcessInstance,
    meta: dict[str, Any],
    ready: list[Any],
    new: bool,
) -> list[Task]:
    by_id = {str(t.id): t for t in ready}
    pooled = [] if new else _keys(ctx, _OPEN_TASKS, instance)
    rows = [row for row in pooled if row.kind == "user"]
    for row in rows:
        if row.spiff_task_id not in by_id and _task_state(ctx, row.id) == "open":
            # A user task that left READY without our CompleteTask: a boundary event or
            # an interrupting event subprocess cancelled it.
            task = ctx.session.get_one(Task, row.id)
            task.state, task.ended_at = "cancelled", ctx.now
            task.candidate_group_rows = []
            sla.stop_task_clock(ctx, task)
    _withdraw_moot_assists(ctx, instance, pooled)
    known = {row.spiff_task_id for row in rows}
    return [
        _open_task(ctx, instance, meta, spiff_task)
        for spiff_id, spiff_task in by_id.items()
        if spiff_id not in known
    ]


def _withdraw_moot_assists(
    ctx: CommandContext, instance: ProcessInstance, pooled: list[Any]
) -> None:
    """A 协办 request whose step is no longer open (this command completed or cancelled
    it) is withdrawn."""
    from .assistance import withdraw  # assistance builds on the runtime, which uses this

    for request in pooled:
        if request.kind == "assist":
            step = ctx.session.get(Task, request.assists_id)
            if step is None or step.state != "open":
                withdraw(ctx, instance, ctx.session.get_one(Task, request.id), step)


_INSERT_TASK = Prepared(_TASKS.insert().returning(_TASKS.c.id))
_INSERT_CANDIDATE_GROUPS = Prepared(TaskCandidateGroup.__table__.insert())
# The SLA columns of a task without a clock (engine.sla.plan_task_clock fills them).
_NO_CLOCK = dict.fromkeys(
    ("sla_note", "sla_limit", "sla_warnings", "sla_policy", "sla_on_deadline",
     "calendar_name", "due_at", "warn_at"),
)  # fmt: skip


def _open_task(
    ctx: CommandContext, instance: ProcessInstance, meta: dict[str, Any], spiff_task: Any
) -> Task:
    element_id = spiff_task.task_spec.bpmn_id
    info = meta["user_tasks"].get(element_id, {})
    chosen = standards.in_force(
        ctx, meta.get("process_key", ""), element_id, spiff_task.data, info.get("sla")
    )
    clock = (
        sla.plan_task_clock(ctx, chosen.sla, meta.get("calendar"), chosen.label)
        if chosen is not None
        else None
    )
    values = _task_row(ctx, instance, info, spiff_task)
    values.update(clock.columns if clock is not None else _NO_CLOCK)
    task = _insert_task(ctx, values)
    if clock is not None:
        sla.schedule_task_clock(ctx, instance, task, clock)
    return task


def _task_row(
    ctx: CommandContext, instance: ProcessInstance, info: dict[str, Any], spiff_task: Any
) -> dict[str, Any]:
    """Every column of a new user task's row but its SLA clock's."""
    element_id = spiff_task.task_spec.bpmn_id
    assignee = _evaluate_assignment(ctx, spiff_task, info.get("assignee"))
    return {
        "instance_id": instance.id,
        "spiff_task_id": str(spiff_task.id),
        "element_id": element_id,
        "name": info.get("name") or spiff_task.task_spec.bpmn_name or element_id,
        "lane": info.get("lane"),
        "state": "open",
        "assignee": assignee,
        "owner": None,
        "delegation_state": None,
        "candidate_groups": _candidate_groups(ctx, spiff_task, info),
        "created_at": ctx.now,
        "claimed_at": ctx.now if assignee else None,
        "ended_at": None,
        "completed_by": None,
        "paused_at": None,
        "kind": "user",
        "chase_of_id": None,
        "chase_level": None,
        "outcome": None,
        "paused_seconds": 0,
        "extended_seconds": 0,
        "assists_id": None,
    }


def _insert_task(ctx: CommandContext, values: dict[str, Any]) -> Task:
    """Insert the task's rows with prepared statements and return its persistent object."""
    connection = ctx.session.connection()
    task_id = _INSERT_TASK.run(connection, values)
    _INSERT_CANDIDATE_GROUPS.run_many(
        connection, [{"task_id": task_id, "group_key": key} for key in values["candidate_groups"]]
    )
    return persistent(ctx.session, Task, {**values, "id": task_id})


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
    org = ctx.org()
    return list(dict.fromkeys(org.group_key(name) for name in names))


def _sync_timers(
    ctx: CommandContext,
    instance: ProcessInstance,
    meta: dict[str, Any],
    waiting: list[Any],
    new: bool,
) -> None:
    """Timer rows are read and written with Core statements: nothing reads them back as
    objects in the command, and the ORM costs more than the writes. A row this command
    already changed as an object (FireTimer marks the timer it fires) is compared as
    changed, and takes the written values as committed state."""
    current = {str(t.id): t for t in waiting if _timer_definition(t) is not None}
    rows: dict[str, _TimerRow] = {}
    for row in [] if new else _keys(ctx, _LIVE_TIMERS, instance):
        timer = _TimerRow(row.id, row.status, row.due_at, _loaded(ctx, Timer, row.id))
        if timer.loaded is not None:
            timer.status, timer.due_at = timer.loaded.status, timer.loaded.due_at
        if timer.status in _LIVE_TIMER:
            rows[row.spiff_task_id] = timer
    # FireTimer marks the timer it fires; any other timer that stopped waiting went with
    # its task (completed, cancelled, or another event won).
    cancelled = [row for spiff_id, row in rows.items() if spiff_id not in current]
    moved, added = [], []
    for spiff_id, spiff_task in current.items():
        due = _due_at(spiff_task)
        timer = rows.get(spiff_id)
        if due is None:
            continue
        if timer is None:
            added.append(_timer_row(ctx, instance, meta, spiff_id, spiff_task, due))
        elif timer.due_at != due and timer.status == "waiting":
            moved.append((timer, due))
    _write_timers(ctx, cancelled, moved, added)


@dataclass
class _TimerRow:
    """A live timer row as this command sees it; ``loaded``: its object, if in the session."""

    id: int
    status: str
    due_at: datetime
    loaded: Timer | None


_INSERT_TIMER = Prepared(_TIMERS.insert())
_CANCEL_TIMER = Prepared(
    update(_TIMERS).where(_TIMERS.c.id == bindparam("timer_id")).values(status="cancelled")
)
_MOVE_TIMER = Prepared(
    update(_TIMERS)
    .where(_TIMERS.c.id == bindparam("timer_id"))
    .values(due_at=bindparam("due"), lease_owner=None, lease_until=None)
)


def _timer_row(
    ctx: CommandContext,
    instance: ProcessInstance,
    meta: dict[str, Any],
    spiff_id: str,
    spiff_task: Any,
    due: datetime,
) -> dict[str, Any]:
    element_id = _catching_element(spiff_task, meta["timers"])
    info = meta["timers"].get(element_id, {})
    definition = _timer_definition(spiff_task)
    return {
        "instance_id": instance.id,
        "spiff_task_id": spiff_id,
        "element_id": element_id,
        "name": info.get("name") or definition.name or element_id,
        "kind": TIMER_KINDS[type(definition)],
        "purpose": None,
        "task_id": None,
        "interrupting": info.get("interrupting", True),
        "attached_to": info.get("attached_to"),
        "due_at": due,
        "status": "waiting",
        "created_at": ctx.now,
    }


def _write_timers(
    ctx: CommandContext,
    cancelled: list[_TimerRow],
    moved: list[tuple[_TimerRow, datetime]],
    added: list[dict[str, Any]],
) -> None:
    """One executemany per kind of change; loaded rows take the new values as committed."""
    connection = ctx.session.connection()
    if cancelled:
        _CANCEL_TIMER.run_many(connection, [{"timer_id": row.id} for row in cancelled])
        for row in cancelled:
            if row.loaded is not None:
                set_committed_value(row.loaded, "status", "cancelled")
    if moved:
        _MOVE_TIMER.run_many(connection, [{"timer_id": row.id, "due": due} for row, due in moved])
        for row, due in moved:
            if row.loaded is None:
                continue
            for name, value in (("due_at", due), ("lease_owner", None), ("lease_until", None)):
                set_committed_value(row.loaded, name, value)
    _INSERT_TIMER.run_many(connection, added)


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
    ctx: CommandContext,
    instance: ProcessInstance,
    meta: dict[str, Any],
    waiting: list[Any],
    running: bool,
    new: bool,
) -> None:
    """Waiting message catches, plus the message starts of event subprocesses.

    An event subprocess has no waiting task until its message arrives, so its
    subscription comes from the definition and lasts while the instance runs.
    """
    catches = meta.get("message_catches", {})
    current: dict[str, tuple[str, str]] = {
        f"{t.id}:{d.name}": (_catching_element(t, catches, d.name), d.name)
        for t in waiting
        for d in _event_definitions(t)
        if isinstance(d, MessageEventDefinition)
    }
    if running:
        for sub_id, info in meta.get("event_subprocesses", {}).items():
            if info["message"]:
                current[f"start:{sub_id}"] = (info["start"], info["message"])
    # Written with prepared statements, like the timers: nothing in the command reads
    # them back as objects.
    existing = {} if new else {row.key: row.id for row in _keys(ctx, _SUBSCRIPTIONS, instance)}
    connection = ctx.session.connection()
    _DELETE_SUBSCRIPTION.run_many(connection, [
        {"subscription_id": row_id} for key, row_id in existing.items() if key not in current
    ])  # fmt: skip
    _INSERT_SUBSCRIPTION.run_many(connection, [
        {"instance_id": instance.id, "key": key, "element_id": element_id,
         "message_name": message, "business_key": instance.business_key}
        for key, (element_id, message) in current.items()
        if key not in existing
    ])  # fmt: skip
