"""The JSON API of the supervisor board and the auditor's ledger (bearer token, see
:mod:`webapp.api`): the same views and actions as the pages, errors as JSON."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from engine import accountability

from . import access, actions, decisions, ledger_view, oversight
from .api import body, bp, engine, need


@bp.get("/api/board")
def board() -> Any:
    need("supervisor")
    app = engine()
    return jsonify(
        app.read(lambda s: oversight.board(s, g.user.key, app.services.timezone, app.clock.now()))
    )


@bp.post("/api/chase/<int:chase_id>/<action>")
def chase(chase_id: int, action: str) -> Any:
    need("supervisor")
    decisions.chase(engine(), g.user, chase_id, action, body())
    return jsonify({"chase_id": chase_id, "done": action})


@bp.post("/api/<kind>s/<int:request_id>/<decision>")
def decide(kind: str, request_id: int, decision: str) -> Any:
    need("supervisor")
    done = decisions.decide(engine(), g.user, kind, request_id, decision, body())
    return jsonify({"kind": kind, "id": done.id, "status": done.status})


@bp.post("/api/instances/<int:instance_id>/comments")
def comment(instance_id: int) -> Any:
    need("staff")
    app = engine()
    app.read(
        lambda s: access.visible_case(
            s, instance_id, g.user, app.services.org.snapshot(s), access.today(app)
        )
    )
    done = actions.comment(app, g.user, instance_id, body())
    return jsonify({"id": done.id, "instance_id": instance_id}), 201


def _filter() -> ledger_view.LedgerFilter:
    app = engine()
    return ledger_view.parse(request.args, app.services.timezone, app.clock.now())


@bp.get("/api/ledger")
def ledger() -> Any:
    need("auditor")
    chosen = _filter()
    tz = engine().services.timezone

    def load(s: Any) -> dict[str, Any]:
        rows = ledger_view.rows(s, chosen)
        snaps = ledger_view.snapshots(s, [r["breach_event_id"] for r in rows], tz)
        return {"filter": chosen.args(), "rows": rows,
                "snapshots": {str(k): v for k, v in snaps.items()}}  # fmt: skip

    return jsonify(engine().read(load))


@bp.get("/api/ledger/verify")
def verify() -> Any:
    need("auditor")
    return jsonify(engine().read(ledger_view.chain_status))


@bp.get("/api/report")
def report() -> Any:
    need("auditor")
    chosen = _filter()
    found = engine().read(lambda s: ledger_view.report(s, chosen))
    return jsonify({name: found[name] for name in ("period", "department")}
                   | accountability.tables_of(found))  # fmt: skip
