"""What the staff pages and their API show, as plain dicts, read from projections only.

Built on :mod:`engine.queries` (task and case views with SLA clocks), adding what a
page needs beyond them: filters and search, who may act, the form to fill, and the
story of a deadline (limit, standard, calendar, pauses, extensions).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine import queries, sla
from engine.accounts import Principal
from engine.calendar import WorkingCalendar
from engine.calendars import load_calendar
from engine.org import OrgSnapshot
from engine.store import (
    AuditEvent,
    Definition,
    OutboxMessage,
    Person,
    ProcessInstance,
    Task,
    TaskCandidateGroup,
)
from engine.store.account_tables import NoticeRead
from engine.store.models import AuditPrivate, SlaExtension

from .access import groups_of

FILTERS = ("all", "mine", "group")
INBOX_LIMIT = 200
CLOCK_COMMANDS = ("pause_clock", "resume_clock", "request_extension", "decide_extension")


class _Calendars:
    """Calendars loaded once per request, however many tasks share them."""

    def __init__(self, session: Session) -> None:
        self.session, self.loaded = session, dict[str, WorkingCalendar]()

    def get(self, name: str | None) -> WorkingCalendar:
        key = name or "default"
        if key not in self.loaded:
            self.loaded[key] = load_calendar(self.session, key)
        return self.loaded[key]


def inbox(
    session: Session,
    user: Principal,
    org: OrgSnapshot,
    tz: tzinfo,
    now: datetime,
    which: str = "all",
    search: str = "",
) -> list[dict[str, Any]]:
    """Open user tasks: ``mine`` (assigned to me), ``group`` (unclaimed, offered to one of
    my groups) or ``all`` of both; soonest deadline first; ``search`` matches the business
    key or the step name."""
    groups = groups_of(org, user)
    mine = Task.assignee == user.key
    offered = Task.assignee.is_(None) & Task.id.in_(
        select(TaskCandidateGroup.task_id).where(TaskCandidateGroup.group_key.in_(groups))
    )
    scope = {"mine": mine, "group": offered}.get(which, or_(mine, offered))
    query = (
        select(Task, ProcessInstance.business_key)
        .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
        .where(Task.state == "open", Task.kind == "user", scope)
    )
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(ProcessInstance.business_key).like(pattern),
                func.lower(Task.name).like(pattern),
            )
        )
    query = query.order_by(Task.due_at.is_(None), Task.due_at, Task.id).limit(INBOX_LIMIT)
    calendars = _Calendars(session)
    return [
        _task_row(session, task, business_key, user, groups, tz, now, calendars)
        for task, business_key in session.execute(query)
    ]


def _task_row(
    session: Session,
    task: Task,
    business_key: str | None,
    user: Principal,
    groups: frozenset[str],
    tz: tzinfo,
    now: datetime,
    calendars: _Calendars,
) -> dict[str, Any]:
    view = queries.task_view(task, tz)
    view["business_key"] = business_key
    view["sla"] = explain_clock(session, task, tz, now, calendars, history=False)
    view["may"] = allowed_actions(task, user, groups)
    return view


def allowed_actions(task: Task, user: Principal, groups: frozenset[str]) -> list[str]:
    """What the page offers (the engine re-checks each one when it runs)."""
    if task.state != "open" or task.kind != "user":
        return []
    candidate = not task.candidate_groups or bool(set(task.candidate_groups) & groups)
    if task.assignee is None:
        return ["claim", "complete"] if candidate else []
    if task.assignee != user.key:
        return []
    if task.delegation_state == "pending":
        return ["resolve"]  # the delegate hands it back to its owner, who completes it
    actions = ["unclaim", "delegate", "complete"]
    if task.due_at is not None:
        actions += ["resume"] if task.paused_at is not None else ["pause"]
        actions.append("extend")
    return actions


def explain_clock(
    session: Session,
    task: Task,
    tz: tzinfo,
    now: datetime,
    calendars: _Calendars | None = None,
    history: bool = True,
) -> dict[str, Any] | None:
    """The SLA clock with everything that explains its deadline."""
    if task.due_at is None:
        return None
    calendar = (calendars or _Calendars(session)).get(task.calendar_name)
    view = sla.view(task, now, calendar) or {}
    view.update(
        day_seconds=int(calendar.day_length.total_seconds()),
        started_at=queries.local(task.created_at, tz),
        paused_at=queries.local(task.paused_at, tz),
        extended_seconds=task.extended_seconds,
        calendar=task.calendar_name or "default",
    )
    if history:
        # Reasons are personal data kept apart from the event (erasable): joined back here.
        events = session.execute(
            select(AuditEvent, AuditPrivate.data)
            .outerjoin(
                AuditPrivate,
                (AuditPrivate.chain_key == AuditEvent.chain_key)
                & (AuditPrivate.chain_seq == AuditEvent.chain_seq),
            )
            .where(AuditEvent.task_id == task.id, AuditEvent.command.in_(CLOCK_COMMANDS))
            .order_by(AuditEvent.at, AuditEvent.id)
        )
        view["events"] = [
            {"at": queries.local(e.at, tz), "actor": e.actor, "command": e.command,
             "payload": {**e.payload, **(private or {})}}
            for e, private in events
        ]  # fmt: skip
        extensions = session.scalars(
            select(SlaExtension).where(SlaExtension.task_id == task.id).order_by(SlaExtension.id)
        )
        view["extensions"] = [
            {"id": x.id, "amount": x.amount, "reason": x.reason, "status": x.status,
             "requested_by": x.requested_by, "decided_by": x.decided_by,
             "requested_at": queries.local(x.requested_at, tz)}
            for x in extensions
        ]  # fmt: skip
    return view


def form_fields(session: Session, task: Task) -> list[dict[str, Any]]:
    meta = session.scalar(
        select(Definition.meta)
        .join(ProcessInstance, ProcessInstance.definition_id == Definition.id)
        .where(ProcessInstance.id == task.instance_id)
    )
    return list((meta or {}).get("user_tasks", {}).get(task.element_id, {}).get("form", []))


def task_detail(
    session: Session, task: Task, user: Principal, org: OrgSnapshot, tz: tzinfo, now: datetime
) -> dict[str, Any]:
    instance = task.instance
    view = queries.task_view(task, tz)
    view.update(
        business_key=instance.business_key,
        case_state=instance.state,
        case_data=instance.data,
        process=instance.definition.name,
        sla=explain_clock(session, task, tz, now),
        form=form_fields(session, task),
        may=allowed_actions(task, user, groups_of(org, user)),
        completed_by=task.completed_by,
        ended_at=queries.local(task.ended_at, tz),
    )
    return view


def case_detail(
    session: Session, instance: ProcessInstance, tz: tzinfo, now: datetime
) -> dict[str, Any]:
    view = queries.instance(session, instance.id, tz)
    view["process"] = instance.definition.name
    calendars = _Calendars(session)
    for task in view["open_tasks"]:
        row = session.get(Task, task["id"])
        task["sla"] = (
            explain_clock(session, row, tz, now, calendars, history=False) if row else None
        )
    return view


def people(session: Session) -> list[dict[str, str]]:
    rows = session.execute(
        select(Person.key, Person.name).where(Person.active.is_(True)).order_by(Person.key)
    )
    return [{"key": k, "name": n} for k, n in rows]


def _inapp(user: Principal) -> Any:
    return (OutboxMessage.channel == "inapp") & (OutboxMessage.recipient == user.key)


def unread_count(session: Session, user: Principal) -> int:
    unread = OutboxMessage.id.not_in(select(NoticeRead.outbox_id))
    return session.scalar(select(func.count()).where(_inapp(user), unread)) or 0


def notices(
    session: Session, user: Principal, tz: tzinfo, limit: int = 200
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(OutboxMessage, NoticeRead.read_at)
        .outerjoin(NoticeRead, NoticeRead.outbox_id == OutboxMessage.id)
        .where(_inapp(user))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return [
        {"id": m.id, "at": queries.local(m.created_at, tz), "subject": m.subject, "body": m.body,
         "instance_id": m.instance_id, "read": read_at is not None}
        for m, read_at in rows
    ]  # fmt: skip
