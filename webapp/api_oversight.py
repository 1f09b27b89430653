"""The JSON API of the supervisor board and the auditor's ledger (bearer token, see
:mod:`webapp.api`): the same views and actions as the pages, errors as JSON."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from engine import accountability

from . import access, actions, api_schemas, decisions, ledger_view, openapi, oversight
from .api import answer, body, bp, engine, need


@bp.get("/api/board")
@bp.response(200, api_schemas.Board)
@bp.fails(403)
def board() -> Any:
    """The supervisor board: late work below you, your chase tasks, requests to decide.

    Late and yellow tasks of the people below you (and unclaimed ones of groups whose
    department you or they head), your chase tasks with their late task, the chases your
    deputy holds for you, your direct reports' pending requests, on-time rates.
    """
    need("supervisor")
    app = engine()
    return answer(
        app.read(lambda s: oversight.board(s, g.user.key, app.services.timezone, app.clock.now()))
    )


@bp.post(
    "/api/chase/<int:chase_id>/<action>",
    parameters=[openapi.path_choice("action", decisions.CHASE_ACTIONS)],
)
@bp.takes(
    api_schemas.UrgeBody, api_schemas.NoteBody, api_schemas.ReassignBody, api_schemas.CommentBody
)
@bp.response(200, api_schemas.ChaseDone)
@bp.fails(403, 404, 409, 422)
def chase(chase_id: int, action: str) -> Any:
    """Act on your chase task (催办): urge the holder, handle, reassign, comment.

    Urging is at most once an hour (409 otherwise); a reassignment goes only to someone
    below you (422 at ``to`` otherwise).
    """
    need("supervisor")
    decisions.chase(engine(), g.user, chase_id, action, body())
    return jsonify({"chase_id": chase_id, "done": action})


@bp.post(
    "/api/<kind>s/<int:request_id>/<decision>",
    parameters=[openapi.path_choice("kind", decisions.KINDS),
                openapi.path_choice("decision", decisions.DECISIONS)],
)  # fmt: skip
@bp.takes(api_schemas.NoteBody)
@bp.response(200, api_schemas.Decided)
@bp.fails(403, 404, 409, 422)
def decide(kind: str, request_id: int, decision: str) -> Any:
    """Approve or refuse a direct report's extension (延期) or exemption (免责).

    Only the requester's superior decides; a refusal needs a ``note``.
    """
    need("supervisor")
    done = decisions.decide(engine(), g.user, kind, request_id, decision, body())
    return jsonify({"kind": kind, "id": done.id, "status": done.status})


@bp.post("/api/instances/<int:instance_id>/comments")
@bp.takes(api_schemas.CommentBody, required=True)
@bp.response(201, api_schemas.Created)
@bp.fails(403, 404, 422)
def comment(instance_id: int) -> Any:
    """Comment on a case you work on (staff; reading every case as auditor or admin does
    not open it to comments)."""
    need("staff")
    app = engine()
    app.read(
        lambda s: access.commentable_case(
            s, instance_id, g.user, app.services.org.snapshot(s), access.today(app)
        )
    )
    done = actions.comment(app, g.user, instance_id, body())
    return jsonify({"id": done.id, "instance_id": instance_id}), 201


def _filter() -> ledger_view.LedgerFilter:
    app = engine()
    return ledger_view.parse(request.args, app.services.timezone, app.clock.now())


@bp.get("/api/ledger")
@bp.query(api_schemas.LedgerQuery)
@bp.response(200, api_schemas.Ledger)
@bp.fails(403, 422)
def ledger() -> Any:
    """The accountability ledger (auditor): breach entries with their snapshots.

    Dates default to the last 30 days; a bad date, department or exemption is a 422
    naming the field.
    """
    need("auditor")
    chosen = _filter()
    tz = engine().services.timezone

    def load(s: Any) -> dict[str, Any]:
        rows = ledger_view.rows(s, chosen)
        snaps = ledger_view.snapshots(s, [r["breach_event_id"] for r in rows], tz)
        return {"filter": chosen.args(), "rows": rows,
                "snapshots": {str(k): v for k, v in snaps.items()}}  # fmt: skip

    return answer(engine().read(load))


@bp.get("/api/ledger/verify")
@bp.response(200, api_schemas.ChainStatus)
@bp.fails(403)
def verify() -> Any:
    """Every audit chain checked against the latest anchor (auditor)."""
    need("auditor")
    return jsonify(engine().read(ledger_view.chain_status))


@bp.get("/api/report")
@bp.query(api_schemas.ReportQuery)
@bp.response(200, api_schemas.Report)
@bp.fails(403, 422)
def report() -> Any:
    """The accountability report for a period and department (auditor)."""
    need("auditor")
    chosen = _filter()
    found = engine().read(lambda s: ledger_view.report(s, chosen))
    return answer({name: found[name] for name in ("period", "department")}
                  | accountability.tables_of(found))  # fmt: skip
