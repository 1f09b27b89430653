"""Admins (系统管理): the org chart and accounts, absences and handovers, calendars and
their overrides, SLA standards, incidents (failed timers), the notice templates and the send log.

Every action runs one engine command (which writes its audit event). A refusal is said
once, with the engine's status (422, 404, 409): at the field of the form that sent it, or
under that form's button, what was typed kept (:mod:`webapp.refusals`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy.exc import DBAPIError

from engine import absence as absence_commands
from engine import accounts as account_commands
from engine.calendars import DEFAULT_NAME, OverrideDay, RemoveOverride, parse_day
from engine.errors import CaseClockError, Forbidden, ValidationError, at_field
from engine.incidents import FAILING_AFTER, DropDelivery, RetryDelivery, RetryTimer, SkipTimer
from engine.inputs import whole_number
from engine.notice_templates import (
    ResetNoticeTemplate,
    SetNoticeTemplate,
    check_template,
    fields,
    preview,
)
from engine.notices import Notice
from engine.org import ImportOrg, parse_org_file
from engine.org_edit import SaveDepartment, SaveGroup, SavePerson
from engine.outbox import CHANNELS
from engine.sla import DEADLINE_ACTIONS
from engine.standards import RetireStandard, SetStandard

from . import admin_views, converters, notice_log
from .i18n import gettext
from .refusals import refusal, said_once
from .security import engine, login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLES = account_commands.ROLES
MAX_UPLOAD = 512 * 1024


def _text(field: str, limit: int = 100, required: bool = True) -> str:
    value = (request.form.get(field) or "").strip()
    if required and not value:
        raise at_field(field, gettext("必填。"))
    if len(value) > limit:
        raise at_field(field, gettext("最多 %(n)s 个字符。", n=limit))
    return value


def _day(field: str) -> date:
    value = (request.form.get(field) or "").strip()
    if not value:
        raise at_field(field, gettext("必填。"))
    try:
        return parse_day(value)
    except ValidationError:
        raise at_field(field, gettext("日期格式应为 YYYY-MM-DD。")) from None


FLAG_VALUES = {"1": True, "true": True, "on": True, "0": False, "false": False, "off": False}


def _flag(field: str) -> bool | None:
    """A yes/no field: True or False for a recognised value, None for anything else."""
    return FLAG_VALUES.get((request.form.get(field) or "").strip().lower())


def _instant(field: str) -> datetime | None:
    value = (request.form.get(field) or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise at_field(
            field, gettext("日期时间格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM。")
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=engine().services.timezone)
    return parsed


# --- rendering --------------------------------------------------------------------------


def _page(
    template: str,
    errors: dict[str, str] | None,
    status: int,
    failed: str | None,
    listed: Mapping[str, Collection[object]] | None = None,
    **context: Any,
) -> Any:
    """The page with ``errors`` in the form ``failed``, what was typed there kept.
    ``listed``: the rows the page lists, by the kind of form each carries (``{"cancel":
    [3]}`` for the form ``cancel-3``), so that a refusal whose row is gone is said too."""

    def page(shown: dict[str, str]) -> str:
        typed = request.form if failed else {}
        return render_template(f"admin/{template}.html", errors=shown, failed=failed,
                               typed=typed, **context)  # fmt: skip

    offered = failed is None or _offered(failed, listed or {})
    return said_once(page, errors or {}, status, offered, url_for(f"admin.{template}"))


def _offered(form: str, listed: Mapping[str, Collection[object]]) -> bool:
    """Whether the page shows ``form``: a row's form while the row is listed, the form
    that adds a row (``person-new``) and every other form always."""
    kind, _, key = form.partition("-")
    return kind not in listed or key == "new" or key in {str(row) for row in listed[kind]}


def _org(errors: dict[str, str] | None = None, status: int = 200, failed: str | None = None) -> Any:
    view = engine().read(admin_views.org)
    accounts = [a["person"] for a in view["accounts"]]
    listed = {
        "cancel": [a["id"] for a in view["absences"]], "roles": accounts, "active": accounts,
        "person": [p["key"] for p in view["people"]],
        "department": [d["key"] for d in view["departments"]],
        "group": [gr["key"] for gr in view["groups"]],
    }  # fmt: skip
    return _page("org", errors, status, failed, listed, org=view, roles=ROLES)


def _calendars(
    errors: dict[str, str] | None = None, status: int = 200, failed: str | None = None
) -> Any:
    errors = dict(errors or {})
    name = (request.values.get("calendar") or DEFAULT_NAME).strip()
    year: int | None = None
    raw_year = (request.args.get("year") or "").strip()
    if raw_year:
        year = _year(raw_year)
        if year is None:
            errors["view.year"] = gettext("年份应在 1900 到 2100 之间。")
            status = 422
    if year is None and failed:
        year = _year((request.form.get("day") or "")[:4])
    app = engine()
    view = app.read(lambda s: admin_views.calendars(s, name, year, app.clock.now()))
    if view["name"] != name:
        # Shown is the default calendar, and the page says why (not silently another one).
        errors["view.calendar"] = gettext("没有名为 %(name)s 的日历，显示的是默认日历。", name=name)
        status = 422
    return _page("calendars", errors, status, failed, cal=view)


def _year(text: str) -> int | None:
    """A calendar year the page shows, from what was typed (None if it is not one)."""
    return whole_number(text, 1900, 2100)


def _sla(errors: dict[str, str] | None = None, status: int = 200, failed: str | None = None) -> Any:
    rows = engine().read(admin_views.sla)
    return _page("sla", errors, status, failed, {"retire": [s["id"] for s in rows]},
                 standards=rows, actions=DEADLINE_ACTIONS)  # fmt: skip


def _incidents(
    errors: dict[str, str] | None = None, status: int = 200, failed: str | None = None
) -> Any:
    rows = engine().read(admin_views.failed_timers)
    zone = engine().services.timezone
    messages = engine().read(lambda s: admin_views.undeliverable(s, zone))
    listed = {"incident": [i["id"] for i in rows], "delivery": [m["id"] for m in messages]}
    return _page("incidents", errors, status, failed, listed, incidents=rows, messages=messages,
                 failing_after=FAILING_AFTER)  # fmt: skip


def _act(
    render: Callable[..., Any],
    form: str,
    build: Callable[[], Any],
    done: str,
    field: str | None,
    back: Callable[[], str],
) -> Any:
    """Run the command ``build`` makes; a refusal re-renders the page with it said once in
    the form that sent it (:func:`refusal`): at the engine's field, else at ``field``
    (the one to blame, if the form has one), a conflict under the form's button."""
    try:
        command = build()
        engine().execute(command, actor=g.user.key)
    except Forbidden:
        raise
    except CaseClockError as exc:
        return render(refusal(exc, form, field), exc.http_status, form)
    except DBAPIError:
        refused = ValidationError(gettext("数据库拒绝了该输入（值可能过长）。"))
        return render(refusal(refused, form, field), 422, form)
    flash(done, "info")
    return redirect(back(), 303)


