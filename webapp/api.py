"""JSON views over the engine's read side (the full API comes with the web issue)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from engine import queries
from engine.app import CaseClock
from engine.errors import ValidationError

bp = Blueprint("api", __name__)


def engine() -> CaseClock:
    return current_app.extensions["caseclock"]


@bp.get("/health")
def health() -> Any:
    engine().read(lambda s: s.execute(text("SELECT 1")).scalar())
    worker = current_app.extensions.get("caseclock_worker")
    return jsonify(
        {
            "status": "ok",
            "database": engine().db.url.get_backend_name(),
            "worker": worker.owner if worker else None,
        }
    )


@bp.get("/api/definitions")
def definitions() -> Any:
    return jsonify(engine().read(queries.definitions))


@bp.get("/api/instances")
def instances() -> Any:
    state = request.args.get("state")
    if state not in (None, "running", "completed", "error"):
        raise ValidationError("state must be running, completed or error")
    return jsonify(engine().read(lambda s: queries.instances(s, state)))


@bp.get("/api/instances/<int:instance_id>")
def instance(instance_id: int) -> Any:
    tz = engine().services.timezone
    return jsonify(engine().read(lambda s: queries.instance(s, instance_id, tz)))


@bp.get("/api/tasks")
def tasks() -> Any:
    tz = engine().services.timezone
    user, group = request.args.get("user"), request.args.get("group")
    return jsonify(
        engine().read(
            lambda s: queries.tasks(s, tz, engine().services.org.snapshot(s), user, group)
        )
    )
