"""SLA clocks: limits, warnings, deadlines, pause (补正) and extension (延期).

A designer states a limit on a user task (or the whole process) with CaseClock
attributes::

    <bpmn:userTask id="Task_review" caseclock:limit="3 working days"
                   caseclock:warnings="2/3; 1 working day before"
                   caseclock:onDeadline="notify" caseclock:calendar="default">

When the task opens, the engine computes the deadline and warning instants in the
task's working-time calendar and schedules them as timers of kind ``sla`` (they fire
CaseClock actions — notices, breach records — not BPMN events; a designer who wants
an interrupting path draws a boundary timer). Pausing stops the clock: on resume every
pending instant moves later by exactly the working time spent paused. An approved
extension moves the deadline by the extension and the warnings by the same working
time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select, update

from . import audit, notices, org
from .calendar import CalendarError, Duration, WorkingCalendar, describe_working_time
from .calendar import parse_duration as parse_calendar_duration
from .executor import CommandContext
from .store import Person, ProcessInstance, Task, Timer

CASECLOCK_NS = "http://caseclock.dev/schema/1.0"
DEADLINE_ACTIONS = ("notify", "chase")
_FRACTION = re.compile(r"^(\d+)\s*/\s*(\d+)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")
_BEFORE = re.compile(r"^(.+?)\s*(?:before|前)$", re.IGNORECASE)


# --- the diagram's SLA attributes ------------------------------------------------------------


def read_attributes(el: Any) -> dict[str, Any] | None:
    """The SLA a task or process element declares, or None. Raises ValueError if bad."""
    limit = el.get(f"{{{CASECLOCK_NS}}}limit")
    if not limit:
        return None
    parse_calendar_duration(limit)
    warnings = [w.strip() for w in re.split(r"[;；]", el.get(f"{{{CASECLOCK_NS}}}warnings") or "")]
    warnings = [w for w in warnings if w]
    for warning in warnings:
        _parse_warning(warning)
    action = el.get(f"{{{CASECLOCK_NS}}}onDeadline") or "notify"
    if action not in DEADLINE_ACTIONS:
        raise ValueError(f"onDeadline {action!r}: use one of {', '.join(DEADLINE_ACTIONS)}")
    return {
        "limit": limit,
        "warnings": warnings,
        "on_deadline": action,
        "calendar": el.get(f"{{{CASECLOCK_NS}}}calendar"),
    }


@dataclass(frozen=True)
class _After:
    """A warning a fixed time after the clock started (as a boundary timer would be)."""

    amount: Duration


def check_warning(text: str) -> None:
    """Raise ValueError if ``text`` is not a warning CaseClock can place."""
    _parse_warning(text)


def _parse_warning(text: str) -> Fraction | Duration | _After:
    """``2/3`` or ``67%`` of the limit; ``1 working day before`` the deadline; or a plain
    duration, ``4 working hours``, after the start."""
    if match := _FRACTION.match(text):
        value = Fraction(int(match[1]), int(match[2]))
    elif match := _PERCENT.match(text):
        value = Fraction(match[1]) / 100
    else:
        before = _BEFORE.match(text)
        try:
            amount = parse_calendar_duration(before[1] if before else text)
        except CalendarError as exc:
            raise ValueError(
                f"warning {text!r}: write a fraction of the limit (2/3, 75%), a time before "
                f"the deadline (1 working day before) or after the start (4 working hours): "
                f"{exc}"
            ) from None
        return amount if before else _After(amount)
    if not 0 < value < 1:
        raise ValueError(f"warning {text!r} must lie strictly between 0 and the limit")
    return value


def plan(
    calendar: WorkingCalendar, start: datetime, sla: dict[str, Any]
) -> tuple[datetime, list[datetime]]:
    """The deadline and the warning instants of a clock started at ``start``.

    Warnings are walked forward from the start, so "1 working day before" a deadline at
    the end of Saturday is the end of Friday, not the start of Saturday.
    """
    due, placed = _placed(calendar, start, sla)
    return due, sorted(p for p in placed.values() if p is not None and start <= p < due)


def misplaced_warnings(
    calendar: WorkingCalendar, start: datetime, sla: dict[str, Any]
) -> list[str]:
    """The warnings a clock started at ``start`` would never give: before its start or at
    or after its deadline (``5 working days`` after the start of a 2-day limit)."""
    due, placed = _placed(calendar, start, sla)
    return [text for text, p in placed.items() if p is None or not start <= p < due]


def never_given(text: str, limit: str) -> str:
    """What is wrong with a warning :func:`misplaced_warnings` found."""
    return (
        f"warning {text!r} would come at or after the deadline of a {limit} limit, "
        "or before the clock starts"
    )


def _placed(
    calendar: WorkingCalendar, start: datetime, sla: dict[str, Any]
) -> tuple[datetime, dict[str, datetime | None]]:
    """The deadline, and each warning's instant (None: before the start)."""
    due = parse_calendar_duration(sla["limit"]).add_to(calendar, start)
    total = calendar.working_time_between(start, due)
    placed: dict[str, datetime | None] = {}
    for text in sla["warnings"]:
        warning = _parse_warning(text)
        if isinstance(warning, _After):
            placed[text] = warning.amount.add_to(calendar, start)
            continue
        if isinstance(warning, Fraction):
            offset = timedelta(microseconds=int(total / timedelta(microseconds=1) * warning))
        elif warning.unit in _CALENDAR_UNITS:
            placed[text] = due - _CALENDAR_UNITS[warning.unit] * float(warning.amount)
            continue
        else:
            offset = total - _working_amount(calendar, warning)
        placed[text] = calendar.add_working_time(start, offset) if offset > timedelta(0) else None
    return due, placed