# --- the org chart, accounts, absences ------------------------------------------------------


@bp.get("")
@login_required("admin")
def index() -> Any:
    return redirect(url_for("admin.org"))


@bp.get("/org")
@login_required("admin")
def org() -> Any:
    return _org()


def _org_back() -> str:
    return url_for("admin.org")


class _Import(ImportOrg):
    """The import, with malformed rows (a YAML list of strings, a webhook that is not a
    mapping) reported as bad input instead of failing inside the command."""

    def __call__(self, ctx: Any) -> Any:
        try:
            return super().__call__(ctx)
        except (TypeError, AttributeError, KeyError) as exc:
            raise ValidationError(f"the org file has an entry of the wrong shape: {exc}") from None


def _check_shape(doc: dict[str, list[Any]]) -> None:
    for kind, rows in doc.items():
        for row in rows:
            if not isinstance(row, dict):
                raise ValidationError(f"{kind}: every entry must be a mapping, not {row!r}")
            if (
                "webhook" in row
                and row["webhook"] is not None
                and not isinstance(row["webhook"], dict)
            ):
                raise ValidationError(f"{kind} {row.get('key')}: webhook must be a mapping")
            if not isinstance(row.get("groups") or [], list):
                raise ValidationError(f"{kind} {row.get('key')}: groups must be a list")


@bp.post("/org/upload")
@login_required("admin")
def upload() -> Any:
    def build() -> ImportOrg:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise at_field("file", gettext("请选择一个 YAML 或 CSV 文件。"))
        name = upload.filename
        if not name.lower().endswith((".yaml", ".yml", ".csv")):
            raise at_field("file", gettext("只接受 .yaml、.yml 或 .csv 文件。"))
        content = upload.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise at_field("file", gettext("文件过大（最多 512 KB）。"))
        try:
            doc = parse_org_file(name, content)
        except UnicodeDecodeError:
            raise at_field("file", gettext("文件不是 UTF-8 编码。")) from None
        except csv.Error as exc:
            raise at_field("file", f"{name}: {exc}") from None
        _check_shape(doc)
        return _Import(doc)

    return _act(_org, "upload", build, gettext("组织架构已导入。"), "file", _org_back)


