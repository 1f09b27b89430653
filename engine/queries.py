"""Read-side views as plain dicts, for the CLI, the JSON API and the pages.

They read projections only (``task``, ``timer``, ``message_subscription``, ``audit_event``)
and never deserialize a workflow.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from . import sla
from .calendars import load_calendar
from .errors import NotFound
from .org import OrgSnapshot
from .store import (
    AuditEvent,
    Definition,
    Department,
    Group,
    MessageSubscription,
    OutboxMessage,
    Person,
    ProcessInstance,
    Task,
    TaskCandidateGroup,
    Timer,
)
from .store.models import POOL_KINDS, AuditPrivate, Comment


def local(instant: datetime | None, tz: tzinfo) -> str | None:
    return instant.astimezone(tz).isoformat(timespec="seconds") if instant else None


def definitions(session: Session) -> list[dict[str, Any]]:
    running = dict(
        session.execute(
            select(ProcessInstance.definition_id, func.count())
            .where(ProcessInstance.state == "running")
            .group_by(ProcessInstance.definition_id)
        ).all()
    )
    rows = session.scalars(select(Definition).order_by(Definition.key, Definition.version))
    return [
        {
            "id": d.id,
            "key": d.key,
            "version": d.version,
            "name": d.name,
            "deployed_at": d.deployed_at.isoformat(),
            "running_instances": running.get(d.id, 0),
        }
        for d in rows
    ]


def task_view(
    task: Task, tz: tzinfo, now: datetime | None = None, session: Session | None = None
) -> dict[str, Any]:
    """A task as shown; with ``now`` and a session, its SLA clock and traffic light."""
    clock = None
    if now is not None and session is not None and task.due_at is not None:
        clock = sla.view(task, now, load_calendar(session, task.calendar_name or "default"))
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "element_id": task.element_id,
        "name": task.name,
        "state": task.state,
        "assignee": task.assignee,
        "owner": task.owner,
        "delegation_state": task.delegation_state,
        "candidate_groups": task.candidate_groups,
        "created_at": local(task.created_at, tz),
        "due_at": local(task.due_at, tz),
        "kind": task.kind,
        "chase_of": task.chase_of_id,
        "chase_level": task.chase_level,
        "assists": task.assists_id,
        "outcome": task.outcome,
        "sla": clock,
    }


def tasks(
    session: Session,
    tz: tzinfo,
    org: OrgSnapshot,
    user: str | None = None,
    group: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Open tasks; ``user`` = assigned to them (or to whom they stand in for today) or
    claimable through their groups."""
    query = select(Task).where(Task.state == "open")
    if user:
        held, offered = pool_scope(org, user, (now or datetime.now(tz)).astimezone(tz).date())
        query = query.where(or_(held, offered))
    if group:
        if group not in org.group_keys.values():
            raise NotFound(f"unknown group {group!r}")
        query = query.where(
            Task.id.in_(
                select(TaskCandidateGroup.task_id).where(TaskCandidateGroup.group_key == group)
            )
        )
    rows = session.scalars(query.order_by(Task.due_at.is_(None), Task.due_at, Task.id))
    return [task_view(t, tz, now, session) for t in rows]


