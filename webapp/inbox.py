"""Staff (办事人员): the inbox, a task with its form and actions, the case view, notices."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.accounts import MarkNoticesRead, Principal
from engine.attachments import works_on_case
from engine.errors import CaseClockError, Conflict, Forbidden, ValidationError
from engine.org import OrgSnapshot
from engine.store import ProcessInstance

from . import access, actions, converters, reads
from .i18n import gettext, lazy_gettext
from .refusals import refusal, said_once
from .security import engine, login_required

bp = Blueprint("inbox", __name__)
log = logging.getLogger(__name__)

DONE = {
    "claim": "已认领。",
    "unclaim": "已退回组任务池。",
    "delegate": "已委派。",
    "resolve": "已交回委派人。",
    "complete": "已办理完成。",
    "pause": "时限已暂停（补正）。",
    "resume": "时限已恢复计时。",
    "extend": "延期申请已提交，等待上级审批。",
    "assist": "协办请求已发出。",
    "answer": "协办答复已发送。",
    "comment": "意见已添加。",
}


# The labels of a clock's explanation (_clock.html), translated once per page rather than
# once per row: an inbox page shows many clocks (docs/benchmarks.md, "Staff inbox").
CLOCK_LABELS = {
    "limit": lazy_gettext("时限"),
    "standard": lazy_gettext("标准"),
    "diagram_limit": lazy_gettext("流程图中的时限"),
    "calendar": lazy_gettext("日历"),
    "start": lazy_gettext("开始"),
    "warn": lazy_gettext("预警"),
    "due": lazy_gettext("截止"),
    "paused": lazy_gettext("暂停"),
    "none": lazy_gettext("无"),
    "extended": lazy_gettext("延期"),
    "note": lazy_gettext("说明"),
    "hint": lazy_gettext(
        "截止时间 = 开始时间 + 时限（按工作日历计算，跳过节假日和非工作时间）+ 暂停时长 + 批准的延期。"  # noqa: E501
    ),
}


@bp.app_template_global()
def clock_labels() -> dict[str, str]:
    labels: dict[str, str] | None = g.get("clock_labels")
    if labels is None:
        labels = g.clock_labels = {key: str(text) for key, text in CLOCK_LABELS.items()}
    return labels


@bp.app_context_processor
def header_counts() -> dict[str, Any]:
    user = g.get("user")
    if user is None:
        return {"unread": 0}
    try:
        return {"unread": engine().read(lambda s: reads.unread_count(s, user))}
    except (CaseClockError, SQLAlchemyError):
        # Every page renders this, the error page too: a database that cannot answer
        # must not turn "busy" into Flask's bare 500. The count is left out.
        log.warning("unread count unavailable", exc_info=True)
        return {"unread": 0}


@bp.get("/")
@login_required()
def index() -> Any:
    if g.user.has("staff"):
        return redirect(url_for("inbox.tasks"))
    return redirect(url_for("inbox.notifications"))


@bp.get("/inbox")
@login_required("staff")
def tasks() -> Any:
    which = request.args.get("filter", "all")
    if which not in reads.FILTERS:
        which = "all"
    search = request.args.get("q", "")[:100]
    after, before = request.args.get("after") or None, request.args.get("before") or None
    app = engine()
    page = app.read(
        lambda s: reads.inbox_page(
            s, g.user, app.services.org.snapshot(s), app.services.timezone, app.clock.now(),
            which, search, after, before,
        )
    )  # fmt: skip
    return render_template("inbox.html", tasks=page.rows, page=page, which=which, search=search)


def _task_page(task_id: int, values: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, status: int = 200) -> Any:  # fmt: skip
    return _render_task(*_load_task(task_id), values, errors, status)


def _load_task(task_id: int) -> tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]:
    app = engine()

    def load(s: Any) -> tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]:
        org = app.services.org.snapshot(s)
        task = access.visible_task(s, task_id, g.user, org, access.today(app))
        detail = reads.task_detail(s, task, g.user, org, app.services.timezone, app.clock.now())
        detail["names"] = reads.page_names(s, task.instance, detail)
        return detail, reads.delegates(s, g.user.key), reads.groups(s, task.candidate_groups)

    return app.read(load)


def _render_task(task: dict[str, Any], people: list[dict[str, str]],
                 groups: list[dict[str, str]], values: dict[str, Any] | None,
                 errors: dict[str, str] | None, status: int) -> Any:  # fmt: skip
    values = values if values is not None else dict(task["case_data"])
    # ``acted``: the action whose form was sent, so only that form keeps what was typed.
    acted = request.view_args.get("action") if request.method == "POST" else None
    return render_template("task.html", task=task, people=people, groups=groups, values=values,
                           errors=errors or {}, sent=request.form, acted=acted), status  # fmt: skip


def offers_form(task: dict[str, Any], action: str) -> bool:
    """Whether the task page shows ``action``'s form (task.html): comments always, an
    upload while the task is open, the others when offered to the user."""
    if action == "comment":
        return True
    if action == "attachment":
        return task["state"] == "open"
    return action in task["may"]


def refused(task_id: int, action: str, errors: dict[str, str], status: int) -> Any:
    """An action's refusal, said once (:func:`webapp.refusals.said_once`): in the task
    page's form for the action (a field's message at the field, any other under the form's
    button), with what was typed kept; in the message area when the page no longer offers
    that form (someone else claimed the task meanwhile)."""
    task, people, groups = _load_task(task_id)
    typed = request.form.to_dict() if action in ("complete", "resolve") else None

    def page(shown: dict[str, str]) -> str:
        html, _ = _render_task(task, people, groups, typed if shown else None, shown, status)
        return html

    back = url_for("inbox.task", task_id=task_id)
    return said_once(page, errors, status, offers_form(task, action), back)


@bp.get("/tasks/<int:task_id>")
@login_required("staff")
def task(task_id: int) -> Any:
    return _task_page(task_id)


@bp.post("/tasks/<int:task_id>/<action>")
@login_required("staff")
def act(task_id: int, action: str) -> Any:
    try:
        actions.run(engine(), g.user, task_id, action, request.form, html=True)
    except (ValidationError, Conflict) as exc:
        return refused(task_id, action, refusal(exc, action), exc.http_status)
    flash(gettext(DONE[action]), "info")
    if action in ("complete", "unclaim", "delegate", "resolve", "answer"):
        return redirect(url_for("inbox.tasks"), 303)
    return redirect(url_for("inbox.task", task_id=task_id), 303)


def _case(instance_id: int) -> dict[str, Any]:
    """The case as its page shows it, if the user may read it, with what the user may add
    to it (``may_comment``, ``may_upload``: the page offers only those forms)."""
    app = engine()

    def load(s: Any) -> dict[str, Any]:
        org, today = app.services.org.snapshot(s), access.today(app)
        instance = access.visible_case(s, instance_id, g.user, org, today)
        detail = reads.case_detail(s, instance, app.services.timezone, app.clock.now())
        detail["names"] = reads.page_names(s, instance, detail)
        detail["may_comment"] = may_comment(s, instance, g.user, org, today)
        detail["may_upload"] = may_upload(s, instance, g.user, org, today)
        listed = [t["id"] for t in detail["open_tasks"]]
        detail["may_open"] = access.openable_tasks(s, listed, g.user, org, today)
        return detail

    return app.read(load)


def may_comment(
    s: Session, instance: ProcessInstance, user: Principal, org: OrgSnapshot, today: date
) -> bool:
    """Whether the page offers ``user`` the comment form (access.commentable_case)."""
    try:
        access.commentable_case(s, instance.id, user, org, today)
    except Forbidden:
        return False
    return True


def may_upload(
    s: Session, instance: ProcessInstance, user: Principal, org: OrgSnapshot, today: date
) -> bool:
    """Whether the engine would take a file from ``user`` on the case (AddAttachment's
    rule): a running case with an open task they work on, or, as supervisor, that someone
    below them does."""
    if not user.has("staff", "supervisor") or instance.state != "running":
        return False
    if user.key not in org.people:
        return False
    return works_on_case(s, instance.id, user.key, org, today, user.has("supervisor"))


@bp.get("/cases/<int:instance_id>")
@login_required()
def case(instance_id: int) -> Any:
    return render_template("case.html", case=_case(instance_id), errors={})


@bp.post("/cases/<int:instance_id>/comment")
@login_required("staff")
def comment(instance_id: int) -> Any:
    detail = _case(instance_id)  # what you may not read you may not comment on
    if not detail["may_comment"]:
        raise Forbidden(f"case {instance_id} is not one you work on")
    try:
        actions.comment(engine(), g.user, instance_id, request.form)
    except ValidationError as exc:  # said once, at the field
        errors = {"comment.text": exc.details.get("fields", {}).get("text", exc.message)}
        return render_template("case.html", case=detail, errors=errors), 422
    flash(gettext(DONE["comment"]), "info")
    return redirect(url_for("inbox.case", instance_id=instance_id), 303)


@bp.get("/notifications")
@login_required()
def notifications() -> Any:
    app = engine()
    rows = app.read(lambda s: reads.notices(s, g.user, app.services.timezone))
    return render_template("notifications.html", notices=rows)


@bp.post("/notifications/read")
@login_required()
def mark_read() -> Any:
    # No id means all of them; a bad one is refused, never read as "all".
    ids = converters.ids(request.form.getlist("id"), "id") or None
    engine().execute(MarkNoticesRead(g.user.key, ids), actor=g.user.key)
    return redirect(url_for("inbox.notifications"), 303)
