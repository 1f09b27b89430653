"""Clock control: pause and resume (补正), request and decide extensions (延期).

Both move every pending instant of a task's clock — its SLA warnings and deadline and
the BPMN boundary timers attached to it — in the same command, with an audit event.
A pause stops the clock: on resume the instants move later by exactly the working
time that passed while paused (a pause over a weekend alone moves nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from . import approvals, audit, chase, sla, standards
from .calendar import CalendarError, WorkingCalendar
from .calendar import parse_duration as parse_calendar_duration
from .errors import Conflict, Forbidden, ValidationError
from .executor import CommandContext, RollBack
from .runtime import definition_of, load_workflow, lock_instance, lock_task
from .store import ProcessInstance, Task, Timer
from .store.models import SlaExtension


def _clock_timers(ctx: CommandContext, task: Task, statuses: tuple[str, ...]) -> list[Timer]:
    """The task's SLA timers and the BPMN boundary timers attached to it."""
    return list(
        ctx.session.scalars(
            select(Timer).where(
                Timer.instance_id == task.instance_id,
                Timer.status.in_(statuses),
                (Timer.task_id == task.id)
                | ((Timer.kind != "sla") & (Timer.attached_to == task.element_id)),
            )
        )
    )


def _shift(
    ctx: CommandContext,
    instance: ProcessInstance,
    task: Task,
    timers: list[Timer],
    calendar: WorkingCalendar,
    amount: timedelta,
) -> None:
    """Move the task's instants later by ``amount`` of working time."""

    def moved(at: datetime) -> datetime:
        return calendar.add_working_time(at, amount) if amount else at

    boundary = [t for t in timers if t.kind != "sla"]
    if boundary:
        workflow = load_workflow(ctx, instance, definition_of(ctx, instance))
        for timer in boundary:
            spiff_task = workflow.event_manager.tasks.get(UUID(timer.spiff_task_id))
            if spiff_task is not None and isinstance(
                spiff_task._get_internal_data("event_value"), str
            ):
                spiff_task._set_internal_data(event_value=moved(timer.due_at).isoformat())
        ctx.services.workflows.save(instance, workflow)
    for timer in timers:
        timer.due_at, timer.lease_owner, timer.lease_until = moved(timer.due_at), None, None
    if task.due_at is not None:
        task.due_at = moved(task.due_at)
    if task.warn_at is not None:
        task.warn_at = moved(task.warn_at)


class PauseClock:
    name = "pause_clock"

    def __init__(self, task_id: int, user: str, reason: str) -> None:
        if not reason.strip():
            raise ValidationError("a pause needs a reason (e.g. waiting for the applicant)")
        self.task_id, self.user, self.reason = task_id, user, reason.strip()

    def __call__(self, ctx: CommandContext) -> Task:
        task, instance = lock_task(ctx, self.task_id)
        if task.assignee != self.user:
            raise Forbidden(f"only the assignee of task {task.id} can pause its clock")
        if task.paused_at is not None:
            raise Conflict(f"the clock of task {task.id} is already paused")
        task.paused_at = ctx.now
        for timer in _clock_timers(ctx, task, ("waiting",)):
            timer.status, timer.lease_owner, timer.lease_until = "paused", None, None
        audit.append(ctx, "pause_clock", instance=instance, task_id=task.id,
                     private={"reason": self.reason})  # fmt: skip
        return task


class ResumeClock:
    name = "resume_clock"

    def __init__(self, task_id: int, user: str) -> None:
        self.task_id, self.user = task_id, user

    def __call__(self, ctx: CommandContext) -> Task:
        task, instance = lock_task(ctx, self.task_id)
        if task.assignee != self.user:
            raise Forbidden(f"only the assignee of task {task.id} can resume its clock")
        if task.paused_at is None:
            raise Conflict(f"the clock of task {task.id} is not paused")
        calendar = ctx.calendar(task.calendar_name)
        paused = sla.paused_for(ctx, task)
        timers = _clock_timers(ctx, task, ("paused",))
        _shift(ctx, instance, task, timers, calendar, paused)
        for timer in timers:
            timer.status = "waiting"
        task.paused_at = None
        task.paused_seconds += int(paused.total_seconds())
        audit.append(ctx, "resume_clock", instance=instance, task_id=task.id,
                     payload={"paused_working_seconds": int(paused.total_seconds())})  # fmt: skip
        return task