def pool_scope(
    org: OrgSnapshot, user: str, today: date
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Whose work ``user`` sees: tasks held by them or by whom they stand in for
    ``today``, and unclaimed tasks offered to one of their groups (shared with the web
    inbox so both answer the same)."""
    holders = [user, *org.stood_in_for(user, today)]
    # EXISTS, not IN (subquery): a primary-key probe per task, so an inbox that walks the
    # due_at index stops after its page instead of first collecting every group task.
    offered = Task.assignee.is_(None) & (
        select(TaskCandidateGroup.task_id)
        .where(
            TaskCandidateGroup.task_id == Task.id,
            TaskCandidateGroup.group_key.in_(org.groups_of(user)),
        )
        .exists()
    )
    return Task.assignee.in_(holders), offered


def instances(session: Session, state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc()).limit(limit)
    if state:
        query = query.where(ProcessInstance.state == state)
    return [
        {
            "id": i.id,
            "definition": f"{i.definition.key}:{i.definition.version}",
            "business_key": i.business_key,
            "state": i.state,
            "started_at": i.started_at.isoformat(),
        }
        for i in session.scalars(query)
    ]


def instance(
    session: Session, instance_id: int, tz: tzinfo, now: datetime | None = None
) -> dict[str, Any]:
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    open_tasks = session.scalars(
        select(Task).where(Task.instance_id == row.id, Task.state == "open").order_by(Task.id)
    )
    timers = session.scalars(
        select(Timer)
        .where(Timer.instance_id == row.id, Timer.status.in_(("waiting", "paused")))
        .order_by(Timer.due_at)
    )
    subscriptions = session.scalars(
        select(MessageSubscription).where(MessageSubscription.instance_id == row.id)
    )
    history = session.execute(
        events_with_private(AuditEvent.instance_id == row.id).order_by(AuditEvent.chain_seq)
    )
    return {
        "id": row.id,
        "definition": f"{row.definition.key}:{row.definition.version}",
        "business_key": row.business_key,
        "state": row.state,
        "started_at": local(row.started_at, tz),
        "ended_at": local(row.ended_at, tz),
        "data": row.data,
        "due_at": local(row.due_at, tz),
        "open_tasks": [task_view(t, tz, now, session) for t in open_tasks],
        "waiting_timers": [
            {
                "id": t.id,
                "element_id": t.element_id,
                "name": t.name,
                "kind": t.kind if t.kind != "sla" else f"sla {t.purpose}",
                "status": t.status,
                "interrupting": t.interrupting,
                "attached_to": t.attached_to,
                "due_at": local(t.due_at, tz),
            }
            for t in timers
        ],
        "waiting_messages": [
            {"element_id": s.element_id, "message": s.message_name} for s in subscriptions
        ],
        "comments": [{**c, "at": local(c["at"], tz)} for c in comments(session, row.id)],
        "history": [
            {
                "at": local(e.at, tz),
                "actor": e.actor,
                "command": e.command,
                "task_id": e.task_id,
                "payload": e.payload,
                # What may hold personal data; None once erased (engine.erasure).
                **({"private": private} if "private_sha256" in e.payload else {}),
            }
            for e, private in history
        ],
    }


def events_with_private(*where: Any) -> Select[tuple[AuditEvent, Any]]:
    """Audit events with their erasable private part (``None`` once erased)."""
    return (
        select(AuditEvent, AuditPrivate.data)
        .outerjoin(
            AuditPrivate,
            (AuditPrivate.chain_key == AuditEvent.chain_key)
            & (AuditPrivate.chain_seq == AuditEvent.chain_seq),
        )
        .where(*where)
    )


def comments(session: Session, instance_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Comment).where(Comment.instance_id == instance_id).order_by(Comment.id)
    )
    return [{"id": c.id, "task_id": c.task_id, "author": c.author, "at": c.at,
             "text": c.text} for c in rows]  # fmt: skip


def timer_gauges(session: Session, now: datetime) -> dict[str, float]:
    """What an operator watches: the due backlog and how late its oldest timer is."""
    waiting = Timer.status == "waiting"
    due = session.execute(
        select(func.count(), func.min(Timer.due_at)).where(waiting, Timer.due_at <= now)
    ).one()
    pending = session.scalar(select(func.count()).select_from(Timer).where(waiting)) or 0
    oldest = due[1]
    outbox = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return {
        "caseclock_timers_waiting": pending,
        "caseclock_timers_due": due[0],
        "caseclock_oldest_due_timer_lateness_seconds": (
            (now - oldest).total_seconds() if oldest else 0.0
        ),
        "caseclock_outbox_pending": outbox.get("pending", 0),
        "caseclock_outbox_dead": outbox.get("dead", 0),
    }


def below(session: Session, key: str) -> list[str]:
    """Everyone whose chain of superiors reaches ``key`` (the org tree under them)."""
    people = session.execute(select(Person.id, Person.key, Person.superior_id)).all()
    by_id = {pid: (pkey, sup) for pid, pkey, sup in people}
    me = next((pid for pid, (pkey, _) in by_id.items() if pkey == key), None)
    if me is None:
        raise NotFound(f"unknown user {key!r}")
    result = []
    for pkey, sup in by_id.values():
        seen: set[int] = set()
        while sup is not None and sup not in seen:
            if sup == me:
                result.append(pkey)
                break
            seen.add(sup)
            sup = by_id.get(sup, (None, None))[1]
    return sorted(result)


def board(session: Session, tz: tzinfo, user: str, now: datetime) -> dict[str, Any]:
    """A supervisor's view: late and yellow work below them, their chase tasks, on-time rate."""
    team = below(session, user)
    # Unclaimed work answers to the head of the department behind its group.
    heads = select(Person.id).where(Person.key.in_([*team, user]))
    groups = (
        select(Group.key)
        .join(Department, Department.id == Group.department_id)
        .where(Department.head_id.in_(heads))
    )
    unclaimed = Task.assignee.is_(None) & Task.id.in_(
        select(TaskCandidateGroup.task_id).where(TaskCandidateGroup.group_key.in_(groups))
    )
    open_team = session.scalars(
        select(Task)
        .where(Task.state == "open", Task.kind.in_(POOL_KINDS))
        .where(or_(Task.assignee.in_(team), unclaimed))
        .where(or_(Task.warn_at <= now, Task.due_at <= now))
        .order_by(Task.due_at)
    ).all()
    chases = session.scalars(
        select(Task).where(Task.state == "open", Task.kind == "chase", Task.assignee == user)
    ).all()
    closed = session.execute(
        select(Task.assignee, Task.name, Task.ended_at, Task.due_at).where(
            Task.state == "completed", Task.kind.in_(POOL_KINDS), Task.due_at.is_not(None),
            Task.assignee.in_(team),
        )
    ).all()  # fmt: skip
    by_person: dict[str, list[int]] = {}
    by_step: dict[str, list[int]] = {}
    for assignee, step, ended, due in closed:
        for met_total in (by_person.setdefault(assignee, [0, 0]), by_step.setdefault(step, [0, 0])):
            met_total[0] += int(ended <= due)
            met_total[1] += 1
    return {
        "user": user,
        "team": team,
        "late_or_warned": [task_view(t, tz, now, session) for t in open_team],
        "my_chase_tasks": [task_view(t, tz, now, session) for t in chases],
        "on_time": _rates(by_person),
        "on_time_by_step": _rates(by_step),
    }


def _rates(counts: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    return {
        key: {"met": met, "closed": total, "rate": round(met / total, 3)}
        for key, (met, total) in sorted(counts.items())
    }
