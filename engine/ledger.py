"""The accountability ledger (追责): what an auditor needs about every breach.

Each entry is an audit event in the case's hash chain, so it is as immutable and as
verifiable as the rest of the log (:mod:`engine.audit_verify`). At the breach:
``ledger_breach`` — the step, its deadline, the standard and calendar in force, the
responsible person, their department and superior, who held the task from when to when
(in working time), pauses and extensions. When the late task finally completes:
``ledger_final`` with the final lateness in working time. Nothing is ever edited.
Persons appear by their keys (ids), never by name or contact data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from . import approvals, audit, org
from .calendar import WorkingCalendar
from .errors import Conflict, Forbidden, NotFound, ValidationError
from .executor import CommandContext
from .store import AuditEvent, ProcessInstance, Task, Timer
from .store.models import Exemption, SlaExtension

HOLDER_COMMANDS = ("claim", "unclaim", "delegate", "resolve", "reassign")


def holder_timeline(
    ctx: CommandContext, task: Task, calendar: WorkingCalendar, until: datetime
) -> list[dict[str, Any]]:
    """Who held ``task`` from when to when; ``None`` = in the group pool."""
    changes = ctx.session.execute(
        select(AuditEvent.at, AuditEvent.command, AuditEvent.payload)
        .where(AuditEvent.task_id == task.id, AuditEvent.command.in_(HOLDER_COMMANDS))
        .order_by(AuditEvent.chain_seq)
    ).all()
    first = task.assignee if not changes else _before_first(changes[0])
    spans, holder, since = [], first, task.created_at
    for at, command, payload in changes:
        after = _after(command, payload, holder)
        if after != holder:
            spans.append(_span(calendar, holder, since, at))
            holder, since = after, at
    spans.append(_span(calendar, holder, since, until))
    return [s for s in spans if s["working_seconds"] > 0 or s["to"] != s["from"]]


def _before_first(change: Any) -> str | None:
    _, command, payload = change
    return {"claim": None, "unclaim": payload.get("user"), "delegate": payload.get("from"),
            "reassign": payload.get("from")}.get(command)  # fmt: skip


def _after(command: str, payload: dict[str, Any], holder: str | None) -> str | None:
    if command == "claim":
        return payload.get("user")
    if command == "unclaim":
        return None
    if command == "delegate":
        return payload.get("to")
    if command == "reassign":
        return payload.get("to")
    return holder  # resolve: back to the owner, who is recorded by the next change


def _span(
    calendar: WorkingCalendar, holder: str | None, start: datetime, end: datetime
) -> dict[str, Any]:
    return {
        "holder": holder,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "working_seconds": int(max(calendar.working_time_between(start, end).total_seconds(), 0)),
    }


def record_breach(ctx: CommandContext, instance: ProcessInstance, task: Task) -> None:
    calendar = ctx.calendar(task.calendar_name)
    person, absent = ctx.accountable(task)
    superior = org.superior_of(ctx.session, person) if person else None
    extensions = ctx.session.scalars(
        select(SlaExtension).where(SlaExtension.task_id == task.id).order_by(SlaExtension.id)
    ).all()
    audit.append(ctx, "ledger_breach", instance=instance, task_id=task.id, payload={
        "step": task.element_id, "step_name": task.name,
        "deadline": task.due_at.isoformat() if task.due_at else None,
        "breached_at": ctx.now.isoformat(),
        "limit": task.sla_limit, "standard": task.sla_policy, "calendar": task.calendar_name,
        "responsible": person.key if person else None,
        "on_behalf_of": absent.key if absent else None,
        "department_id": person.department_id if person else None,
        "superior": superior.key if superior else None,
        "holders": holder_timeline(ctx, task, calendar, ctx.now),
        "paused_working_seconds": task.paused_seconds,
        "extensions": [{"id": e.id, "amount": e.amount, "status": e.status,
                        "requested_by": e.requested_by, "decided_by": e.decided_by}
                       for e in extensions],
    })  # fmt: skip


def record_scope_breach(
    ctx: CommandContext,
    instance: ProcessInstance,
    scope: str,
    timer: Timer,
    holders: list[dict[str, Any]],
) -> None:
    """A case (整体时限) or subprocess passed its limit: everyone holding one of its open
    steps at that moment is recorded as responsible, each with department and superior."""
    audit.append(ctx, "ledger_scope_breach", instance=instance, payload={
        "scope": scope, "element_id": timer.element_id,
        "deadline": timer.due_at.isoformat(), "breached_at": ctx.now.isoformat(),
        "responsible": holders,
    })  # fmt: skip


def record_case_final(ctx: CommandContext, instance: ProcessInstance, calendar: str | None) -> None:
    """A case that passed its overall limit has ended: how late, in working time."""
    if instance.due_at is None or instance.ended_at is None or instance.ended_at <= instance.due_at:
        return
    late = ctx.calendar(calendar).working_time_between(instance.due_at, instance.ended_at)
    audit.append(ctx, "ledger_case_final", instance=instance, payload={
        "deadline": instance.due_at.isoformat(), "ended_at": instance.ended_at.isoformat(),
        "calendar": calendar or "default", "late_working_seconds": int(late.total_seconds()),
    })  # fmt: skip


def record_final(ctx: CommandContext, instance: ProcessInstance, task: Task) -> None:
    """A task that breached has completed: how late it was, in working time."""
    if task.due_at is None or task.ended_at is None or task.ended_at <= task.due_at:
        return
    calendar = ctx.calendar(task.calendar_name)
    late = calendar.working_time_between(task.due_at, task.ended_at)
    audit.append(ctx, "ledger_final", instance=instance, task_id=task.id, payload={
        "step": task.element_id, "deadline": task.due_at.isoformat(),
        "completed_at": task.ended_at.isoformat(), "completed_by": task.completed_by,
        "late_working_seconds": int(late.total_seconds()),
        "holders": holder_timeline(ctx, task, calendar, task.ended_at),
    })  # fmt: skip


def _breached(ctx: CommandContext, task: Task) -> bool:
    return bool(ctx.session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.task_id == task.id, AuditEvent.command == "ledger_breach"
        ).limit(1)
    ))  # fmt: skip


class RequestExemption:
    """The responsible person (or their superior) asks to excuse a breach, with a reason."""

    name = "request_exemption"

    def __init__(self, task_id: int, user: str, reason: str) -> None:
        if not reason.strip():
            raise ValidationError("an exemption needs a documented reason")
        self.task_id, self.user, self.reason = task_id, user, reason.strip()

    def __call__(self, ctx: CommandContext) -> Exemption:
        task = ctx.session.get(Task, self.task_id)
        if task is None:
            raise NotFound(f"no task {self.task_id}")
        instance = _lock(ctx, task)
        if not _breached(ctx, task):
            raise Conflict(f"task {task.id} has not breached its deadline; nothing to exempt")
        requester = ctx.org().person_id(self.user)
        allowed = set()
        for responsible in ctx.accountable(task):
            if responsible is not None:
                allowed.update({responsible.id, responsible.superior_id} - {None})
        if requester not in allowed:
            raise Forbidden(f"only the responsible person or their superior can ask to exempt "
                            f"task {task.id}")  # fmt: skip
        request = Exemption(task_id=task.id, requested_by=self.user, requested_at=ctx.now,
                            reason=self.reason, status="pending")  # fmt: skip
        ctx.session.add(request)
        ctx.session.flush()
        audit.append(ctx, "ledger_exemption_requested", instance=instance, task_id=task.id,
                     payload={"exemption_id": request.id},
                     private={"reason": self.reason})  # fmt: skip
        return request


class DecideExemption:
    """The requester's superior decides; the outcome is appended, never overwritten."""

    name = "decide_exemption"

    def __init__(self, exemption_id: int, user: str, approve: bool, note: str = "") -> None:
        self.exemption_id, self.user, self.approve, self.note = exemption_id, user, approve, note

    def __call__(self, ctx: CommandContext) -> Exemption:
        request, task, instance = approvals.decide(
            ctx, Exemption, "exemption", self.exemption_id, self.user, self.approve, self.note
        )
        audit.append(ctx, "ledger_exemption_decided", instance=instance, task_id=task.id,
                     payload={"exemption_id": request.id, "approved": self.approve},
                     private={"note": self.note})  # fmt: skip
        return request


def _lock(ctx: CommandContext, task: Task) -> ProcessInstance:
    from .runtime import lock_instance  # runtime imports this module

    return lock_instance(ctx, task.instance_id)