_CALENDAR_UNITS = {"days": timedelta(days=1), "hours": timedelta(hours=1),
                   "minutes": timedelta(minutes=1)}  # fmt: skip


def _working_amount(calendar: WorkingCalendar, amount: Duration) -> timedelta:
    unit = {
        "working_days": calendar.day_length,
        "working_hours": timedelta(hours=1),
        "working_minutes": timedelta(minutes=1),
    }[amount.unit]
    return unit * float(amount.amount)


# --- starting and stopping clocks -------------------------------------------------------------


@dataclass(frozen=True)
class TaskClock:
    """A task's clock as planned when it opens: its SLA columns and its timers' due times."""

    columns: dict[str, Any]
    warnings: list[datetime]
    due: datetime


def plan_task_clock(
    ctx: CommandContext, sla: dict[str, Any], calendar: str | None, policy: str
) -> TaskClock:
    name = sla.get("calendar") or calendar or "default"
    calendar_used = ctx.calendar(name)
    due, warnings = plan(calendar_used, ctx.now, sla)
    columns = {
        "sla_note": "; ".join(calendar_used.warnings_for(ctx.now, due)) or None,
        "sla_limit": sla["limit"],
        "sla_warnings": sla["warnings"],
        "sla_policy": policy,
        "sla_on_deadline": sla.get("on_deadline", "notify"),
        "calendar_name": name,
        "due_at": due,
        "warn_at": warnings[0] if warnings else None,
    }
    return TaskClock(columns, warnings, due)


def schedule_task_clock(
    ctx: CommandContext, instance: ProcessInstance, task: Task, clock: TaskClock
) -> None:
    for at in clock.warnings:
        _schedule(ctx, instance, task, "warning", at)
    _schedule(ctx, instance, task, "deadline", clock.due)


def start_task_clock(
    ctx: CommandContext,
    instance: ProcessInstance,
    task: Task,
    sla: dict[str, Any],
    calendar: str | None,
    policy: str,
) -> None:
    clock = plan_task_clock(ctx, sla, calendar, policy)
    for name, value in clock.columns.items():
        setattr(task, name, value)
    schedule_task_clock(ctx, instance, task, clock)


def start_case_clock(
    ctx: CommandContext, instance: ProcessInstance, sla: dict[str, Any], calendar: str | None
) -> None:
    due, warnings = plan(ctx.calendar(sla.get("calendar") or calendar), ctx.now, sla)
    instance.due_at = due
    for at in warnings:
        _schedule(ctx, instance, None, "warning", at)
    _schedule(ctx, instance, None, "deadline", due)


def start_scope_clock(
    ctx: CommandContext,
    instance: ProcessInstance,
    scope: tuple[str, str],
    sla: dict[str, Any],
    calendar: str | None,
) -> None:
    """A subprocess (or call activity) with a limit started: ``scope`` is its SpiffWorkflow
    task id and element id, which identify its clock among the task-less ones."""
    due, warnings = plan(ctx.calendar(sla.get("calendar") or calendar), ctx.now, sla)
    for at in warnings:
        _schedule(ctx, instance, None, "warning", at, scope)
    _schedule(ctx, instance, None, "deadline", due, scope)


def _schedule(
    ctx: CommandContext,
    instance: ProcessInstance,
    task: Task | None,
    purpose: str,
    at: datetime,
    scope: tuple[str, str] = ("", "case"),
) -> None:
    ctx.session.add(Timer(
        instance=instance,
        task=task,
        spiff_task_id=task.spiff_task_id if task is not None else scope[0],
        element_id=task.element_id if task is not None else scope[1],
        name=f"{purpose}: {task.name if task is not None else scope[1]}",
        kind="sla",
        purpose=purpose,
        interrupting=False,
        due_at=at,
        status="waiting",
        created_at=ctx.now,
    ))  # fmt: skip


