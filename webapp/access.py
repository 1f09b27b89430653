"""Object-level checks: which tasks and cases a person may see and act on.

A task is visible to its assignee and owner, to whoever completed it, to whoever stands
in for its assignee today, and to members of its candidate groups (pages and API ask for
the staff role first); a case to whoever started it, to auditors and admins (read-only),
to staff who hold or held one of its tasks (or stand in for who holds one) or belong to
a candidate group of an open one, and to supervisors when someone below them does.
The engine's commands check the finer rules (only the assignee completes, …); these
checks come first so that what you may not see you cannot probe either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine import queries
from engine.accounts import Principal
from engine.app import CaseClock
from engine.collection import listing
from engine.errors import Forbidden, NotFound
from engine.org import OrgSnapshot
from engine.store import ProcessInstance, Task, TaskCandidateGroup
from engine.store.collection_tables import Receivable
from engine.store.ladder_tables import CollectionCase
from engine.store.models import POOL_KINDS

# Roles that may read any case (never act on its tasks through that).
READ_ALL_CASES = ("auditor", "admin")


def groups_of(org: OrgSnapshot, user: Principal) -> frozenset[str]:
    return org.people.get(user.key, (0, frozenset()))[1]


def stood_in_for(org: OrgSnapshot, user: Principal, today: date | None) -> list[str]:
    """Whom ``user`` acts for on ``today`` (休假委托); none when the day is not given."""
    if today is None or user.key not in org.people:
        return []
    return org.stood_in_for(user.key, today)


def can_see_task(
    task: Task, user: Principal, groups: frozenset[str], deputy_for: Sequence[str] = ()
) -> bool:
    if user.key in (task.assignee, task.owner, task.completed_by):
        return True
    if task.state == "open" and task.assignee is not None and task.assignee in deputy_for:
        return True
    return task.kind in POOL_KINDS and bool(set(task.candidate_groups or ()) & groups)


def openable_tasks(
    session: Session, task_ids: Sequence[int], user: Principal, org: OrgSnapshot, today: date
) -> set[int]:
    """Which of ``task_ids`` ``user`` may open (:func:`visible_task`), so that a page
    links only those: a case page lists a 催办 its reader cannot open."""
    if not task_ids:
        return set()
    groups, deputy_for = groups_of(org, user), stood_in_for(org, user, today)
    tasks = session.scalars(select(Task).where(Task.id.in_(task_ids)))
    return {t.id for t in tasks if can_see_task(t, user, groups, deputy_for)}


def visible_task(
    session: Session, task_id: int, user: Principal, org: OrgSnapshot, today: date | None = None
) -> Task:
    """The task if ``user`` may see it; with ``today``, also the work of people they stand
    in for that day."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if not can_see_task(task, user, groups_of(org, user), stood_in_for(org, user, today)):
        raise Forbidden(f"task {task_id} is not yours or your groups'")
    return task


def visible_case(
    session: Session,
    instance_id: int,
    user: Principal,
    org: OrgSnapshot,
    today: date | None = None,
) -> ProcessInstance:
    """The case if ``user`` may read it. Staff: cases they work on (with ``today``, also
    through whom they stand in for); supervisors: also cases worked by people below them,
    whose late work their board shows."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    if user.has(*READ_ALL_CASES) or instance.started_by == user.key:
        return instance
    staff, supervisor = user.has("staff"), user.has("supervisor") and user.key in org.people
    if not (staff or supervisor):
        # Group membership opens cases to staff only: a designer in the reviewers group
        # does not read their cases through it.
        raise Forbidden(f"case {instance_id} is not one you work on")
    holders = [user.key, *(queries.below(session, user.key) if supervisor else ())]
    held = or_(Task.assignee.in_([*holders, *stood_in_for(org, user, today)]),
               Task.owner.in_(holders), Task.completed_by.in_(holders))  # fmt: skip
    offered = (Task.state == "open") & exists(
        select(TaskCandidateGroup.task_id).where(
            TaskCandidateGroup.task_id == Task.id,
            TaskCandidateGroup.group_key.in_(groups_of(org, user) if staff else ()),
        )
    )
    allowed = session.scalar(
        select(exists().where(Task.instance_id == instance.id, or_(held, offered)))
    )
    if not allowed and not _sees_its_receivable(session, instance, user):
        raise Forbidden(f"case {instance_id} is not one you work on")
    return instance


def _sees_its_receivable(session: Session, instance: ProcessInstance, user: Principal) -> bool:
    """A collection case opens to whoever has its receivable in their portfolio (its
    collector, their superiors, the head of its department): the receivable's page links
    to it, and the case's steps may be in a pool none of them is in."""
    key = session.scalar(
        select(Receivable.key)
        .join(CollectionCase, CollectionCase.receivable_id == Receivable.id)
        .where(CollectionCase.instance_id == instance.id)
    )
    if key is None:
        return False
    try:
        listing.visible_receivable(session, key, user)
    except Forbidden:
        return False
    return True


def commentable_case(
    session: Session,
    instance_id: int,
    user: Principal,
    org: OrgSnapshot,
    today: date | None = None,
) -> ProcessInstance:
    """The case if ``user`` may comment on it: staff, on a case they take part in. Reading
    every case as auditor or admin is read-only, so those roles open no case to comments
    (a staff member who also audits comments only where they work)."""
    if not user.has("staff"):
        raise Forbidden(f"case {instance_id} is not one you work on")
    worker = replace(user, roles=user.roles - set(READ_ALL_CASES))
    return visible_case(session, instance_id, worker, org, today)


def today(app: CaseClock) -> date:
    """The organisation's date now (stand-ins are by day, in its time zone)."""
    return app.clock.now().astimezone(app.services.timezone).date()
