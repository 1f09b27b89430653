"""``caseclock report …``: the auditors' and managers' reports.

``report accountability`` and ``report ledger`` render what
:mod:`engine.accountability` computes: a text table per section on the terminal, or
``--format csv|xlsx|json`` (to ``--out FILE`` or standard output; XLSX needs ``--out``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from engine import accountability as acct
from engine import exports
from engine.calendars import parse_day
from engine.collection import risk
from engine.errors import ValidationError

from . import app_of, main, output

FORMATS = click.Choice(["text", "csv", "xlsx", "json"])


@main.group()
def report() -> None:
    """Reports: accountability (追责) and receivables aging (账龄)."""


def _period_options(command: Any) -> Any:
    command = click.option("--department", help="Only this department and those below it.")(command)
    command = click.option("--out", type=click.Path(dir_okay=False), help="Write to a file.")(
        command
    )
    command = click.option("--format", "fmt", type=FORMATS, default=None,
                           help="text (default), csv, xlsx or json.")(command)  # fmt: skip
    command = click.option("--to", "date_to", required=True, help="Last day, YYYY-MM-DD.")(command)
    return click.option("--from", "date_from", required=True, help="First day, YYYY-MM-DD.")(
        command
    )


@report.command("accountability")
@_period_options
@click.pass_context
def accountability_report(
    ctx: click.Context,
    date_from: str,
    date_to: str,
    department: str | None,
    fmt: str | None,
    out: str | None,
) -> None:
    """Breaches charged per person, department and step; on-time rate; lateness; shared
    lateness; exemptions (see docs/accountability.md)."""
    app = app_of(ctx)
    period = acct.parse_period(date_from, date_to, app.services.timezone)
    data = app.read(lambda s: acct.accountability(s, period, department))
    _render(ctx, data, acct.tables_of(data), fmt, out)


@report.command("ledger")
@_period_options
@click.pass_context
def ledger_report(
    ctx: click.Context,
    date_from: str,
    date_to: str,
    department: str | None,
    fmt: str | None,
    out: str | None,
) -> None:
    """The ledger export: one row per breach entry with final lateness and exemption."""
    app = app_of(ctx)
    period = acct.parse_period(date_from, date_to, app.services.timezone)
    rows = app.read(lambda s: acct.ledger_rows(s, period, department))
    data = {"report": "ledger", "period": {"from": period.first.isoformat(),
            "to": period.last.isoformat(), "timezone": str(period.zone)},
            "department": department, "ledger": rows}  # fmt: skip
    _render(ctx, data, {"ledger": rows}, fmt, out)


def _render(
    ctx: click.Context,
    data: Any,
    tables: dict[str, list[dict[str, Any]]],
    fmt: str | None,
    out: str | None,
    columns: dict[str, list[str]] | None = None,
) -> None:
    """Print or write a report: text tables (default), JSON, CSV sections or XLSX sheets."""
    columns = columns or acct.COLUMNS
    fmt = fmt or ("json" if ctx.obj.as_json else "text")
    if fmt == "xlsx":
        if out is None:
            raise ValidationError("--format xlsx needs --out FILE")
        Path(out).write_bytes(exports.to_xlsx(tables, columns))
        click.echo(f"wrote {out}")
        return
    text = {
        "json": lambda: exports.to_json(data),
        "csv": lambda: exports.to_csv(tables, columns),
        "text": lambda: _text(tables, columns),
    }[fmt]()
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")


def _text(tables: dict[str, list[dict[str, Any]]], columns: dict[str, list[str]]) -> str:
    return "\n\n".join(
        f"{name}\n{output.table(rows, list(columns[name]))}" for name, rows in tables.items()
    )


@report.command("grades")
@click.option("--from", "date_from", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "date_to", required=True, help="Last day, YYYY-MM-DD.")
@click.option(
    "--format", "fmt", type=FORMATS, default=None, help="text (default), csv, xlsx or json."
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to a file.")
@click.pass_context
def grades_report(
    ctx: click.Context, date_from: str, date_to: str, fmt: str | None, out: str | None
) -> None:
    """Risk grades (五级分类): the distribution on --from and on --to, and the migration
    matrix between them (rows: grade on --from; columns: grade on --to)."""
    first, last = parse_day(date_from), parse_day(date_to)
    summary = app_of(ctx).read(lambda s: risk.grade_summary(s, first, last))
    tables = summary.rows()
    _render(ctx, summary.to_dict(), tables, fmt, out, exports.columns_of(tables))
