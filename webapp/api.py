"""The JSON API: health and metrics (open), and everything the pages do (token only).

Machine clients send ``Authorization: Bearer <token>`` (``caseclock user token``); the
session cookie is ignored here, which is why this blueprint needs no CSRF token. Errors
are JSON (:func:`webapp._register_errors`); a missing or bad token is 401.

Every route on ``bp`` is in the OpenAPI document (:mod:`webapp.openapi`), served at
``/api/openapi.json`` and listed at ``/api/docs``; the decorators below a route only
document it (schemas from :mod:`webapp.api_schemas`), they change nothing it answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from flask import Response, current_app, g, jsonify, render_template, request, url_for
from flask_smorest import current_api
from sqlalchemy import text

from engine import accounts, queries
from engine.app import CaseClock
from engine.errors import CaseClockError, Forbidden, ValidationError, at_field

from . import access, actions, api_schemas, api_text, converters, openapi, reads

bp = openapi.DocumentedBlueprint("api", __name__, description="CaseClock's JSON API")

OPEN_ENDPOINTS: set[str] = set()  # filled by @public


class Unauthorized(CaseClockError):
    code = "unauthorized"
    http_status = 401


def engine() -> CaseClock:
    return current_app.extensions["caseclock"]


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Needs no token: :func:`authenticate` lets it through and the document says so."""
    OPEN_ENDPOINTS.add(f"{bp.name}.{view.__name__}")
    return bp.doc(security=[])(view)


@bp.before_request
def authenticate() -> None:
    g.user = None  # never the cookie's user: see the module docstring
    if request.endpoint in OPEN_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send your API token in the header Authorization: Bearer <token>")
    g.user = engine().read(lambda s: accounts.account_for_token(s, token.strip()))
    if g.user is None:
        raise Unauthorized("unknown, revoked or disabled token")


@bp.after_request
def challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="caseclock"'
    return response


@bp.after_request
def api_wording(response: Response) -> Response:
    """An error's message as an API client reads it (:mod:`webapp.api_text`), whichever
    handler answered it."""
    found = response.get_json(silent=True) if response.status_code >= 400 else None
    if isinstance(found, dict) and api_text.reword_error(found):
        response.set_data(current_app.json.dumps(found))
    return response


def need(*roles: str) -> None:
    if not g.user.has(*roles):
        raise Forbidden(f"{g.user.key} lacks the role {' or '.join(roles)}")


def body() -> dict[str, Any]:
    if request.content_length and not request.is_json:
        # JSON sent as text/plain (curl -d, fetch's default) is not read as JSON: say how
        # to send it, not that it is no JSON object.
        sent = f"not {request.mimetype}" if request.mimetype else "it had no Content-Type"
        raise ValidationError(f"send the body as JSON with Content-Type: application/json ({sent})")
    data = converters.json_body()
    if data is None and request.content_length:
        raise ValidationError("the body must be a JSON object")
    if data is not None and not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object")
    return data or {}


def choice(name: str, allowed: Sequence[str], default: str | None = None) -> str | None:
    """The query option ``name``: one of ``allowed``, or ``default`` when it is not given.
    Any other value is a 422 naming the option and its values, never read as the default
    (a client that misspells an option must not get another answer than it asked for)."""
    value = request.args.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise at_field(name, f"{name} must be one of {', '.join(allowed)}, not {value[:40]!r}")
    return value


# An instant as every answer writes it (docs/api.md): ISO 8601 in the organisation's
# zone, to the second, as engine.queries.local writes it.
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)")
# The keys answers keep instants under (``due_at``, a history entry's ``at``, a breach's
# ``deadline``, a holder's ``from`` and ``to``); other text is left alone, whatever it
# looks like (a comment may be a date).
_TIME_KEYS = frozenset({"at", "deadline", "from", "to"})
# What people and forms wrote, answered as written (a case variable is data, not a time
# of CaseClock's).
_AS_WRITTEN = frozenset({"data", "case_data", "form", "private"})