def _entry_form(kind: str, key: str) -> str:
    """The form that sent an org edit: the row's own, or the "add" form (``new=1``)."""
    return f"{kind}-new" if request.form.get("new") or not key else f"{kind}-{key}"


@bp.post("/org/people")
@login_required("admin")
def save_person() -> Any:
    key = (request.form.get("key") or "").strip()

    def build() -> SavePerson:
        return SavePerson(
            _text("key"), _text("name"), _text("department", required=False) or None,
            _text("superior", required=False) or None, request.form.getlist("groups"),
            _text("email", 200, required=False), _text("phone", 50, required=False),
            _text("locale", 10, required=False) or None,
        )  # fmt: skip

    done = gettext("人员 %(key)s 已保存。", key=key)
    return _act(_org, _entry_form("person", key), build, done, "key", _org_back)


@bp.post("/org/departments")
@login_required("admin")
def save_department() -> Any:
    key = (request.form.get("key") or "").strip()

    def build() -> SaveDepartment:
        return SaveDepartment(
            _text("key"), _text("name"), _text("parent", required=False) or None,
            _text("head", required=False) or None,
        )  # fmt: skip

    done = gettext("部门 %(key)s 已保存。", key=key)
    return _act(_org, _entry_form("department", key), build, done, "key", _org_back)


@bp.post("/org/groups")
@login_required("admin")
def save_group() -> Any:
    key = (request.form.get("key") or "").strip()

    def build() -> SaveGroup:
        return SaveGroup(_text("key"), _text("name"), _text("department", required=False) or None)

    done = gettext("用户组 %(key)s 已保存。", key=key)
    return _act(_org, _entry_form("group", key), build, done, "key", _org_back)


def _roles() -> list[str]:
    chosen = request.form.getlist("roles")
    if not chosen:
        raise at_field("roles", gettext("至少选择一个角色。"))
    return chosen


@bp.post("/accounts")
@login_required("admin")
def create_account() -> Any:
    def build() -> Any:
        person = _text("person")
        roles = _roles()
        password = request.form.get("password") or None
        return account_commands.CreateAccount(person, roles, password)

    return _act(_org, "account", build, gettext("账号已创建。"), "person", _org_back)


@bp.post("/accounts/<person>/roles")
@login_required("admin")
def set_roles(person: str) -> Any:
    def build() -> Any:
        return account_commands.SetRoles(person, _roles())

    return _act(_org, f"roles-{person}", build, gettext("角色已更新。"), "roles", _org_back)


@bp.post("/accounts/<person>/active")
@login_required("admin")
def set_active(person: str) -> Any:
    active = _flag("active")
    done = gettext("账号已启用。") if active else gettext("账号已停用。")

    def build() -> Any:
        if active is None:
            # Anything but a clear yes or no changes nothing: "maybe" must not disable.
            raise at_field("active", gettext("应为 1（启用）或 0（停用）。"))
        if person == g.user.key and not active:
            raise at_field("active", gettext("不能停用自己的账号。"))
        return account_commands.SetAccountActive(person, active)

    return _act(_org, f"active-{person}", build, done, "active", _org_back)


@bp.post("/absences")
@login_required("admin")
def declare_absence() -> Any:
    def build() -> Any:
        person, deputy = _text("person"), _text("deputy")
        starts, ends = _day("from"), _day("to")
        if ends < starts:
            raise at_field("to", gettext("结束日期早于开始日期。"))
        if person == deputy:
            raise at_field("deputy", gettext("代理人不能是本人。"))
        reason = _text("reason", 500, required=False)
        return absence_commands.DeclareAbsence(person, deputy, starts, ends, reason)

    return _act(_org, "absence", build, gettext("休假委托已登记。"), "person", _org_back)


@bp.post("/absences/<int:absence_id>/cancel")
@login_required("admin")
def cancel_absence(absence_id: int) -> Any:
    def build() -> Any:
        return absence_commands.CancelAbsence(absence_id)

    return _act(_org, f"cancel-{absence_id}", build, gettext("休假委托已取消。"), None, _org_back)


@bp.post("/reassign")
@login_required("admin")
def reassign() -> Any:
    def build() -> Any:
        holder = _text("holder")
        to = _text("to", required=False) or None
        if to == holder:
            raise at_field("to", gettext("不能移交给本人。"))
        return absence_commands.ReassignAll(holder, to)

    return _act(_org, "reassign", build, gettext("工作已移交。"), "to", _org_back)


