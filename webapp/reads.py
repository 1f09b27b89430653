"""What the staff pages and their API show, as plain dicts, read from projections only.

Built on :mod:`engine.queries` (task and case views with SLA clocks), adding what a
page needs beyond them: filters and search, who may act, the form to fill, and the
story of a deadline (limit, standard, calendar, pauses, extensions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    Group,
    OutboxMessage,
    Person,
    ProcessInstance,
    Task,
)
from engine.store.account_tables import NoticeRead
from engine.store.models import POOL_KINDS, SlaExtension

from .access import groups_of, stood_in_for

FILTERS = ("all", "mine", "group")
INBOX_LIMIT = 200
CLOCK_COMMANDS = ("pause_clock", "resume_clock", "request_extension", "decide_extension")


class Calendars:
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
    """Open user and 协办 tasks: ``mine`` (held by me, or by whom I stand in for today),
    ``group`` (unclaimed, offered to one of my groups) or ``all`` of both; soonest
    deadline first; ``search`` matches the business key or the step name."""
    if user.key not in org.people:
        return []  # an account whose person left the org chart has no work to list
    held, offered = queries.pool_scope(org, user.key, now.astimezone(tz).date())
    scopes = {"mine": [held], "group": [offered]}.get(which, [held, offered])
    pattern = f"%{search.strip().lower()}%" if search.strip() else None
    found = _soonest(session, scopes, pattern, INBOX_LIMIT)
    keys = business_keys(session, {task.instance_id for task in found})
    calendars = Calendars(session)
    me = Acting(user, groups_of(org, user), stood_in_for(org, user, now.astimezone(tz).date()))
    rows = [
        _task_row(session, task, keys.get(task.instance_id), me, tz, now, calendars)
        for task in found
    ]
    names = person_names(session, {r["assignee"] for r in rows if r["on_behalf_of"]})
    for row in rows:
        row["on_behalf_of_name"] = names.get(row["on_behalf_of"])
    return rows


def _soonest(session: Session, scopes: list[Any], pattern: str | None, limit: int) -> list[Task]:
    """The first ``limit`` open pool tasks in any of ``scopes`` (disjoint: held tasks have
    an assignee, offered ones none), soonest deadline first, undated last, then by id.

    One statement per scope and per dated/undated, each ordered and limited on its own,
    then merged: each is an ordered walk of the (state, due_at, id) index, or of the
    assignee index for what one person holds, that stops when the page is full instead
    of sorting every visible task; an OR of the scopes would keep PostgreSQL from
    turning the group check into a semi-join (docs/benchmarks.md, "Staff inbox")."""
    # Keys first (an index-only read), then the page's full rows by primary key.
    base = select(Task.due_at, Task.id).where(Task.state == "open", Task.kind.in_(POOL_KINDS))
    if pattern is not None:
        base = base.join(ProcessInstance, ProcessInstance.id == Task.instance_id).where(
            or_(
                func.lower(ProcessInstance.business_key).like(pattern),
                func.lower(Task.name).like(pattern),
            )
        )
    dated: list[tuple[datetime, int]] = []
    for scope in scopes:
        query = base.where(scope, Task.due_at.is_not(None)).order_by(Task.due_at, Task.id)
        dated += ((due_at, task_id) for due_at, task_id in session.execute(query.limit(limit)))
    ids = [task_id for _, task_id in sorted(dated)[:limit]]
    if len(ids) < limit:
        undated: list[int] = []
        for scope in scopes:
            query = base.where(scope, Task.due_at.is_(None)).order_by(Task.id)
            undated += (task_id for _, task_id in session.execute(query.limit(limit - len(ids))))
        ids += sorted(undated)[: limit - len(ids)]
    if not ids:
        return []
    rows = {task.id: task for task in session.scalars(select(Task).where(Task.id.in_(ids)))}
    return [rows[task_id] for task_id in ids]


def business_keys(session: Session, instance_ids: set[int]) -> dict[int, str | None]:
    if not instance_ids:
        return {}
    rows = session.execute(
        select(ProcessInstance.id, ProcessInstance.business_key).where(
            ProcessInstance.id.in_(instance_ids)
        )
    )
    return dict(rows.all())


@dataclass(frozen=True)
class Acting:
    """Who is asking, with their groups and whom they stand in for today."""

    user: Principal
    groups: frozenset[str]
    deputy_for: Sequence[str] = ()

    def holds(self, task: Task) -> bool:
        return task.assignee == self.user.key or (
            task.assignee is not None and task.assignee in self.deputy_for
        )


def _task_row(
    session: Session,
    task: Task,
    business_key: str | None,
    me: Acting,
    tz: tzinfo,
    now: datetime,
    calendars: Calendars,
) -> dict[str, Any]:
    view = queries.task_view(task, tz)
    view["business_key"] = business_key
    view["sla"] = explain_clock(session, task, tz, now, calendars, history=False)
    view["may"] = allowed_actions(task, me)
    # Shown as "代 <name>": work of someone I stand in for today.
    view["on_behalf_of"] = task.assignee if task.assignee in me.deputy_for else None
    view["assisted"] = assisted(session, task)
    return view


def assisted(session: Session, task: Task) -> dict[str, Any] | None:
    """For a 协办 request: the asking task and its holder."""
    if task.assists_id is None:
        return None
    asking = session.get(Task, task.assists_id)
    if asking is None:
        return None
    return {"id": asking.id, "name": asking.name, "assignee": asking.assignee}


def person_names(session: Session, keys: set[str | None]) -> dict[str, str]:
    wanted = [k for k in keys if k]
    if not wanted:
        return {}
    return dict(
        session.execute(select(Person.key, Person.name).where(Person.key.in_(wanted))).all()
    )


def allowed_actions(task: Task, me: Acting) -> list[str]:
    """What the page offers (the engine re-checks each one when it runs)."""
    if task.state != "open" or task.kind not in POOL_KINDS:
        return []
    candidate = not task.candidate_groups or bool(set(task.candidate_groups) & me.groups)
    if task.assignee is None:
        if task.kind == "assist":
            return ["claim"] if candidate else []
        return ["claim", "complete"] if candidate else []
    if not me.holds(task):
        return []
    if task.kind == "assist":
        return ["unclaim", "answer"] if task.assignee == me.user.key else ["answer"]
    if task.assignee != me.user.key:
        return ["complete", "assist"]  # a deputy completes and asks; the rest is the holder's
    if task.delegation_state == "pending":
        return ["resolve"]  # the delegate hands it back to its owner, who completes it
    actions = ["unclaim", "delegate", "complete", "assist"]
    if task.due_at is not None:
        actions += ["resume"] if task.paused_at is not None else ["pause"]
        actions.append("extend")
    return actions


def explain_clock(
    session: Session,
    task: Task,
    tz: tzinfo,
    now: datetime,
    calendars: Calendars | None = None,
    history: bool = True,
) -> dict[str, Any] | None:
    """The SLA clock with everything that explains its deadline."""
    if task.due_at is None:
        return None
    calendar = (calendars or Calendars(session)).get(task.calendar_name)
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
            queries.events_with_private(
                AuditEvent.task_id == task.id, AuditEvent.command.in_(CLOCK_COMMANDS)
            ).order_by(AuditEvent.at, AuditEvent.id)
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
    me = Acting(user, groups_of(org, user), stood_in_for(org, user, now.astimezone(tz).date()))
    view = queries.task_view(task, tz)
    view.update(
        business_key=instance.business_key,
        case_state=instance.state,
        case_data=instance.data,
        process=instance.definition.name,
        sla=explain_clock(session, task, tz, now),
        form=form_fields(session, task),
        may=allowed_actions(task, me),
        on_behalf_of=task.assignee if task.assignee in me.deputy_for else None,
        assisted=assisted(session, task),
        comments=[c for c in case_comments(session, instance.id, tz) if c["task_id"] == task.id],
        completed_by=task.completed_by,
        ended_at=queries.local(task.ended_at, tz),
    )
    return view


def case_detail(
    session: Session, instance: ProcessInstance, tz: tzinfo, now: datetime
) -> dict[str, Any]:
    view = queries.instance(session, instance.id, tz)
    view["process"] = instance.definition.name
    view["comments"] = case_comments(session, instance.id, tz)
    calendars = Calendars(session)
    for task in view["open_tasks"]:
        row = session.get(Task, task["id"])
        task["sla"] = (
            explain_clock(session, row, tz, now, calendars, history=False) if row else None
        )
    return view


def case_comments(session: Session, instance_id: int, tz: tzinfo) -> list[dict[str, Any]]:
    """The case's comments with their authors' names (queries.comments has keys only)."""
    rows = queries.comments(session, instance_id)
    names = person_names(session, {c["author"] for c in rows})
    return [{**c, "at": queries.local(c["at"], tz), "author_name": names.get(c["author"])}
            for c in rows]  # fmt: skip


def people(session: Session) -> list[dict[str, str]]:
    rows = session.execute(
        select(Person.key, Person.name).where(Person.active.is_(True)).order_by(Person.key)
    )
    return [{"key": k, "name": n} for k, n in rows]


def groups(session: Session) -> list[dict[str, str]]:
    """Groups a step can ask for 协办."""
    rows = session.execute(select(Group.key, Group.name).order_by(Group.key))
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