def local_times(value: Any, zone: tzinfo) -> Any:
    """``value`` with every instant in the answer's one format. Some are read as stored,
    in UTC to the microsecond: definitions, instances and the audit payloads (a breach's
    ``breached_at``, its holders' ``from`` and ``to``)."""
    if isinstance(value, list):
        return [local_times(v, zone) for v in value]
    if not isinstance(value, dict):
        return value
    return {
        key: item if key in _AS_WRITTEN
        else _local(item, zone) if key in _TIME_KEYS or str(key).endswith("_at")
        else local_times(item, zone)
        for key, item in value.items()
    }  # fmt: skip


def _local(value: Any, zone: tzinfo) -> Any:
    if not isinstance(value, str) or not _INSTANT.fullmatch(value):
        return local_times(value, zone)
    try:
        return datetime.fromisoformat(value).astimezone(zone).isoformat(timespec="seconds")
    except ValueError:  # 2026-13-45T…: not an instant after all
        return value


def answer(value: Any) -> Response:
    """``jsonify(value)``, its instants in the organisation's zone (:func:`local_times`)."""
    return jsonify(local_times(value, engine().services.timezone))


@bp.get("/health")
@public
@bp.response(200, api_schemas.Health)
def health() -> Any:
    """Liveness: the database answers; which timer worker runs in this process."""
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
@public
@bp.response(200, {"type": "string"}, content_type="text/plain")
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


@bp.get("/api/openapi.json")
@public
@bp.response(200, {"type": "object"}, description="the OpenAPI document")
def openapi_document() -> Any:
    """The OpenAPI document: every operation of the API, with its schemas."""
    return jsonify(current_api.spec.to_dict())


@bp.get("/api/docs")
@public
@bp.response(200, {"type": "string"}, content_type="text/html")
def docs() -> Any:
    """The OpenAPI document as a page for people."""
    document = current_api.spec.to_dict()
    page = render_template(
        "api_docs.html",
        document=document,
        operations=openapi.operations(document),
        code_spans=openapi.code_spans,
    )
    return Response(page, mimetype="text/html")


@bp.get("/api/me")
@bp.response(200, api_schemas.Me)
def me() -> Any:
    """Who the token acts as: key, name and roles."""
    return jsonify({"user": g.user.key, "name": g.user.name, "roles": sorted(g.user.roles)})


@bp.get("/api/definitions")
@bp.response(200, api_schemas.Definition(many=True))
def definitions() -> Any:
    """Every deployed version of every process, with its running instances."""
    return answer(engine().read(queries.definitions))


@bp.get("/api/instances")
@bp.query(api_schemas.InstancesQuery)
@bp.response(200, api_schemas.InstanceRow(many=True))
@bp.fails(403, 422)
def instances() -> Any:
    """The 200 most recent cases, newest first (auditor, admin)."""
    need(*access.READ_ALL_CASES)
    state = choice("state", api_schemas.INSTANCE_STATES)
    return answer(engine().read(lambda s: queries.instances(s, state)))


@bp.get("/api/instances/<int:instance_id>")
@bp.response(200, api_schemas.Instance)
@bp.fails(403, 404)
def instance(instance_id: int) -> Any:
    """A case: data, open tasks with their clocks, waiting timers and messages, history.

    Readable by whoever started it, staff who work on it, auditors and admins.
    """
    app = engine()

    def load(s: Any) -> dict[str, Any]:
        row = access.visible_case(
            s, instance_id, g.user, app.services.org.snapshot(s), access.today(app)
        )
        return reads.case_detail(s, row, app.services.timezone, app.clock.now())

    return answer(app.read(load))


@bp.get("/api/tasks")
@bp.query(api_schemas.TasksQuery)
@bp.response(200, api_schemas.Task(many=True))
@bp.fails(403, 404)
def tasks() -> Any:
    """Open tasks of a user or group: your own and your groups'; admins may ask for anyone.

    An unknown user or group is a 404."""
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

    return answer(app.read(load))