def stop_task_clock(ctx: CommandContext, task: Task) -> None:
    """The task closed: its pending warnings and deadline will never matter, and a pause
    of its clock ends.

    A task without a due time never had a clock (every SLA timer of a task belongs to the
    clock that set its ``due_at``), so there is nothing to cancel and no query is made.
    """
    if task.paused_at is not None:
        _end_pause(ctx, task)
    if task.due_at is not None:
        _cancel(ctx, Timer.task_id == task.id)


def paused_for(ctx: CommandContext, task: Task) -> timedelta:
    """The working time the paused ``task``'s clock has stood still, until now."""
    calendar = ctx.calendar(task.calendar_name)
    return max(calendar.working_time_between(task.paused_at, ctx.now), timedelta(0))


def _end_pause(ctx: CommandContext, task: Task) -> None:
    """A task closed while its clock was paused (补正 and the work done meanwhile): the
    pause ends with it, and its due time moves by the pause, as resuming would have moved
    it, so the task is judged met or late, and charged, on the time its clock ran."""
    paused = paused_for(ctx, task)
    calendar = ctx.calendar(task.calendar_name)
    if paused:
        task.due_at = calendar.add_working_time(task.due_at, paused) if task.due_at else None
        task.warn_at = calendar.add_working_time(task.warn_at, paused) if task.warn_at else None
    task.paused_at = None
    task.paused_seconds += int(paused.total_seconds())


def stop_scope_clock(ctx: CommandContext, instance: ProcessInstance, spiff_task_id: str) -> None:
    _cancel(ctx, *_taskless(instance), Timer.spiff_task_id == spiff_task_id)


def stop_case_clock(ctx: CommandContext, instance: ProcessInstance, scoped: bool) -> None:
    """The case ended: its own clock and any subprocess clocks stop.

    ``scoped``: its definition gives subprocesses a limit. A case with neither that nor
    a due time of its own never had a task-less clock, so no query is made.
    """
    if instance.due_at is not None or scoped:
        _cancel(ctx, *_taskless(instance))


def _taskless(instance: ProcessInstance) -> tuple[Any, ...]:
    return (Timer.instance_id == instance.id, Timer.kind == "sla", Timer.task_id.is_(None))


def _cancel(ctx: CommandContext, *where: Any) -> None:
    ctx.session.execute(
        update(Timer)
        .where(*where, Timer.status.in_(("waiting", "paused")))
        .values(status="cancelled", lease_owner=None, lease_until=None)
    )


# --- firing ---------------------------------------------------------------------------------


def fire(ctx: CommandContext, instance: ProcessInstance, timer: Timer) -> bool:
    """A warning or deadline came due: record it, notify, or coalesce a stale warning."""
    task = ctx.session.get(Task, timer.task_id) if timer.task_id else None
    if task is not None and task.state != "open":
        timer.status = "cancelled"
        return False
    if timer.purpose == "warning" and _deadline_passed(ctx, timer):
        # After downtime: the deadline is due too, so this warning says nothing new.
        timer.status = "coalesced"
        payload = {"due_at": timer.due_at.isoformat()}
        audit.append(
            ctx, "sla_warning_coalesced", instance=instance, task_id=timer.task_id, payload=payload
        )
        return True
    timer.status, timer.fired_at = "fired", ctx.now
    if task is not None and task.kind == "chase":
        from . import chase  # chase builds on this module

        chase.climb(ctx, instance, task)
        return True
    kind = "sla_warning" if timer.purpose == "warning" else "sla_breach"
    holders = [task] if task is not None else _open_tasks(ctx, instance)
    # Reminders stop at a cap per task (a breach is always told).
    notify = (
        kind == "sla_breach" or _reminders_sent(ctx, timer) < ctx.services.settings.max_reminders
    )
    recorded = []
    for holder in holders:
        person, absent = ctx.accountable(holder)
        superior = org.superior_of(ctx.session, person) if person else None
        recorded.append({
            "task_id": holder.id, "task": holder.name,
            "responsible": person.key if person else None,
            "on_behalf_of": absent.key if absent else None,
            "department_id": person.department_id if person else None,
            "superior": superior.key if superior else None,
        })  # fmt: skip
        if person is not None and notify:
            _notify(ctx, kind, instance, holder, person, timer)
    scope = "task" if task is not None else ("subprocess" if timer.spiff_task_id else "case")
    audit.append(ctx, kind, instance=instance, task_id=timer.task_id, payload={
        "scope": scope,
        "element_id": timer.element_id,
        "due_at": timer.due_at.isoformat(),
        "late_seconds": round((ctx.now - timer.due_at).total_seconds(), 3),
        "holders": recorded,
        "notified": notify,
    })  # fmt: skip
    if kind == "sla_breach":
        from . import ledger  # the ledger builds on this module

        if task is not None:
            ledger.record_breach(ctx, instance, task)
        else:
            ledger.record_scope_breach(ctx, instance, scope, timer, recorded)
    if kind == "sla_breach" and task is not None and task.sla_on_deadline == "chase":
        from . import chase

        chase.start(ctx, instance, task)
    return True


