"""The JSON API: health and metrics (open), and everything the pages do (token only).

Machine clients send ``Authorization: Bearer <token>`` (``caseclock user token``); the
session cookie is ignored here, which is why this blueprint needs no CSRF token. Errors
are JSON (:func:`webapp._register_errors`); a missing or bad token is 401.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import text

from engine import accounts, queries
from engine.app import CaseClock
from engine.errors import CaseClockError, Forbidden, ValidationError

from . import access, actions, reads

bp = Blueprint("api", __name__)

OPEN_ENDPOINTS = {"api.health", "api.metrics"}


class Unauthorized(CaseClockError):
    code = "unauthorized"
    http_status = 401


def engine() -> CaseClock:
    return current_app.extensions["caseclock"]


@bp.before_request
def authenticate() -> None:
    g.user = None  # never the cookie's user: see the module docstring
    if request.endpoint in OPEN_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> (caseclock user token)")
    g.user = engine().read(lambda s: accounts.account_for_token(s, token.strip()))
    if g.user is None:
        raise Unauthorized("unknown, revoked or disabled token")


@bp.after_request
def challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="caseclock"'
    return response


def need(*roles: str) -> None:
    if not g.user.has(*roles):
        raise Forbidden(f"{g.user.key} lacks the role {' or '.join(roles)}")


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None and request.content_length:
        raise ValidationError("the body must be a JSON object")
    if data is not None and not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object")
    return data or {}


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


@bp.get("/api/me")
def me() -> Any:
    return jsonify({"user": g.user.key, "name": g.user.name, "roles": sorted(g.user.roles)})


@bp.get("/api/definitions")
def definitions() -> Any:
    return jsonify(engine().read(queries.definitions))


@bp.get("/api/instances")
def instances() -> Any:
    need(*access.READ_ALL_CASES)
    state = request.args.get("state")
    if state not in (None, "running", "completed", "error"):
        raise ValidationError("state must be running, completed or error")
    return jsonify(engine().read(lambda s: queries.instances(s, state)))


@bp.get("/api/instances/<int:instance_id>")
def instance(instance_id: int) -> Any:
    app = engine()

    def load(s: Any) -> dict[str, Any]:
        row = access.visible_case(
            s, instance_id, g.user, app.services.org.snapshot(s), access.today(app)
        )
        return reads.case_detail(s, row, app.services.timezone, app.clock.now())

    return jsonify(app.read(load))


@bp.get("/api/tasks")
def tasks() -> Any:
    """Open tasks of a user or group: your own and your groups'; admins may ask for anyone."""
    app = engine()
    tz = app.services.timezone
    user, group = request.args.get("user"), request.args.get("group")
    if user is None and group is None:
        user = g.user.key

    def load(s: Any) -> list[dict[str, Any]]:
        org = app.services.org.snapshot(s)
        if not g.user.has("admin"):
            if user not in (None, g.user.key):
                raise Forbidden("only an admin lists another person's tasks")
            if group is not None and group not in access.groups_of(org, g.user):
                raise Forbidden(f"{g.user.key} is not in group {group!r}")
        return queries.tasks(s, tz, org, user, group, app.clock.now())

    return jsonify(app.read(load))


@bp.get("/api/inbox")
def inbox() -> Any:
    need("staff")
    which = request.args.get("filter", "all")
    if which not in reads.FILTERS:
        raise ValidationError(f"filter must be one of {', '.join(reads.FILTERS)}",
                              details={"fields": {"filter": "all, mine or group"}})  # fmt: skip
    app = engine()
    return jsonify(
        app.read(
            lambda s: reads.inbox(
                s, g.user, app.services.org.snapshot(s), app.services.timezone,
                app.clock.now(), which, request.args.get("q", "")[:100],
            )
        )
    )  # fmt: skip


@bp.get("/api/tasks/<int:task_id>")
def task(task_id: int) -> Any:
    need("staff")
    app = engine()

    def load(s: Any) -> dict[str, Any]:
        org = app.services.org.snapshot(s)
        row = access.visible_task(s, task_id, g.user, org, access.today(app))
        return reads.task_detail(s, row, g.user, org, app.services.timezone, app.clock.now())

    return jsonify(app.read(load))


@bp.post("/api/tasks/<int:task_id>/<action>")
def act(task_id: int, action: str) -> Any:
    need("staff")
    actions.run(engine(), g.user, task_id, action, body())
    return task(task_id) if action != "complete" else jsonify({"completed": task_id})


@bp.get("/api/notifications")
def notifications() -> Any:
    app = engine()
    rows = app.read(lambda s: reads.notices(s, g.user, app.services.timezone))
    unread = app.read(lambda s: reads.unread_count(s, g.user))
    return jsonify({"unread": unread, "notifications": rows})


@bp.post("/api/notifications/read")
def mark_read() -> Any:
    ids = body().get("ids")
    if ids is not None and (
        not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                             for i in ids)
    ):  # fmt: skip
        raise ValidationError("ids must be a list of notification ids",
                              details={"fields": {"ids": "a list of integers"}})  # fmt: skip
    marked = engine().execute(accounts.MarkNoticesRead(g.user.key, ids), actor=g.user.key)
    return jsonify({"marked": marked})


# The board and ledger endpoints register on this blueprint (kept in their own module).
from . import api_oversight  # noqa: E402, F401
