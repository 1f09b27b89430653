"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any

from engine import queries
from engine.app import CaseClock
from engine.runtime import ClaimTask, CompleteTask


def view(app: CaseClock, instance_id: int) -> dict[str, Any]:
    return app.read(lambda s: queries.instance(s, instance_id, app.services.timezone))


def open_tasks(app: CaseClock, instance_id: int) -> dict[str, dict[str, Any]]:
    """Open tasks of an instance by element id."""
    return {t["element_id"]: t for t in view(app, instance_id)["open_tasks"]}


def timers(app: CaseClock, instance_id: int) -> dict[str, str]:
    """Waiting timers of an instance: element id (``Task_x:sla deadline`` for SLA
    clocks) -> due time (local ISO)."""
    return {
        t["element_id"] if not t["kind"].startswith("sla") else f"{t['element_id']}:{t['kind']}": t[
            "due_at"
        ]
        for t in view(app, instance_id)["waiting_timers"]
    }


def work(app: CaseClock, instance_id: int, element_id: str, user: str, data: dict) -> None:  # type: ignore[type-arg]
    task_id = open_tasks(app, instance_id)[element_id]["id"]
    app.execute(ClaimTask(task_id, user), actor=user)
    app.execute(CompleteTask(task_id, user, data), actor=user)
