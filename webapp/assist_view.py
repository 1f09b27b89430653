"""协办 on a task's page: the question a 协办 request carries, and the requests a step made.

The question and the answer are personal free text, so the engine keeps them only in the
erasable part of the audit trail (``audit_private``, see :mod:`engine.assistance`); they
are read from there, so erasing a case (:mod:`engine.erasure`) takes them off the pages
too (they read ``None`` then). The rest — who asked, when, the group, the state — comes
from the request's task row and the audit event itself, which erasure keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import queries
from engine.store import AuditEvent, Task

from .names import group_names, person_names

# The audit commands of a request's life (engine.assistance).
ASKED, ANSWERED, WITHDRAWN = "assist_request", "assist_answer", "assist_withdrawn"


def for_task(session: Session, task: Task, tz: tzinfo) -> dict[str, Any]:
    """The 协办 keys of a task's detail: ``assist_question`` (a 协办 request: what it
    asks, else ``None``) and ``assist_requests`` (the requests this task made)."""
    asked = requests_of(session, [task.id], tz) if task.kind != "assist" else []
    mine = describe(session, [task], tz) if task.kind == "assist" else []
    return {"assist_question": mine[0] if mine else None, "assist_requests": asked}


def requests_of(session: Session, task_ids: Sequence[int], tz: tzinfo) -> list[dict[str, Any]]:
    """The 协办 requests made from the tasks ``task_ids``, oldest first."""
    if not task_ids:
        return []
    rows = session.scalars(select(Task).where(Task.assists_id.in_(task_ids)).order_by(Task.id))
    return describe(session, list(rows), tz)


def describe(session: Session, requests: Sequence[Task], tz: tzinfo) -> list[dict[str, Any]]:
    """Each 协办 request as a plain dict: its group, question, state and answer."""
    events = _events(session, requests)
    askers = [e.actor for e, _ in events.values()]
    people = person_names(session, [*askers, *(r.completed_by for r in requests),
                                    *(r.assignee for r in requests)])  # fmt: skip
    asked = [e.payload.get("group") for e, _ in events.values()]
    groups = group_names(session, [*asked, *(g for r in requests
                                             for g in r.candidate_groups or ())])  # fmt: skip
    return [_request(r, events, people, groups, tz) for r in requests]


def state_of(request: Task) -> str:
    """pending (still open), answered, or withdrawn (its asking step ended first)."""
    if request.state == "open":
        return "pending"
    return "answered" if request.outcome == "answered" else "withdrawn"


def _request(
    request: Task,
    events: dict[tuple[int, str], tuple[AuditEvent, Any]],
    people: dict[str, str],
    groups: dict[str, str],
    tz: tzinfo,
) -> dict[str, Any]:
    asked, question = events.get((request.id, ASKED), (None, None))
    answer_event, answer = events.get((request.id, ANSWERED), (None, None))
    group = asked.payload.get("group") if asked else None
    group = group or next(iter(request.candidate_groups or ()), None)
    state = state_of(request)
    asker = asked.actor if asked else None
    answered_by = request.completed_by if state == "answered" else None
    return {
        "id": request.id,
        "assists": request.assists_id,
        "group": group,
        "group_name": groups.get(group or "", group),
        # None: erased with the case's personal data (or never recorded).
        "question": (question or {}).get("question"),
        "asked_by": asker,
        "asked_by_name": people.get(asker or ""),
        "asked_at": queries.local(asked.at if asked else request.created_at, tz),
        "limit": asked.payload.get("limit") if asked else request.sla_limit,
        "due_at": queries.local(request.due_at, tz),
        "state": state,
        "assignee": request.assignee,
        "assignee_name": people.get(request.assignee or ""),
        "answer": (answer or {}).get("answer"),
        "answered_by": answered_by,
        "answered_by_name": people.get(answered_by or ""),
        "answered_at": queries.local(answer_event.at, tz) if answer_event else None,
        "ended_at": queries.local(request.ended_at, tz),
    }


def _events(
    session: Session, requests: Sequence[Task]
) -> dict[tuple[int, str], tuple[AuditEvent, Any]]:
    """(request id, command) -> the audit event and its private part (``None`` once
    erased). Filtered by instance too: that is the audit table's index."""
    if not requests:
        return {}
    rows = session.execute(
        queries.events_with_private(
            AuditEvent.instance_id.in_({r.instance_id for r in requests}),
            AuditEvent.task_id.in_([r.id for r in requests]),
            AuditEvent.command.in_((ASKED, ANSWERED, WITHDRAWN)),
        ).order_by(AuditEvent.id)
    )
    return {(event.task_id, event.command): (event, private) for event, private in rows}