class RequestExtension:
    name = "request_extension"

    def __init__(self, task_id: int, user: str, amount: str, reason: str) -> None:
        fields = {}  # every bad field at once, as a form shows them
        try:
            if amount.strip():
                parse_calendar_duration(amount, positive=True)
            else:
                fields["amount"] = "how long, e.g. 2 working days"
        except CalendarError as exc:
            fields["amount"] = f"extension: {exc}"
        if not reason.strip():
            fields["reason"] = "an extension needs a reason"
        if fields:
            raise ValidationError("; ".join(fields.values()), details={"fields": fields})
        self.task_id, self.user, self.amount, self.reason = task_id, user, amount, reason.strip()

    def __call__(self, ctx: CommandContext) -> SlaExtension:
        task, instance = lock_task(ctx, self.task_id)
        if task.assignee != self.user:
            raise Forbidden(f"only the assignee of task {task.id} can ask for an extension")
        if task.due_at is None:
            raise Conflict(f"task {task.id} has no time limit to extend")
        pending = ctx.session.scalar(
            select(SlaExtension.id).where(
                SlaExtension.task_id == task.id, SlaExtension.status == "pending"
            )
        )
        if pending is not None:
            raise Conflict(f"extension {pending} of task {task.id} is still awaiting a decision")
        request = SlaExtension(
            task_id=task.id, requested_by=self.user, requested_at=ctx.now, amount=self.amount,
            reason=self.reason, status="pending",
        )  # fmt: skip
        ctx.session.add(request)
        ctx.session.flush()
        audit.append(ctx, "request_extension", instance=instance, task_id=task.id, payload={
            "extension_id": request.id, "amount": self.amount,
        }, private={"reason": self.reason})  # fmt: skip
        return request


class DecideExtension:
    """The requester's superior approves or refuses; approval moves the clock."""

    name = "decide_extension"

    def __init__(self, extension_id: int, user: str, approve: bool, note: str = "") -> None:
        self.extension_id, self.user, self.approve, self.note = extension_id, user, approve, note

    def __call__(self, ctx: CommandContext) -> SlaExtension:
        request, task, instance = approvals.decide(
            ctx, SlaExtension, "extension", self.extension_id, self.user, self.approve, self.note
        )
        payload = {"extension_id": request.id, "approved": self.approve}
        if self.approve and task.state == "open" and task.due_at is not None:
            calendar = ctx.calendar(task.calendar_name)
            new_due = parse_calendar_duration(request.amount).add_to(calendar, task.due_at)
            amount = calendar.working_time_between(task.due_at, new_due)
            timers = _clock_timers(ctx, task, ("waiting", "paused"))
            if not any(t.kind == "sla" and t.purpose == "deadline" for t in timers):
                _reopen_deadline(ctx, instance, task)  # it had fired: the task is late
                timers = _clock_timers(ctx, task, ("waiting", "paused"))
            _shift(ctx, instance, task, timers, calendar, amount)
            task.extended_seconds += int(amount.total_seconds())
            chase.close_for(ctx, instance, task, f"extended by {request.amount}")
            payload["due_at"] = task.due_at.isoformat()
        audit.append(ctx, "decide_extension", instance=instance, task_id=task.id, payload=payload,
                     private={"note": self.note})  # fmt: skip
        return request


def _reopen_deadline(ctx: CommandContext, instance: ProcessInstance, task: Task) -> None:
    assert task.due_at is not None
    ctx.session.add(Timer(
        instance=instance, task=task, spiff_task_id=task.spiff_task_id,
        element_id=task.element_id, name=f"deadline: {task.name}", kind="sla",
        purpose="deadline", interrupting=False, due_at=task.due_at,
        status="paused" if task.paused_at else "waiting", created_at=ctx.now,
    ))  # fmt: skip
    ctx.session.flush()


