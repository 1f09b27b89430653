"""Supervisors (领导): the board — my chase tasks, late and yellow work below me, the
requests waiting for my decision, and my team's on-time rate — and its trend over time."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from engine.errors import Conflict, ValidationError
from engine.store.models import Person

from . import charts, decisions, oversight
from .i18n import gettext
from .refusals import refusal, said_once
from .security import engine, login_required

bp = Blueprint("supervisor", __name__)

DONE = {
    "urge": "已催办，对方会收到通知。",
    "handle": "催办已标记为处理完毕。",
    "reassign": "已改派。",
    "comment": "意见已添加。",
    "approve": "已批准。",
    "refuse": "已驳回。",
}


def _board(errors: dict[str, str] | None = None, status: int = 200,
           failed: str | None = None) -> Any:  # fmt: skip
    """The board, with a refusal of the form ``failed`` said once (refusals.said_once): in
    that form, what was typed kept, or in the message area when the board no longer
    shows it (the chase was closed, the request decided meanwhile)."""
    app = engine()
    view = app.read(
        lambda s: oversight.board(s, g.user.key, app.services.timezone, app.clock.now())
    )
    names = view["names"]

    def page(shown: dict[str, str]) -> str:
        return render_template(
            "supervisor/board.html", board=view, names=names, errors=shown, failed=failed,
            sent=request.form, by_person=charts.rate_chart(view["on_time"], names),
            by_step=charts.rate_chart(view["on_time_by_step"]),
        )  # fmt: skip

    offered = failed is None or failed in _forms(view)
    return said_once(page, errors or {}, status, offered, url_for("supervisor.board"))


def _forms(view: dict[str, Any]) -> set[str]:
    """The forms the board shows (board.html): one per action on each of my chase tasks,
    one per request waiting for my decision (approve and refuse share it)."""
    chases = {f"chase{c['id']}.{action}" for c in view["my_chase_tasks"]
              for action in decisions.CHASE_ACTIONS}  # fmt: skip
    return chases | {f"{r['kind']}{r['id']}" for r in view["pending"]}


@bp.get("/board")
@login_required("supervisor")
def board() -> Any:
    return _board()


@bp.get("/board/trends")
@login_required("supervisor")
def trends() -> Any:
    """The team's on-time rate per week or month, by person or by step: a line chart and
    the same figures as a table."""
    app = engine()
    try:
        chosen = oversight.trend_query(request.args, app.services.timezone, app.clock.now())
    except ValidationError as exc:
        return render_template("supervisor/trends.html", view=None, args=request.args,
                               errors=exc.details.get("fields", {})), 422  # fmt: skip
    view = app.read(lambda s: oversight.trends(s, g.user.key, chosen, app.services.timezone))
    return render_template("supervisor/trends.html", view=view, args=chosen.args(), errors={},
                           chart=charts.trend_chart(view), rate_text=charts.rate_text)  # fmt: skip


def _outcome(run: Any, action: str, form: str) -> Any:
    try:
        run()
    except (ValidationError, Conflict) as exc:
        return _board(refusal(exc, form), exc.http_status, form)
    flash(gettext(DONE[action]), "info")
    return redirect(url_for("supervisor.board"), 303)


@bp.post("/board/chase/<int:chase_id>/<action>")
@login_required("supervisor")
def chase(chase_id: int, action: str) -> Any:
    def run() -> Any:
        return decisions.chase(engine(), g.user, chase_id, action, request.form)

    return _outcome(run, action, f"chase{chase_id}.{action}")


@bp.post("/board/<kind>/<int:request_id>/<decision>")
@login_required("supervisor")
def decide(kind: str, request_id: int, decision: str) -> Any:
    def run() -> Any:
        try:
            return decisions.decide(engine(), g.user, kind, request_id, decision, request.form)
        except Conflict:
            raise Conflict(_already_decided(kind, request_id)) from None

    return _outcome(run, decision, f"{kind}{request_id}")


def _already_decided(kind: str, request_id: int) -> str:
    """Said plainly, so it cannot pass for this user's own success: somebody else (or this
    user, earlier) decided the request, and this click changed nothing."""

    def outcome(session: Any) -> tuple[str, str]:
        row = decisions.decided_request(session, kind, request_id)
        assert row is not None  # requests are never deleted
        who = row.decided_by or ""
        name = session.scalar(select(Person.name).where(Person.key == who))
        return (name or who), row.status

    who, status = engine().read(outcome)
    result = gettext("已批准") if status == "approved" else gettext("已驳回")
    return gettext(
        "该申请此前已由 %(who)s 处理（%(result)s），您的操作未生效。", who=who, result=result
    )
