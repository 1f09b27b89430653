"""Debt collection (催收): the aging analysis, risk grades, receivables and the CSV import.

Who sees what (``docs/collection.md``, "Web pages and API"): the reports (aging, grades
and their exports) are for supervisors, auditors and admins; the receivables for staff
(their own as collector, and those whose collection case they work on), supervisors
(their departments and team), auditors and admins (all, read-only); payments and
promises are recorded by staff and supervisors on the receivables they see; the CSV
import is for admins and supervisors. The helpers here are shared with the JSON API
(:mod:`webapp.api_collection`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any, TypeVar

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import exports, inputs
from engine.accounts import Principal
from engine.app import CaseClock
from engine.calendars import parse_day
from engine.collection import aging, listing, risk
from engine.collection.grading import GRADES
from engine.collection.importing import export_rows, parse_csv, to_csv
from engine.collection.money import format_amount, from_minor, parse_amount
from engine.collection.promises import RecordPromise
from engine.collection.receivables import ImportReceivables, ImportReport, RecordPayment
from engine.errors import Conflict, Forbidden, NotFound, ValidationError, at_field
from engine.store.collection_tables import PRODUCTS, Receivable
from engine.store.ladder_tables import CollectionCase

from . import access, charts
from .access import today
from .actions import text_of
from .filters import GRADES as GRADE_NAMES
from .filters import label
from .i18n import gettext, lazy_gettext
from .names import department_names, person_names
from .refusals import refusal
from .security import engine, login_required

T = TypeVar("T")

bp = Blueprint("collection", __name__, url_prefix="/collection")

REPORTS = ("supervisor", "auditor", "admin")  # aging, grades and their exports
READERS = ("staff", "supervisor", "auditor", "admin")  # receivables (scoped, see listing)
ACTORS = ("staff", "supervisor")  # record payments and promises
IMPORTERS = ("supervisor", "admin")
GROUP_BY = ("product", "department", "collector")
ACTIONS = ("payments", "promises")
FEES = ("daily",)  # a receivable page's ``?fees=``: left out, the total alone (as the API's)
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PRODUCT_NAMES = {
    "loan": lazy_gettext("贷款"),
    "credit_card": lazy_gettext("信用卡"),
    "trade_receivable": lazy_gettext("贸易应收款"),
}
DONE = {"payments": lazy_gettext("还款已记录。"), "promises": lazy_gettext("还款承诺已记录。")}


def product_name(key: str | None) -> str:
    return str(PRODUCT_NAMES[key]) if key in PRODUCT_NAMES else (key or "–")


@bp.context_processor
def names() -> dict[str, Any]:
    return {"product_name": product_name}


def org_names(app: CaseClock, people: set[str | None],
              departments: set[str | None]) -> dict[str, dict[str, str]]:  # fmt: skip
    """The names of the people and departments a page shows by key (collector, recorder,
    department): ``{"people": {key: name}, "departments": {key: name}}``. The engine and
    the API keep the keys; a page shows the name with the key beside it."""

    def load(s: Session) -> dict[str, dict[str, str]]:
        return {"people": person_names(s, people),
                "departments": department_names(s, departments)}  # fmt: skip

    return app.read(load)


def _given(values: Mapping[str, Any], field: str, message: str) -> str:
    """The field's trimmed text. A JSON value that is not text (``"on": 20260305``) is
    refused at the field with ``message``: read as missing, it was replaced by a default."""
    value = values.get(field)
    if value is not None and not isinstance(value, str):
        raise at_field(field, message)
    return text_of(values, field)


def _day(values: Mapping[str, Any], field: str, default: date | None = None) -> date:
    text = _given(values, field, gettext('日期请写成文本 YYYY-MM-DD，例如 "2026-03-05"。'))
    if not text:
        if default is None:
            raise at_field(field, gettext("必填。"))
        return default
    try:
        day = parse_day(text)
    except ValidationError:
        raise at_field(field, gettext("日期格式应为 YYYY-MM-DD。")) from None
    if not inputs.in_range(day):
        # The engine's range for collection days: year 1 overflowed its date arithmetic.
        raise at_field(field, gettext("年份应在 %(a)s 到 %(b)s 之间。", a=inputs.FIRST_YEAR,
                                      b=inputs.LAST_YEAR))  # fmt: skip
    return day


# --- the reports (shared with the API) ------------------------------------------------------


def aging_report(app: CaseClock, user: Principal, args: Mapping[str, Any]) -> aging.AgingReport:
    """The aging of the receivables ``user`` may see, as of ``as_of`` (default today),
    grouped ``by`` a column or not, with the ``buckets`` edges given (default the
    engine's 30,60,90)."""
    as_of = _day(args, "as_of", today(app))
    by = text_of(args, "by") or None
    if by is not None and by not in GROUP_BY:
        raise at_field("by", gettext("按产品、部门或催收员分组。"))
    edges = aging.DEFAULT_EDGES
    if text_of(args, "buckets"):
        try:  # the engine bounds them: at most 12 edges, each 1 to 3650 days
            edges = aging.parse_edges(text_of(args, "buckets"))
            aging.buckets(edges)
        except ValidationError as exc:
            raise at_field("buckets", exc.message) from None
    return app.read(
        lambda s: aging.aging(
            s, as_of, by=by, edges=edges,  # type: ignore[arg-type]
            within=listing.scope_of(s, user).condition(),
        )
    )  # fmt: skip


def grade_report(app: CaseClock, user: Principal, args: Mapping[str, Any]) -> risk.GradeSummary:
    """The grade distribution of the receivables ``user`` may see on ``from`` and ``to``
    (default: 30 days ago and today) and the migration matrix between them."""
    last = _day(args, "to", today(app))
    first = _day(args, "from", last - timedelta(days=30))
    if last < first:
        raise at_field("to", gettext("结束日期不能早于开始日期。"))
    return app.read(
        lambda s: risk.grade_summary(s, first, last, listing.scope_of(s, user).condition())
    )


def aging_export(report: aging.AgingReport, fmt: str) -> tuple[bytes | str, str]:
    """The aging rows as ``caseclock report aging`` writes them; (body, file name)."""
    rows = report.rows()
    columns = list(rows[0])
    name = f"aging-{report.as_of}{'-' + report.by if report.by else ''}.{fmt}"
    if fmt == "csv":
        return exports.rows_to_csv(rows, columns), name
    title = f"aging {report.as_of}"
    return exports.to_xlsx({title: rows}, {title: columns}, aging.XLSX_FORMATS), name


def grades_export(summary: risk.GradeSummary, fmt: str) -> tuple[bytes | str, str]:
    tables = summary.rows()
    columns = exports.columns_of(tables)
    name = f"grades-{summary.first}-{summary.last}.{fmt}"
    if fmt == "csv":
        return exports.to_csv(tables, columns), name
    return exports.to_xlsx(tables, columns), name


def download(body: bytes | str, name: str, fmt: str) -> Response:
    # content_type, not mimetype: werkzeug appends a charset to a text/* mimetype, and
    # MEDIA's already has one (the header said "charset=utf-8; charset=utf-8").
    return Response(body, content_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


# --- receivables (shared with the API) ----------------------------------------------------


def receivables(app: CaseClock, user: Principal, args: Mapping[str, Any]) -> dict[str, Any]:
    chosen = listing.parse_filter(args)
    as_of = today(app)
    return app.read(
        lambda s: listing.receivable_page(s, as_of, chosen, listing.scope_of(s, user))
    ) | {"filter": chosen.args()}


def visible_receivable(app: CaseClock, session: Session, key: str, user: Principal) -> Receivable:
    """The receivable if ``user`` may see it: by the portfolio's scope
    (:func:`engine.collection.listing.visible_receivable`), or because they work on its
    collection case (a step of it is theirs or offered to their group, as
    :func:`webapp.access.visible_case` reads it): a pool collector taking the call, or
    the legal team taking the referral, needs the debt the step is about."""
    try:
        return listing.visible_receivable(session, key, user)
    except Forbidden:
        case = session.scalars(
            select(CollectionCase.instance_id)
            .join(Receivable, Receivable.id == CollectionCase.receivable_id)
            .where(Receivable.key == key)
        ).first()
        if case is None or not _works_on(app, session, case, user):
            raise  # the receivable's refusal, not the case's
        return session.scalars(select(Receivable).where(Receivable.key == key)).one()


def _works_on(app: CaseClock, session: Session, instance_id: int, user: Principal) -> bool:
    try:
        access.visible_case(session, instance_id, user, app.services.org.snapshot(session),
                            today(app))  # fmt: skip
    except Forbidden:
        return False
    return True


def receivable(app: CaseClock, user: Principal, key: str, daily: bool = False) -> dict[str, Any]:
    def load(s: Session) -> dict[str, Any]:
        visible_receivable(app, s, key, user)
        return listing.receivable_detail(s, key, today(app), app.services.timezone, daily)

    return app.read(load)


def record(app: CaseClock, user: Principal, key: str, action: str,
           values: Mapping[str, Any]) -> Any:  # fmt: skip
    """Record a payment or a promise to pay on a receivable the user sees; bad input is a
    :class:`ValidationError` naming the field (``amount``, ``on``, ``reference``)."""
    if action not in ACTIONS:
        raise NotFound(f"no action {action!r}; actions are {', '.join(ACTIONS)}")
    if not user.has(*ACTORS):
        raise Forbidden(f"{user.key} lacks the role {' or '.join(ACTORS)}")
    currency = app.read(lambda s: visible_receivable(app, s, key, user).currency)
    fields: dict[str, str] = {}  # every bad field at once, as the form shows them

    def checked(field: str, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except ValidationError as exc:
            fields[field] = (exc.details.get("fields") or {}).get(field, exc.message)
            return None

    amount = checked("amount", lambda: _amount(values, currency))
    reference = checked("reference", lambda: _reference(values))
    default = today(app) if action == "payments" else None
    on = checked("on", lambda: _day(values, "on", default))
    if fields:
        raise ValidationError("; ".join(fields.values()), details={"fields": fields})
    assert amount is not None and on is not None
    if action == "payments":
        command: Any = RecordPayment(key, amount, on, reference)
    else:
        command = RecordPromise(key, amount, on)
    return app.execute(command, actor=user.key)


def _amount(values: Mapping[str, Any], currency: str) -> str:
    amount = _given(values, "amount", gettext('金额请写成文本，例如 "500.00"。'))
    if not amount:
        raise at_field("amount", gettext("必填。"))
    try:
        parse_amount(amount, currency)
    except ValidationError as exc:
        raise at_field("amount", exc.message) from None
    return amount


def _reference(values: Mapping[str, Any]) -> str | None:
    reference = _given(values, "reference", gettext("请写成文本。")) or None
    if reference is not None and len(reference) > 100:
        raise at_field("reference", gettext("最多 %(n)s 个字符。", n=100))
    return reference


def import_csv(app: CaseClock, user: Principal, text: str, source: str) -> ImportReport:
    """The engine's import: good rows written, every row reported by its line number."""
    if not user.has(*IMPORTERS):
        raise Forbidden(f"{user.key} lacks the role {' or '.join(IMPORTERS)}")
    try:
        rows = parse_csv(text)
    except ValidationError as exc:
        raise at_field("file", exc.message) from None
    if not rows:
        raise at_field("file", gettext("文件中没有数据行。"))
    return app.execute(ImportReceivables(rows, source), actor=user.key)


def import_result(report: ImportReport) -> dict[str, Any]:
    return {
        "written": report.written,
        "failed": len(report.failed),
        "rows": [{"line": r.line, "key": r.key, "ok": r.ok, "error": r.error}
                 for r in report.rows],
    }  # fmt: skip


def decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise at_field("file", gettext("文件不是 UTF-8 编码。")) from None


def export_csv(app: CaseClock, user: Principal) -> str:
    """The receivables the user sees, in the import format (an export imports again)."""

    def load(s: Any) -> str:
        scope = listing.scope_of(s, user)
        if scope.everything:
            return to_csv(export_rows(s))
        keys = set(listing.visible_keys(s, scope))
        return to_csv(r for r in export_rows(s) if r["receivable_key"] in keys)

    return app.read(load)


# --- pages ------------------------------------------------------------------------------------


@bp.get("")
@login_required(*READERS)
def index() -> Any:
    if g.user.has(*REPORTS):
        return redirect(url_for("collection.aging_page"))
    return redirect(url_for("collection.receivable_list"))


def _bucket_name(label: str) -> str:
    return gettext("未逾期") if label == "current" else gettext("逾期 %(d)s 天", d=label)


def _group_name(report: aging.AgingReport, group: str | None,
                names: dict[str, dict[str, str]]) -> str:  # fmt: skip
    """A group of the aging by its name: a product's, a department's or a collector's."""
    if report.by == "product":
        return product_name(group)
    found = names["departments" if report.by == "department" else "people"]
    return found.get(group or "", group or "–")


def _aging_names(app: CaseClock, report: aging.AgingReport) -> dict[str, dict[str, str]]:
    keys = {group.group for group in report.groups}
    if report.by == "department":
        return org_names(app, set(), keys)
    return org_names(app, keys if report.by == "collector" else set(), set())


def _aging_charts(report: aging.AgingReport,
                  names: dict[str, dict[str, str]]) -> dict[str, charts.Chart]:  # fmt: skip
    """Outstanding per bucket (all groups), and the overdue rate per group."""
    money = report.currency
    cells = report.total.cells if report.total else {}
    return {
        "by_bucket": charts.bars(
            (_bucket_name(label), float(from_minor(c.outstanding_minor, money)),
             f"{format_amount(c.outstanding_minor, money)} ({c.count})")
            for label, c in cells.items()
        ),
        "by_group": charts.bars(
            (_group_name(report, group.group, names), float(group.overdue_rate),
             f"{group.overdue_rate:.2%}")
            for group in report.groups
        ),
    }  # fmt: skip


@bp.get("/aging")
@login_required(*REPORTS)
def aging_page() -> Any:
    app = engine()
    try:
        report = aging_report(app, g.user, request.args)
    except ValidationError as exc:  # said at the filter's fields, not in the message area too
        return render_template("collection/aging.html", report=None, args=request.args,
                               errors=exc.details.get("fields", {}), charts={}), 422  # fmt: skip
    args = {k: v for k, v in (("as_of", report.as_of.isoformat()), ("by", report.by or ""),
                              ("buckets", text_of(request.args, "buckets"))) if v}  # fmt: skip
    names = _aging_names(app, report)
    return render_template("collection/aging.html", report=report, args=args, errors={},
                           charts=_aging_charts(report, names), bucket_name=_bucket_name,
                           names=names)  # fmt: skip


@bp.get("/aging/export.<fmt>")
@login_required(*REPORTS)
def aging_download(fmt: str) -> Any:
    if fmt not in MEDIA:
        raise NotFound(f"no export format {fmt!r}; csv or xlsx")
    return download(*aging_export(aging_report(engine(), g.user, request.args), fmt), fmt)


@bp.get("/grades")
@login_required(*REPORTS)
def grades_page() -> Any:
    app = engine()
    try:
        summary = grade_report(app, g.user, request.args)
    except ValidationError as exc:  # said at the filter's fields only
        return render_template("collection/grades.html", summary=None, args=request.args,
                               errors=exc.details.get("fields", {})), 422  # fmt: skip
    dist = summary.distribution
    chart = charts.bars(
        (label(GRADE_NAMES, grade), dist["to"][grade], str(dist["to"][grade])) for grade in GRADES
    )
    return render_template(
        "collection/grades.html", summary=summary, errors={}, grade_chart=chart, grades=GRADES,
        rows=summary.rows(), args={"from": summary.first.isoformat(),
                                   "to": summary.last.isoformat()},
    )  # fmt: skip


@bp.get("/grades/export.<fmt>")
@login_required(*REPORTS)
def grades_download(fmt: str) -> Any:
    if fmt not in MEDIA:
        raise NotFound(f"no export format {fmt!r}; csv or xlsx")
    return download(*grades_export(grade_report(engine(), g.user, request.args), fmt), fmt)


@bp.get("/receivables")
@login_required(*READERS)
def receivable_list() -> Any:
    try:
        view = receivables(engine(), g.user, request.args)
    except ValidationError as exc:  # said at the filter's fields only
        return render_template("collection/receivables.html", view=None, args=request.args,
                               errors=exc.details.get("fields", {}), products=PRODUCTS,
                               grades=GRADES), 422  # fmt: skip
    rows = view["rows"]
    names = org_names(engine(), {r["collector"] for r in rows}, {r["department"] for r in rows})
    return render_template("collection/receivables.html", view=view, args=view["filter"],
                           errors={}, products=PRODUCTS, grades=GRADES,
                           names=names)  # fmt: skip


def _receivable_page(key: str, errors: dict[str, str] | None = None,
                     typed: Mapping[str, Any] | None = None, status: int = 200) -> Any:  # fmt: skip
    fees = text_of(request.args, "fees")
    daily = fees == "daily"
    if fees and fees not in FEES:
        # Read as the default, a misspelt option would answer another question than the
        # one asked (the API refuses it with a 422): the total is shown, saying why.
        flash(gettext("没有 fees=%(value)s 这种罚息显示方式，下面显示的是罚息合计；按日明细请用 "
                      "fees=daily。", value=fees[:40]), "error")  # fmt: skip
        status = 422
    app = engine()
    detail = receivable(app, g.user, key, daily)
    return render_template("collection/receivable.html", r=detail, daily=daily,
                           errors=errors or {}, typed=typed or {}, failed=(typed or {})
                           .get("form"), can_act=g.user.has(*ACTORS),
                           names=org_names(app, _people_of(detail), {detail["department"]}),
                           ), status  # fmt: skip


def _people_of(detail: Mapping[str, Any]) -> set[str | None]:
    """Whom a receivable page names: its collector and who recorded or decided what."""
    return {detail["collector"],
            *(p["recorded_by"] for p in detail["payments"]),
            *(p["recorded_by"] for p in detail["promises"]),
            *(m["requested_by"] for m in detail["remedies"]),
            *(m["decided_by"] for m in detail["remedies"])}  # fmt: skip


@bp.get("/receivables/<key>")
@login_required(*READERS)
def receivable_page(key: str) -> Any:
    return _receivable_page(key)


@bp.post("/receivables/<key>/<action>")
@login_required(*ACTORS)
def act(key: str, action: str) -> Any:
    try:
        record(engine(), g.user, key, action, request.form)
    except (ValidationError, Conflict) as exc:
        # Said once, in the form that was sent (both are offered to whoever may post).
        typed = {**request.form.to_dict(), "form": action}
        return _receivable_page(key, refusal(exc, action, "amount"), typed, exc.http_status)
    flash(str(DONE[action]), "info")
    return redirect(url_for("collection.receivable_page", key=key), 303)


@bp.get("/import")
@login_required(*IMPORTERS)
def import_page() -> Any:
    return render_template("collection/import.html", result=None, errors={})


@bp.post("/import")
@login_required(*IMPORTERS)
def import_upload() -> Any:
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise at_field("file", gettext("请选择一个 CSV 文件。"))
        # The app's MAX_CONTENT_LENGTH (1 MB) bounds the upload: a larger one is a 413.
        report = import_csv(engine(), g.user, decode(upload.read()), upload.filename)
    except ValidationError as exc:  # said at the file field only
        return render_template("collection/import.html", result=None,
                               errors=exc.details.get("fields", {})), 422  # fmt: skip
    # The report on the page says how many rows were written and why each other one was
    # refused: not again in the message area.
    result = import_result(report)
    return render_template("collection/import.html", result=result, errors={}), (
        422 if result["failed"] else 200
    )
