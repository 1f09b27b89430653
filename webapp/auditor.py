"""Auditors (审计): the accountability ledger (追责台账) — breaches filtered by period,
department, person, step and exemption, each with its snapshot; the audit chain's
verification; exports (CSV, XLSX) of the ledger and of the accountability report."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from engine import accountability
from engine.errors import NotFound, ValidationError

from . import charts, ledger_view
from .security import engine, login_required

bp = Blueprint("auditor", __name__)

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _filter() -> ledger_view.LedgerFilter:
    app = engine()
    return ledger_view.parse(request.args, app.services.timezone, app.clock.now())


@bp.get("/ledger")
@login_required("auditor")
def ledger() -> Any:
    app = engine()
    tz = app.services.timezone
    try:
        chosen = _filter()

        def load(s: Any) -> dict[str, Any]:
            found = ledger_view.rows(s, chosen)
            report = ledger_view.report(s, chosen)
            snapshots = ledger_view.snapshots(s, [r["breach_event_id"] for r in found], tz)
            return {
                "rows": found, "report": report, "chain": ledger_view.chain_status(s),
                "snapshots": snapshots, "names": ledger_view.names_in(s, snapshots),
                "departments": ledger_view.departments(s),
            }  # fmt: skip

        view = app.read(load)
    except ValidationError as exc:  # said at the filter's fields, not in the message area too
        fields = exc.details.get("fields") or {"from": exc.message}
        departments = app.read(ledger_view.departments)
        return render_template("auditor/ledger.html", errors=fields, args=request.args,
                               view=None, departments=departments), 422  # fmt: skip
    report = view["report"]
    return render_template(
        "auditor/ledger.html", view=view, errors={}, args=chosen.args(),
        departments=view["departments"],
        on_time=charts.bars(
            ((d["name"] or d["department"] or "–", d["on_time_rate"] or 0.0,
              f"{d['on_time_rate']:.0%}" if d["on_time_rate"] is not None else "–")
             for d in report["by_department"]), scale=1.0, rate=True),
        lateness=charts.bars(
            (f"{p['name'] or p['person']}", p["charged_late_hours"] or 0.0,
             f"{p['charged_late_hours'] or 0:g} h") for p in report["by_person"]),
    )  # fmt: skip


@bp.get("/ledger/export/<which>.<fmt>")
@login_required("auditor")
def export(which: str, fmt: str) -> Any:
    if which not in ("ledger", "report") or fmt not in MEDIA:
        raise NotFound(f"no export {which}.{fmt}")
    chosen = _filter()

    def load(s: Any) -> dict[str, list[dict[str, Any]]]:
        if which == "ledger":
            return {"ledger": ledger_view.rows(s, chosen)}
        return accountability.tables_of(ledger_view.report(s, chosen))

    tables = engine().read(load)
    body = accountability.to_csv(tables) if fmt == "csv" else accountability.to_xlsx(tables)
    name = f"{which}-{chosen.period.first}-{chosen.period.last}.{fmt}"
    return Response(body, content_type=MEDIA[fmt],  # as given: mimetype= doubles the charset
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
