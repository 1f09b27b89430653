"""JSON views over the engine's read side (the full API comes with the web issue)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
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


@bp.get("/metrics")
def metrics() -> Any:
    """Prometheus text format: the timer backlog, outbox state and worker counters."""
    app = engine()
    values = app.read(lambda s: queries.timer_gauges(s, app.clock.now()))
    worker = current_app.extensions.get("caseclock_worker")
    if worker is not None:
        values["caseclock_worker_timers_fired_total"] = worker.stats.fired
        values["caseclock_worker_timer_failures_total"] = worker.stats.failed
        values["caseclock_worker_passes_total"] = worker.stats.passes
        values["caseclock_worker_notices_sent_total"] = worker.stats.sent
        values["caseclock_worker_notice_failures_total"] = worker.stats.send_failed
    lines = []
    for name, value in values.items():
        kind = "counter" if name.endswith("_total") else "gauge"
        lines += [f"# TYPE {name} {kind}", f"{name} {value}"]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


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