# --- calendars ------------------------------------------------------------------------------


def _calendar_back() -> str:
    year = _year((request.form.get("day") or "")[:4])
    return url_for("admin.calendars", calendar=request.form.get("calendar") or DEFAULT_NAME,
                   year=year)  # fmt: skip


@bp.get("/calendars")
@login_required("admin")
def calendars() -> Any:
    return _calendars()


@bp.post("/calendars/override")
@login_required("admin")
def add_override() -> Any:
    def build() -> Any:
        calendar = _text("calendar") if request.form.get("calendar") else DEFAULT_NAME
        day = _day("day")
        kind = request.form.get("kind") or ""
        if kind not in ("workday", "holiday"):
            raise at_field("kind", gettext("请选择工作日或休息日。"))
        note = _text("note", 200, required=False)
        return OverrideDay(day, kind, note, calendar)

    return _act(_calendars, "override", build, gettext("已设置调整。"), "day", _calendar_back)


@bp.post("/calendars/clear")
@login_required("admin")
def clear_override() -> Any:
    def build() -> Any:
        calendar = _text("calendar") if request.form.get("calendar") else DEFAULT_NAME
        return RemoveOverride(_day("day"), calendar)

    return _act(_calendars, "clear", build, gettext("已清除调整。"), "day", _calendar_back)


# --- SLA standards --------------------------------------------------------------------------


@bp.get("/sla")
@login_required("admin")
def sla() -> Any:
    return _sla()


@bp.post("/sla")
@login_required("admin")
def set_standard() -> Any:
    def build() -> Any:
        process, step, limit = _text("process"), _text("step"), _text("limit")
        kind = request.form.get("kind") or "basic"
        if kind not in ("basic", "temporary"):
            raise at_field("kind", gettext("请选择基本标准或临时标准。"))
        raw = (request.form.get("warnings") or "").replace("；", ";").replace(",", ";")
        warnings = [w.strip() for w in raw.split(";") if w.strip()]
        on_deadline = request.form.get("on_deadline") or "notify"
        if on_deadline not in DEADLINE_ACTIONS:
            raise at_field("on_deadline", gettext("请选择到期动作。"))
        # The column is a plain Integer: 32 bits on PostgreSQL.
        low, high = -converters.INT32, converters.INT32
        priority = whole_number(request.form.get("priority") or "0", low, high)
        if priority is None:
            message = gettext("应为 %(low)s 到 %(high)s 之间的整数。", low=low, high=high)
            raise at_field("priority", message)
        valid_from, valid_to = _instant("valid_from"), _instant("valid_to")
        if kind == "basic" and (valid_from or valid_to or request.form.get("condition")):
            raise at_field("kind", gettext("有效期或条件只用于临时标准。"))
        if kind == "temporary" and not (valid_from or valid_to or request.form.get("condition")):
            raise at_field("valid_from", gettext("临时标准需要有效期或条件。"))
        if valid_from and valid_to and valid_to <= valid_from:
            raise at_field("valid_to", gettext("结束早于开始。"))
        try:
            return SetStandard(
                process, step, limit, kind=kind, label=_text("label", 200, required=False),
                warnings=warnings, on_deadline=on_deadline,
                calendar=_text("calendar", required=False) or None,
                valid_from=valid_from, valid_to=valid_to,
                condition=_text("condition", 2000, required=False) or None, priority=priority,
            )  # fmt: skip
        except CaseClockError as exc:
            if exc.details.get("fields"):
                raise
            # The engine checks the limit, the warnings and the condition.
            message = exc.message
            where = "condition" if "condition" in message.lower() or "expression" in message else (
                "warnings" if "warning" in message.lower() else "limit")  # fmt: skip
            raise at_field(where, message) from None

    return _act(_sla, "standard", build, gettext("时限标准已保存。"), "limit",
                lambda: url_for("admin.sla"))  # fmt: skip


@bp.post("/sla/<int:standard_id>/retire")
@login_required("admin")
def retire_standard(standard_id: int) -> Any:
    return _act(_sla, f"retire-{standard_id}", lambda: RetireStandard(standard_id),
                gettext("时限标准已停用。"), None, lambda: url_for("admin.sla"))  # fmt: skip


# --- incidents ------------------------------------------------------------------------------


@bp.get("/incidents")
@login_required("admin")
def incidents() -> Any:
    return _incidents()


@bp.post("/incidents/<int:timer_id>/retry")
@login_required("admin")
def retry(timer_id: int) -> Any:
    return _act(_incidents, f"incident-{timer_id}", lambda: RetryTimer(timer_id),
                gettext("已安排立即重试。"), None, lambda: url_for("admin.incidents"))  # fmt: skip


