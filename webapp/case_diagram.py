"""The case diagram: the instance's own deployed version in the bpmn-js viewer, with its
open tasks (deadline and traffic light), completed activities and waiting timers.

The page loads ``static/build/viewer.js``, which fetches this blueprint's JSON (the CSP
allows no inline script). The texts on the overlays are worded here, in the page's
language. Errors are JSON: the caller is the script, not a person.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from flask import Blueprint, g, jsonify
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import queries, safexml
from engine.definitions import NS
from engine.errors import NotFound
from engine.services import Services
from engine.store import Definition, DeploymentResource, ProcessInstance, Task, Timer

from . import access, reads
from .filters import LIGHTS, when, worktime
from .i18n import gettext
from .security import engine, login_required

bp = Blueprint("case_diagram", __name__)


def definition_source(session: Session, definition: Definition) -> tuple[str, bytes] | None:
    """The file of ``definition``'s deployment that defines its process."""
    resources = session.scalars(
        select(DeploymentResource)
        .where(DeploymentResource.deployment_id == definition.deployment_id)
        .order_by(DeploymentResource.id)
    )
    for resource in resources:
        if not resource.name.endswith(".bpmn"):
            continue
        tree = safexml.parse(resource.content, resource.name)
        if any(p.get("id") == definition.key for p in tree.getroot().iterfind("bpmn:process", NS)):
            return resource.name, resource.content
    return None


def element_ids(content: bytes, name: str) -> set[str]:
    return {el.get("id") for el in safexml.parse(content, name).iter() if el.get("id")}  # type: ignore[misc]


def completed(session: Session, services: Services, instance: ProcessInstance) -> set[str]:
    """Element ids of the activities and events the instance has passed: from its workflow
    state, and from its completed tasks (which outlive an erased state)."""
    done = set(
        session.scalars(
            select(Task.element_id).where(
                Task.instance_id == instance.id, Task.state == "completed"
            )
        )
    )
    if instance.workflow_state:
        loaded = services.definitions.get(session, instance.definition_id)
        workflow = services.serializer.state_from_json(
            instance.workflow_state, loaded.spec, loaded.subprocess_specs
        )
        done |= {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    return done


def task_marker(session: Session, task: Task, tz: tzinfo, now: datetime,
                calendars: reads.Calendars) -> dict[str, Any]:  # fmt: skip
    clock = reads.explain_clock(session, task, tz, now, calendars, history=False)
    marker = {"element_id": task.element_id, "task_id": task.id, "name": task.name,
              "assignee": task.assignee, "light": "none", "due_at": None,
              "due_text": None, "state_text": str(LIGHTS["none"])}  # fmt: skip
    if clock is None:
        return marker
    marker.update(light=clock["light"], due_at=clock["due_at"],
                  due_text=gettext("截止 %(t)s", t=when(clock["due_at"])),
                  state_text=str(LIGHTS.get(clock["light"], clock["light"])))  # fmt: skip
    left = clock.get("working_seconds_left")
    if clock["light"] == "red" and left is not None and left < 0:
        # Worded like the task's clock on the page: working time, in the case's calendar.
        late = worktime(-left, clock["day_seconds"])
        marker["state_text"] = gettext("逾期 %(t)s", t=late)
    return marker


def timer_marker(timer: Timer, tz: tzinfo) -> dict[str, Any]:
    due_at = queries.local(timer.due_at, tz)
    text = gettext("定时 %(t)s", t=when(due_at))
    if timer.status == "paused":
        text = f"{text} · {gettext('已暂停')}"
    return {"element_id": timer.element_id, "timer_id": timer.id, "name": timer.name,
            "kind": timer.kind, "status": timer.status, "attached_to": timer.attached_to,
            "due_at": due_at, "text": text}  # fmt: skip


def markers(
    session: Session, services: Services, instance: ProcessInstance, now: datetime
) -> dict[str, Any]:
    """The diagram's XML and what to mark on it (only elements the diagram has)."""
    definition = instance.definition
    source = definition_source(session, definition)
    if source is None:
        raise NotFound(f"the diagram of {definition.key}:{definition.version} is not stored")
    name, content = source
    ids = element_ids(content, name)
    tz = services.timezone
    calendars = reads.Calendars(session)
    open_tasks = session.scalars(
        select(Task)
        .where(Task.instance_id == instance.id, Task.state == "open", Task.kind == "user")
        .order_by(Task.id)
    )
    # SLA clocks are the tasks' own deadlines (on the task's overlay): BPMN timers only.
    timers = session.scalars(
        select(Timer)
        .where(Timer.instance_id == instance.id, Timer.status.in_(("waiting", "paused")),
               Timer.kind != "sla")
        .order_by(Timer.due_at, Timer.id)
    )  # fmt: skip
    return {
        "instance_id": instance.id,
        "definition": f"{definition.key}:{definition.version}",
        "file": name,
        "xml": content.decode("utf-8"),
        "open": [
            task_marker(session, t, tz, now, calendars) for t in open_tasks if t.element_id in ids
        ],
        "completed": sorted(completed(session, services, instance) & ids),
        "timers": [timer_marker(t, tz) for t in timers if t.element_id in ids],
    }


@bp.get("/cases/<int:instance_id>/diagram.json")
@login_required()
def diagram(instance_id: int) -> Any:
    app = engine()

    def load(session: Session) -> dict[str, Any]:
        org = app.services.org.snapshot(session)
        instance = access.visible_case(session, instance_id, g.user, org, access.today(app))
        return markers(session, app.services, instance, app.clock.now())

    return jsonify(app.read(load))