def _reminders_sent(ctx: CommandContext, warning: Timer) -> int:
    same_clock = _same_clock(warning)
    return ctx.session.scalar(
        select(func.count()).select_from(Timer).where(
            Timer.instance_id == warning.instance_id, Timer.kind == "sla", same_clock,
            Timer.purpose == "warning", Timer.status == "fired", Timer.id != warning.id,
        )
    ) or 0  # fmt: skip


def _deadline_passed(ctx: CommandContext, warning: Timer) -> bool:
    same_clock = _same_clock(warning)
    return bool(ctx.session.scalar(
        select(Timer.id).where(
            Timer.instance_id == warning.instance_id, Timer.kind == "sla", same_clock,
            Timer.purpose == "deadline", Timer.due_at <= ctx.now,
        ).limit(1)
    ))  # fmt: skip


def _same_clock(timer: Timer) -> Any:
    """A task's clock, a subprocess's clock (by its SpiffWorkflow task id) or the case's."""
    if timer.task_id:
        return Timer.task_id == timer.task_id
    return Timer.task_id.is_(None) & (Timer.spiff_task_id == timer.spiff_task_id)


def _open_tasks(ctx: CommandContext, instance: ProcessInstance) -> list[Task]:
    return list(ctx.session.scalars(
        select(Task).where(Task.instance_id == instance.id, Task.state == "open")
    ))  # fmt: skip


def _notify(
    ctx: CommandContext,
    kind: str,
    instance: ProcessInstance,
    task: Task,
    person: Person,
    timer: Timer,
) -> None:
    calendar = ctx.calendar(task.calendar_name)
    due = timer.due_at if timer.purpose == "deadline" else task.due_at or timer.due_at
    left = calendar.working_time_between(ctx.now, due)
    notice = notices.render(ctx, kind, {
        "person": person.name, "task": task.name, "case": instance.business_key or instance.id,
        "due": calendar.to_local(due).strftime("%Y-%m-%d %H:%M"),
        "left": describe_working_time(left, calendar.day_length),
    }, person.locale)  # fmt: skip
    notices.send(
        ctx, person, notice, f"sla:{timer.id}:{{channel}}:{person.key}",
        {"kind": kind, "task_id": task.id, "person": person.key}, instance.id,
        urgent=kind == "sla_breach", digestible=kind == "sla_warning",
    )  # fmt: skip


# --- the traffic light --------------------------------------------------------------------


def light(task: Task, now: datetime) -> str:
    """green / yellow (past the first warning) / red (past the deadline) / paused;
    met / violated once closed; "none" without a limit."""
    if task.due_at is None:
        return "none"
    if task.state != "open":
        return "met" if task.ended_at is not None and task.ended_at <= task.due_at else "violated"
    if task.paused_at is not None:
        return "paused"
    if now >= task.due_at:
        return "red"
    return "yellow" if task.warn_at is not None and now >= task.warn_at else "green"


def view(task: Task, now: datetime, calendar: WorkingCalendar | None) -> dict[str, Any] | None:
    if task.due_at is None:
        return None
    at = task.paused_at or (now if task.state == "open" else task.ended_at or now)
    left = calendar.working_time_between(at, task.due_at) if calendar else None
    return {
        "light": light(task, now),
        "limit": task.sla_limit,
        "policy": task.sla_policy,
        "calendar": task.calendar_name,
        "due_at": calendar.to_local(task.due_at).isoformat() if calendar else None,
        "warn_at": calendar.to_local(task.warn_at).isoformat()
        if calendar and task.warn_at
        else None,
        "working_time_left": describe_working_time(left, calendar.day_length)
        if left is not None
        else None,
        "working_seconds_left": int(left.total_seconds()) if left is not None else None,
        "paused_seconds": task.paused_seconds,
        "note": task.sla_note,
    }
