"""What the supervisor board shows, as plain dicts: :func:`engine.queries.board` (late and
yellow work below me, my chase tasks, on-time rates) plus what a page needs beyond it —
the late task behind each chase, names, and the requests waiting for my decision."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import queries
from engine.store import Person, ProcessInstance, Task
from engine.store.models import Exemption, SlaExtension

from .reads import Calendars, explain_clock, person_names

# Decisions a supervisor takes, by the kind of request.
REQUESTS: dict[str, type[SlaExtension] | type[Exemption]] = {
    "extension": SlaExtension,
    "exemption": Exemption,
}


def board(session: Session, user: str, tz: tzinfo, now: datetime) -> dict[str, Any]:
    view = queries.board(session, tz, user, now)
    calendars = Calendars(session)

    def explained(row: dict[str, Any], task: Task | None = None) -> dict[str, Any]:
        # The board's clocks are the inbox's: with what explains each deadline.
        task = task or session.get(Task, row["id"])
        row["sla"] = explain_clock(session, task, tz, now, calendars, history=False)
        return row

    keys = {*view["team"], *view["on_time"]}
    for row in view["late_or_warned"]:
        explained(row)
    for chase in view["my_chase_tasks"]:
        explained(chase)
        late = session.get(Task, chase["chase_of"])
        chase["late"] = explained(queries.task_view(late, tz), late) if late else None
        if late is not None:
            keys.add(late.assignee)
    # Chase tasks opened for me while I was away went to my deputy (owner: me); shown
    # without actions — the engine lets only the assignee act on a chase.
    view["deputy_chases"] = [
        explained(queries.task_view(t, tz), t)
        for t in session.scalars(
            select(Task)
            .where(Task.kind == "chase", Task.state == "open", Task.owner == user)
            .order_by(Task.id)
        )
    ]
    keys |= {t["assignee"] for t in [*view["late_or_warned"], *view["deputy_chases"]]}
    view["pending"] = pending(session, user, tz)
    keys |= {r["requested_by"] for r in view["pending"]}
    view["names"] = person_names(session, keys)
    shown = [*view["late_or_warned"], *view["my_chase_tasks"], *view["pending"],
             *view["deputy_chases"]]  # fmt: skip
    cases = {t["instance_id"] for t in shown}
    view["business_keys"] = business_keys(session, cases)
    return view


def business_keys(session: Session, ids: set[int]) -> dict[int, str | None]:
    if not ids:
        return {}
    rows = session.execute(
        select(ProcessInstance.id, ProcessInstance.business_key).where(ProcessInstance.id.in_(ids))
    )
    return {i: key for i, key in rows}


def pending(session: Session, user: str, tz: tzinfo) -> list[dict[str, Any]]:
    """Extension and exemption requests of my direct reports: only their superior decides
    (engine.approvals), so these are the ones waiting for me."""
    me = select(Person.id).where(Person.key == user).scalar_subquery()
    reports = select(Person.key).where(Person.superior_id == me)
    found = []
    for kind, model in REQUESTS.items():
        rows = session.execute(
            select(model, Task.name, Task.instance_id)
            .join(Task, Task.id == model.task_id)
            .where(model.status == "pending", model.requested_by.in_(reports))
            .order_by(model.requested_at, model.id)
        )
        for request, step, instance_id in rows:
            found.append({
                "kind": kind, "id": request.id, "task_id": request.task_id, "step": step,
                "instance_id": instance_id, "requested_by": request.requested_by,
                "requested_at": queries.local(request.requested_at, tz),
                "reason": request.reason, "amount": getattr(request, "amount", None),
            })  # fmt: skip
    return found