@bp.get("/api/inbox")
@bp.query(api_schemas.InboxQuery)
@bp.response(200, api_schemas.InboxRow(many=True))
@bp.fails(403, 422)
def inbox() -> Any:
    """The staff inbox: open tasks, soonest deadline first, with the actions offered."""
    need("staff")
    which = choice("filter", reads.FILTERS, "all")
    app = engine()
    search = request.args.get("q", "")[:100]
    after, before = request.args.get("after"), request.args.get("before")
    page = app.read(
        lambda s: reads.inbox_page(
            s, g.user, app.services.org.snapshot(s), app.services.timezone,
            app.clock.now(), which, search, after, before,
        )
    )  # fmt: skip
    response = answer(page.rows)
    # The body stays a list; the pages next to it are in a Link header (RFC 8288).
    links = [
        f'<{url_for("api.inbox", filter=which, q=search or None, **{rel: token})}>; rel="{name}"'
        for rel, token, name in (("after", page.after, "next"), ("before", page.before, "prev"))
        if token
    ]
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


@bp.get("/api/tasks/<int:task_id>")
@bp.response(200, api_schemas.TaskDetail)
@bp.fails(403, 404)
def task(task_id: int) -> Any:
    """One task: its form, the case's data, its clock's story, the actions offered."""
    need("staff")
    app = engine()

    def load(s: Any) -> dict[str, Any]:
        org = app.services.org.snapshot(s)
        row = access.visible_task(s, task_id, g.user, org, access.today(app))
        return reads.task_detail(s, row, g.user, org, app.services.timezone, app.clock.now())

    return answer(app.read(load))


@bp.post(
    "/api/tasks/<int:task_id>/<action>",
    parameters=[openapi.path_choice("action", actions.ACTIONS)],
)
@bp.takes(
    api_schemas.CompleteBody, api_schemas.DelegateBody, api_schemas.PauseBody,
    api_schemas.ExtendBody, api_schemas.AssistBody, api_schemas.AnswerBody,
    api_schemas.CommentBody,
)  # fmt: skip
@bp.response(
    200, {"anyOf": [api_schemas.TaskDetail, api_schemas.Completed]},
    description="the task after the action; `complete` answers `{\"completed\": id}`",
)  # fmt: skip
@bp.fails(403, 404, 409, 422)
def act(task_id: int, action: str) -> Any:
    """Act on a task: claim, complete, delegate, pause the clock, ask for 协办, …

    The body depends on the action (claim, unclaim, resolve and resume take none). An
    unclaimed group task is claimed before it is completed.
    """
    need("staff")
    actions.run(engine(), g.user, task_id, action, body())
    return task(task_id) if action != "complete" else jsonify({"completed": task_id})


@bp.get("/api/notifications")
@bp.response(200, api_schemas.Notifications)
def notifications() -> Any:
    """Your in-app notices, newest first, and how many are unread."""
    app = engine()
    rows = app.read(lambda s: reads.notices(s, g.user, app.services.timezone))
    unread = app.read(lambda s: reads.unread_count(s, g.user))
    return answer({"unread": unread, "notifications": rows})


@bp.post("/api/notifications/read")
@bp.takes(api_schemas.MarkReadBody)
@bp.response(200, api_schemas.Marked)
@bp.fails(422)
def mark_read() -> Any:
    """Mark notices read: those listed in ``ids``, or all of yours.

    All of yours when the body has no ``ids``; ``"ids": null`` is no list of ids and is
    refused (422), not read as all."""
    sent = body()
    chosen = converters.ids(sent["ids"], "ids") if "ids" in sent else None
    marked = engine().execute(accounts.MarkNoticesRead(g.user.key, chosen), actor=g.user.key)
    return jsonify({"marked": marked})


# The board, ledger, attachment, collection, notice-template and trend endpoints register
# on this blueprint (own modules).
from . import (  # noqa: E402, F401
    api_attachments,
    api_collection,
    api_notices,
    api_oversight,
    api_trends,
)
