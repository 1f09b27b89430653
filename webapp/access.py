"""Object-level checks: which tasks and cases a person may see and act on.

A task is visible to its assignee and owner, to whoever completed it, and to members of
its candidate groups (pages and API ask for the staff role first); a case to whoever
started it, to auditors and admins (read-only), and to staff who hold or held one of its
tasks or belong to a candidate group of an open one.
The engine's commands check the finer rules (only the assignee completes, …); these
checks come first so that what you may not see you cannot probe either.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine.accounts import Principal
from engine.errors import Forbidden, NotFound
from engine.org import OrgSnapshot
from engine.store import ProcessInstance, Task, TaskCandidateGroup

# Roles that may read any case (never act on its tasks through that).
READ_ALL_CASES = ("auditor", "admin")


def groups_of(org: OrgSnapshot, user: Principal) -> frozenset[str]:
    return org.people.get(user.key, (0, frozenset()))[1]


def can_see_task(task: Task, user: Principal, groups: frozenset[str]) -> bool:
    if user.key in (task.assignee, task.owner, task.completed_by):
        return True
    return task.kind == "user" and bool(set(task.candidate_groups or ()) & groups)


def visible_task(session: Session, task_id: int, user: Principal, org: OrgSnapshot) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if not can_see_task(task, user, groups_of(org, user)):
        raise Forbidden(f"task {task_id} is not yours or your groups'")
    return task


def visible_case(
    session: Session, instance_id: int, user: Principal, org: OrgSnapshot
) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    if user.has(*READ_ALL_CASES) or instance.started_by == user.key:
        return instance
    if not user.has("staff"):
        # Group membership opens cases to staff only: a designer in the reviewers group
        # does not read their cases through it.
        raise Forbidden(f"case {instance_id} is not one you work on")
    groups = groups_of(org, user)
    held = or_(Task.assignee == user.key, Task.owner == user.key, Task.completed_by == user.key)
    offered = (Task.state == "open") & exists(
        select(TaskCandidateGroup.task_id).where(
            TaskCandidateGroup.task_id == Task.id, TaskCandidateGroup.group_key.in_(groups)
        )
    )
    allowed = session.scalar(
        select(exists().where(Task.instance_id == instance.id, or_(held, offered)))
    )
    if not allowed:
        raise Forbidden(f"case {instance_id} is not one you work on")
    return instance