def _reresolve_standard(ctx: CommandContext, instance: ProcessInstance, task: Task) -> None:
    """After a policy change: the standard that would have applied when the task opened."""
    meta = definition_of(ctx, instance).meta
    diagram = meta["user_tasks"].get(task.element_id, {}).get("sla")
    chosen = standards.in_force(
        ctx, meta.get("process_key", ""), task.element_id, instance.data, diagram,
        at=task.created_at,
    )  # fmt: skip
    if chosen is not None:
        task.sla_limit, task.sla_warnings = chosen.sla["limit"], chosen.sla["warnings"]
        task.sla_policy, task.sla_on_deadline = chosen.label, chosen.sla.get("on_deadline")


class RecomputeClocks:
    """Re-plan every open task's pending instants after a calendar or policy change.

    An instant is a function of the task's start, the standard in force at that start
    (limit, warnings), the working time it was paused and extended by, and its calendar;
    recomputing from those, with today's calendars and standards, gives what the clock
    would have been all along. Warnings that already fired stay fired.
    """

    name = "recompute_clocks"

    def __init__(self, calendar: str | None = None, dry_run: bool = False) -> None:
        self.calendar, self.dry_run = calendar, dry_run

    def __call__(self, ctx: CommandContext) -> list[dict[str, Any]]:
        """The moved clocks: task, old and new deadline. A dry run changes nothing."""
        query = select(Task).where(Task.state == "open", Task.sla_limit.is_not(None))
        if self.calendar:
            query = query.where(Task.calendar_name == self.calendar)
        moved = []
        for task in list(ctx.session.scalars(query)):
            before = task.due_at
            if self._replan(ctx, task):
                moved.append({"task_id": task.id, "instance_id": task.instance_id,
                              "from": before, "to": task.due_at})  # fmt: skip
        if self.dry_run:
            raise RollBack(moved)
        if moved:
            audit.append(ctx, "recompute_clocks", payload={"calendar": self.calendar,
                                                             "moved": len(moved)})  # fmt: skip
        return moved

    def _replan(self, ctx: CommandContext, task: Task) -> int:
        instance = lock_instance(ctx, task.instance_id)
        if task.kind == "user":
            _reresolve_standard(ctx, instance, task)
        calendar = ctx.calendar(task.calendar_name)
        shift = timedelta(seconds=task.paused_seconds + task.extended_seconds)
        plan = {"limit": task.sla_limit, "warnings": task.sla_warnings or []}
        due, warnings = sla.plan(calendar, task.created_at, plan)
        due, warnings = (
            calendar.add_working_time(due, shift) if shift else due,
            [calendar.add_working_time(w, shift) if shift else w for w in warnings],
        )
        timers = ctx.session.scalars(
            select(Timer).where(Timer.task_id == task.id).order_by(Timer.due_at, Timer.id)
        ).all()
        done = sum(
            1 for t in timers if t.purpose == "warning" and t.status in ("fired", "coalesced")
        )
        pending = [t for t in timers if t.status in ("waiting", "paused")]
        targets = iter(warnings[done:])
        changed = 0
        for timer in pending:
            target = due if timer.purpose == "deadline" else next(targets, timer.due_at)
            if timer.due_at != target:
                timer.due_at, timer.lease_owner, timer.lease_until = target, None, None
                changed += 1
        task.sla_note = "; ".join(calendar.warnings_for(task.created_at, due)) or None
        if (task.due_at, task.warn_at) != (due, warnings[0] if warnings else None):
            task.due_at, task.warn_at = due, warnings[0] if warnings else None
            changed += 1
        if changed:
            audit.append(ctx, "recompute_clock", instance=instance, task_id=task.id,
                         payload={"due_at": due.isoformat()})  # fmt: skip
        return 1 if changed else 0