@bp.post("/incidents/<int:timer_id>/skip")
@login_required("admin")
def skip(timer_id: int) -> Any:
    def build() -> Any:
        return SkipTimer(timer_id, _text("note", 500, required=False))

    return _act(_incidents, f"incident-{timer_id}", build, gettext("已跳过该定时器。"), None,
                lambda: url_for("admin.incidents"))  # fmt: skip


@bp.post("/incidents/deliveries/<int:message_id>/retry")
@login_required("admin")
def retry_delivery(message_id: int) -> Any:
    return _act(_incidents, f"delivery-{message_id}", lambda: RetryDelivery(message_id),
                gettext("已安排立即重新发送。"), None,
                lambda: url_for("admin.incidents"))  # fmt: skip


@bp.post("/incidents/deliveries/<int:message_id>/drop")
@login_required("admin")
def drop_delivery(message_id: int) -> Any:
    def build() -> Any:
        return DropDelivery(message_id, _text("note", 500, required=False))

    return _act(_incidents, f"delivery-{message_id}", build, gettext("已放弃发送该通知。"), None,
                lambda: url_for("admin.incidents"))  # fmt: skip


# --- notices --------------------------------------------------------------------------------


@bp.get("/notices")
@login_required("admin")
def notices() -> Any:
    return _notices()


def _notices(
    errors: dict[str, str] | None = None,
    status: int = 200,
    failed: str | None = None,
    previewed: Notice | None = None,
) -> Any:
    from timers.sender import SenderConfig

    config = SenderConfig.from_env()
    app = engine()
    view = app.read(lambda s: admin_views.notices(s, app.services.timezone))
    return _page(
        "notices", errors, status, failed, templates=view["templates"],
        smtp_host=config.smtp_host, smtp_from=config.smtp_from,
        sms=config.sms_webhook_url is not None, drop_dir=config.drop_dir,
        webhooks=view["webhooks"], previewed=previewed,
    )  # fmt: skip


def _template_form(kind: str, locale: str) -> str:
    """The form of one template on the page; an unknown one has no page to go back to."""
    try:
        check_template(kind, locale)
    except ValidationError:
        abort(404)
    return f"template-{kind}-{locale}"


@bp.post("/notices/<kind>/<locale>")
@login_required("admin")
def set_template(kind: str, locale: str) -> Any:
    """Save the template, or with ``action=preview`` show it filled with sample values.

    The form's fields are named as :func:`engine.notice_templates.fields` says: subject
    and body, a debtor notice's subject alone, or a debtor part's heading and text."""
    form = _template_form(kind, locale)
    first, second = fields(kind)
    subject = request.form.get(first) or ""
    body = (request.form.get(second) or "") if second else ""
    if request.form.get("action") == "preview":
        try:
            shown = preview(kind, locale, subject, body)
        except ValidationError as exc:
            return _notices(refusal(exc, form, _text_field(kind)), exc.http_status, form)
        return _notices(failed=form, previewed=shown)
    return _act(_notices, form, lambda: SetNoticeTemplate(kind, locale, subject, body),
                gettext("通知模板已保存。"), _text_field(kind),
                lambda: url_for("admin.notices", _anchor=form))  # fmt: skip


@bp.post("/notices/<kind>/<locale>/reset")
@login_required("admin")
def reset_template(kind: str, locale: str) -> Any:
    form = _template_form(kind, locale)
    return _act(_notices, form, lambda: ResetNoticeTemplate(kind, locale),
                gettext("已恢复默认模板。"), _text_field(kind),
                lambda: url_for("admin.notices", _anchor=form))  # fmt: skip


def _text_field(kind: str) -> str:
    """The form field an error about the whole wording is shown at: the text, if any."""
    first, second = fields(kind)
    return second or first


# --- send log -------------------------------------------------------------------------------


@bp.get("/outbox")
@login_required("admin")
def outbox() -> Any:
    app = engine()
    choices = {"statuses": notice_log.STATUSES, "channels": CHANNELS, "limit": notice_log.LIMIT}
    try:
        chosen = notice_log.parse(request.args)
    except ValidationError as exc:  # said at the filter's fields, not in the message area too
        return _page("outbox", exc.details["fields"], 422, None, rows=None, args=request.args,
                     **choices)  # fmt: skip
    rows = app.read(lambda s: notice_log.notices(s, app.services.timezone, chosen))
    return _page("outbox", None, 200, None, rows=rows, args=chosen.args(), **choices)
