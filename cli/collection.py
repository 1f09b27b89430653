"""``caseclock collection …`` and ``caseclock report aging``: receivables from the shell.

Amounts are typed and printed as exact decimals in the receivable's currency
(``1234.50``); days are ``YYYY-MM-DD`` and default to today in the organisation's zone.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import click

from engine import exports
from engine.calendars import parse_day
from engine.collection import aging as aging_report
from engine.collection import blacklist, credit, ladder, remedies
from engine.collection.contact import notice_rows
from engine.collection.customers import SetCustomerLocale
from engine.collection.daily import run_collection_day
from engine.collection.grading import grade_receivable
from engine.collection.importing import export_rows, parse_csv, to_csv
from engine.collection.ladder import Level
from engine.collection.letters import recorded_letter
from engine.collection.money import format_amount
from engine.collection.promises import RecordPromise
from engine.collection.receivables import ImportReceivables, RecordPayment, load_account, owed_dict
from engine.errors import NotFound, ValidationError

from . import app_of, emit, main
from .output import table
from .params import ID, user_option
from .reports import report

# --user is written to the audit trail as who acted (who recorded a payment, made a
# decision): a person of the organisation, or the command line itself when not given.
_USER = user_option("Who does it (a person's key; audit).")
_AS_OF = click.option("--as-of", "as_of", help="Day (YYYY-MM-DD); default today.")


@main.group("collection")
def collection() -> None:
    """Receivables (催收): import/export, payments, fees and risk grades."""


def _day(ctx: click.Context, text: str | None) -> date:
    if text:
        return parse_day(text)
    app = app_of(ctx)
    now: datetime = app.clock.now()
    return now.astimezone(app.services.timezone).date()


@collection.command("import")
@click.argument("file", type=click.Path())
@_USER
@click.pass_context
def import_(ctx: click.Context, file: str, user: str) -> None:
    """Import receivables from a CSV FILE; print a line per row; exit 1 if any failed.

    Good rows are written even when others fail; a failed row writes nothing.
    """
    path = Path(file)
    if not path.is_file():
        raise NotFound(f"no such file: {file}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{file}: not UTF-8 text (save the CSV as UTF-8)") from None
    result = app_of(ctx).execute(ImportReceivables(parse_csv(text), path.name), actor=user)
    lines = [
        f"line {r.line}: {r.key or '-'}: " + ("ok" if r.ok else f"error: {r.error}")
        for r in result.rows
    ]
    lines.append(f"{result.written} written, {len(result.failed)} failed")
    emit(
        ctx,
        {
            "written": result.written,
            "rows": [
                {"line": r.line, "key": r.key, "ok": r.ok, "error": r.error} for r in result.rows
            ],
        },
        "\n".join(lines),
    )
    if result.failed:
        sys.exit(1)


@collection.command("export")
@click.argument("file", type=click.Path())
@click.pass_context
def export(ctx: click.Context, file: str) -> None:
    """Write every receivable to FILE (`-` for stdout) in the import format."""
    text = app_of(ctx).read(lambda s: to_csv(export_rows(s)))
    count = text.count("\n") - 1
    if file == "-":
        click.echo(text, nl=False)
        return
    Path(file).write_text(text, encoding="utf-8")
    emit(ctx, {"file": file, "receivables": count}, f"{count} receivables written to {file}")


@collection.command("pay")
@click.argument("receivable")
@click.argument("amount")
@click.option("--on", "on", help="Day paid (YYYY-MM-DD); default today.")
@click.option("--reference", help="The bank's or channel's reference.")
@_USER
@click.pass_context
def pay(
    ctx: click.Context,
    receivable: str,
    amount: str,
    on: str | None,
    reference: str | None,
    user: str,
) -> None:
    """Record AMOUNT paid on RECEIVABLE and show how it was applied and what is left."""
    command = RecordPayment(receivable, amount, _day(ctx, on), reference)
    result = app_of(ctx).execute(command, actor=user)
    value = result.to_dict()
    owed = value["owed_after"]
    parts = ", ".join(
        f"{p['component']}{'' if p['instalment'] is None else ' #' + str(p['instalment'])} "
        f"{p['amount']}"
        for p in value["allocation"]
    )
    human = (
        f"{receivable}: {value['amount']} {value['currency']} paid on {value['paid_on']} → "
        f"{parts}\nstill owed: fees {owed['fees']}, interest {owed['interest']}, principal due "
        f"{owed['principal_due']}, principal outstanding {owed['principal_outstanding']}"
    )
    emit(ctx, value, human)


@collection.command("fees")
@click.argument("receivable")
@_AS_OF
@click.option("--daily", is_flag=True, help="Show the penalty day by day.")
@click.pass_context
def fees_(ctx: click.Context, receivable: str, as_of: str | None, daily: bool) -> None:
    """Late fees (penalty interest) accrued on RECEIVABLE and what is owed, as of a day."""
    day = _day(ctx, as_of)
    account = app_of(ctx).read(lambda s: load_account(s, receivable))
    money = account.currency
    accrual = account.accrual(day, daily=daily)
    owed = owed_dict(account.owed(day), money)
    terms = account.terms
    value = {
        "receivable": receivable,
        "currency": money,
        "as_of": day.isoformat(),
        "accrued": format_amount(accrual.total_minor, money),
        "capped_on": accrual.capped_on.isoformat() if accrual.capped_on else None,
        "terms": {
            "grace_days": terms.grace_days,
            "penalty_rate": str(terms.penalty_rate),
            "day_count": terms.day_count,
            "rounding": terms.rounding,
            "cap": format_amount(terms.cap_minor, money) if terms.cap_minor is not None else None,
            "allocation_order": list(terms.allocation_order),
        },
        "owed": owed,
        "days": [
            {
                "day": d.day.isoformat(),
                "base": format_amount(d.base_minor, money),
                "exact": str(d.exact),
                "amount": format_amount(d.amount_minor, money),
                "total": format_amount(d.total_minor, money),
                "capped": d.capped,
            }
            for d in accrual.days
        ],
    }
    lines = [
        f"{receivable} as of {day}: penalty accrued {value['accrued']} {money}"
        + (f" (cap reached on {value['capped_on']})" if value["capped_on"] else ""),
        f"owed: fees {owed['fees']}, interest {owed['interest']}, principal due "
        f"{owed['principal_due']}, principal outstanding {owed['principal_outstanding']}, "
        f"payoff {owed['payoff']}",
    ]
    if daily:
        lines.append(table(value["days"], ["day", "base", "exact", "amount", "total", "capped"]))
    emit(ctx, value, "\n".join(lines))


@collection.command("grade")
@click.argument("receivable")
@_AS_OF
@click.pass_context
def grade(ctx: click.Context, receivable: str, as_of: str | None) -> None:
    """The five-tier risk grade of RECEIVABLE by the deployed risk_grade DMN."""
    day = _day(ctx, as_of)
    app = app_of(ctx)
    result = app.read(lambda s: grade_receivable(s, app.services, receivable, day))
    emit(
        ctx,
        result.to_dict(),
        f"{receivable} as of {day}: {result.grade} "
        f"({result.days_past_due} days past due, {result.product})",
    )


_AGING_COLUMNS = [
    "group",
    "bucket",
    "count",
    "outstanding",
    "overdue",
    "overdue_rate",
    "default_rate",
]


@report.command("aging")
@_AS_OF
@click.option("--by", type=click.Choice(["product", "department", "collector"]))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "json"]),
    help="Default: a table, or from --out's suffix.",
)
@click.option("--out", type=click.Path(), help="Write to this file instead of stdout.")
@click.option(
    "--buckets",
    "edges",
    default="30,60,90",
    show_default=True,
    help="Bucket edges in days past due.",
)
@click.option(
    "--default-days",
    default=aging_report.DEFAULT_DAYS,
    show_default=True,
    help="Past due for more than this many days counts as default.",
)
@click.option("--currency", default="CNY", show_default=True)
@click.pass_context
def aging(
    ctx: click.Context,
    as_of: str | None,
    by: str | None,
    fmt: str | None,
    out: str | None,
    edges: str,
    default_days: int,
    currency: str,
) -> None:
    """Receivables aging (账龄) as of a day: counts and amounts per bucket, overdue and
    default rates, optionally by product, department or collector."""
    day = _day(ctx, as_of)
    bounds = aging_report.parse_edges(edges)
    result = app_of(ctx).read(
        lambda s: aging_report.aging(
            s,
            day,
            by=by,
            edges=bounds,  # type: ignore[arg-type]
            default_days=default_days,
            currency=currency,
        )
    )
    if fmt is None and out:
        suffix = Path(out).suffix.lower().lstrip(".")
        fmt = suffix if suffix in ("csv", "xlsx", "json") else None
    rows = result.rows()
    if fmt == "xlsx":
        if not out:
            raise ValidationError("--format xlsx needs --out FILE.xlsx")
        title = f"aging {day}"
        Path(out).write_bytes(exports.to_xlsx({title: rows}, {title: _AGING_COLUMNS},
                                              aging_report.XLSX_FORMATS))  # fmt: skip
        click.echo(f"aging as of {day} written to {out}")
        return
    if fmt == "json" or (fmt is None and ctx.obj.as_json):
        text = json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"
    elif fmt == "csv":
        text = exports.rows_to_csv(rows, _AGING_COLUMNS)
    else:
        head = f"aging as of {day} ({result.currency}, over {default_days} days = default)\n"
        text = head + table(rows, _AGING_COLUMNS) + "\n"
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"aging as of {day} written to {out}")
    else:
        click.echo(text, nl=False)


# --- the ladder -----------------------------------------------------------------------------


@collection.group("ladder")
def ladder_group() -> None:
    """The collection ladder: levels by days from the due date (D-3, D+1, …)."""


def _level_line(level: Level) -> str:
    day = f"D{level.day:+d}" if level.day else "D"
    return (
        f"{level.level:<12} {day:<6} {level.action}  channel={level.channel} "
        f"role={level.role} sla={level.sla_limit or '-'} step={level.step}"
    )


@ladder_group.command("list")
@click.pass_context
def ladder_list(ctx: click.Context) -> None:
    """Show the levels in force (new cases use them)."""
    plan = app_of(ctx).read(ladder.levels)
    emit(ctx, [lv.to_dict() for lv in plan], "\n".join(_level_line(lv) for lv in plan))


@ladder_group.command("reset")
@_USER
@click.pass_context
def ladder_reset(ctx: click.Context, user: str) -> None:
    """Write the shipped levels and their tasks' time limits, replacing any edits."""
    plan = app_of(ctx).execute(ladder.ResetLadder(), actor=user)
    emit(ctx, [lv.to_dict() for lv in plan], "\n".join(_level_line(lv) for lv in plan))


@ladder_group.command("set")
@click.argument("level")
@click.option("--day", type=int, help="Days from the due date (-3 = three days before).")
@click.option("--action", help="What happens, in words.")
@click.option("--channel", type=click.Choice(ladder.CHANNELS), help="Notice channel.")
@click.option("--role", help="Responsible group key.")
@click.option("--sla", "sla_limit", help='Task time limit, e.g. "2 working days".')
@_USER
@click.pass_context
def ladder_set(
    ctx: click.Context,
    level: str,
    day: int | None,
    action: str | None,
    channel: str | None,
    role: str | None,
    sla_limit: str | None,
    user: str,
) -> None:
    """Change LEVEL; cases started from now on follow it, running cases keep their plan."""
    command = ladder.SetLevel(
        level, day=day, action=action, channel=channel, role=role, sla_limit=sla_limit
    )
    result = app_of(ctx).execute(command, actor=user)
    emit(ctx, result.to_dict(), _level_line(result))


# --- the daily job, promises, notices -----------------------------------------------------------


@collection.command("scan")
@_AS_OF
@click.pass_context
def scan(ctx: click.Context, as_of: str | None) -> None:
    """Run the daily collection job now: start cases (D-3 or overdue, once each), check
    promises to pay, send the debtor notices due and regrade open cases."""
    report = run_collection_day(app_of(ctx), _day(ctx, as_of))
    lines = [
        f"collection day {report.as_of}: {len(report.started)} case(s) started, "
        f"{len(report.notices)} notice(s), {len(report.kept)} promise(s) kept, "
        f"{len(report.broken)} broken, {len(report.regraded)} regraded"
    ]
    lines += [f"  started {key}" for key in report.started]
    lines += [f"  notice {item}" for item in report.notices]
    lines += [f"  grade {item}" for item in report.regraded]
    lines += [f"  blacklist proposal {item}" for item in report.proposals]
    lines += [f"  credit limit {item}" for item in report.credit_reduced]
    lines += [f"  failed {item}" for item in report.failed]
    emit(ctx, report.to_dict(), "\n".join(lines))


@collection.command("promise")
@click.argument("receivable")
@click.option("--amount", required=True, help="Amount promised, e.g. 500.00.")
@click.option("--on", "on", required=True, help="Day promised (YYYY-MM-DD).")
@_USER
@click.pass_context
def promise(ctx: click.Context, receivable: str, amount: str, on: str, user: str) -> None:
    """Record a promise to pay AMOUNT on RECEIVABLE by a day; it is checked the day after."""
    row = app_of(ctx).execute(RecordPromise(receivable, amount, parse_day(on)), actor=user)
    emit(
        ctx,
        {"id": row.id, "receivable": receivable, "amount": amount, "on": on},
        f"promise #{row.id}: {receivable} pays {amount} by {on}",
    )


@collection.command("notices")
@click.argument("receivable")
@click.pass_context
def notices_(ctx: click.Context, receivable: str) -> None:
    """The notices sent (or held, or withheld) to RECEIVABLE's debtor."""
    app = app_of(ctx)
    rows = app.read(lambda s: notice_rows(s, receivable, app.services.timezone))
    emit(ctx, rows, table(rows, ["level", "kind", "channel", "send_at", "held"]) if rows else "-")


@collection.command("locale")
@click.argument("customer")
@click.argument("locale")
@_USER
@click.pass_context
def locale_(ctx: click.Context, customer: str, locale: str, user: str) -> None:
    """Write CUSTOMER's notices and letters in LOCALE (zh-CN or en) from now on."""
    row = app_of(ctx).execute(SetCustomerLocale(customer, locale), actor=user)
    emit(ctx, {"customer": row.key, "locale": row.locale},
         f"{row.key}: notices in {row.locale}")  # fmt: skip


@collection.command("letter")
@click.argument("receivable")
@click.argument("level")
@click.option("--out", required=True, type=click.Path(), help="The PDF file to write.")
@click.pass_context
def letter(ctx: click.Context, receivable: str, level: str, out: str) -> None:
    """Render the notice recorded for RECEIVABLE at LEVEL as a PDF letter."""
    app = app_of(ctx)
    pdf = app.read(lambda s: recorded_letter(s, receivable, level, app.services.timezone))
    Path(out).write_bytes(pdf)
    emit(ctx, {"file": out, "bytes": len(pdf)}, f"letter written to {out}")


# --- remedies -----------------------------------------------------------------------------


@collection.group("remedy")
def remedy_group() -> None:
    """Remedies: deferral (展期) or instalment plan (分期), requested and approved."""


@remedy_group.command("request")
@click.argument("receivable")
@click.option("--kind", required=True, type=click.Choice(remedies.KINDS))
@click.option("--until", help="Deferral: the new due day of everything outstanding.")
@click.option("--schedule", help="Plan: DATE=PRINCIPAL[+INTEREST];… covering the outstanding.")
@click.option("--reason", required=True, help="Why the debtor needs it.")
@_USER
@click.pass_context
def remedy_request(
    ctx: click.Context,
    receivable: str,
    kind: str,
    until: str | None,
    schedule: str | None,
    reason: str,
    user: str,
) -> None:
    """A collector (--user) requests a remedy on RECEIVABLE; their superior decides."""
    command = remedies.RequestRemedy(
        receivable, kind, reason, until=parse_day(until) if until else None, schedule=schedule
    )
    row = app_of(ctx).execute(command, actor=user)
    rows = app_of(ctx).read(lambda s: remedies.remedy_rows(s, receivable))
    value = next(r for r in rows if r["id"] == row.id)
    emit(ctx, value, f"remedy #{row.id} requested: {receivable} {kind} {value['schedule']}")


@remedy_group.command("decide")
@click.argument("remedy_id", type=ID)
@click.option("--approve/--refuse", required=True)
@click.option("--note", help="The decision's reason.")
@_USER
@click.pass_context
def remedy_decide(
    ctx: click.Context, remedy_id: int, approve: bool, note: str | None, user: str
) -> None:
    """The requester's superior (a collection supervisor) approves or refuses REMEDY_ID;
    approval replaces the schedule and moves the case's ladder."""
    row = app_of(ctx).execute(remedies.DecideRemedy(remedy_id, approve, note), actor=user)
    emit(ctx, {"id": row.id, "state": row.state}, f"remedy #{row.id} {row.state}")


@remedy_group.command("list")
@click.argument("receivable", required=False)
@click.pass_context
def remedy_list(ctx: click.Context, receivable: str | None) -> None:
    """Remedies requested (of RECEIVABLE, or all) and how they were decided."""
    rows = app_of(ctx).read(lambda s: remedies.remedy_rows(s, receivable))
    columns = ["id", "receivable", "kind", "state", "schedule", "requested_by", "decided_by"]
    emit(ctx, rows, table(rows, columns) if rows else "-")


# --- blacklist, credit limits, defaulters ---------------------------------------------------------


@collection.group("blacklist")
def blacklist_group() -> None:
    """Blacklist proposals (one list for all departments), decided by a supervisor."""


@blacklist_group.command("propose")
@click.argument("customer")
@click.option("--reason", required=True)
@click.option("--receivable", help="The receivable that prompted it.")
@_USER
@click.pass_context
def blacklist_propose(
    ctx: click.Context, customer: str, reason: str, receivable: str | None, user: str
) -> None:
    """A collector (--user) proposes blacklisting CUSTOMER."""
    row = app_of(ctx).execute(blacklist.ProposeBlacklist(customer, reason, receivable), actor=user)
    emit(ctx, {"id": row.id, "customer": customer, "state": row.state},
         f"blacklist proposal #{row.id}: {customer} ({reason})")  # fmt: skip


@blacklist_group.command("decide")
@click.argument("proposal_id", type=ID)
@click.option("--approve/--refuse", required=True)
@click.option("--note", help="The decision's reason.")
@_USER
@click.pass_context
def blacklist_decide(
    ctx: click.Context, proposal_id: int, approve: bool, note: str | None, user: str
) -> None:
    """A collection supervisor (not the proposer) approves or refuses PROPOSAL_ID."""
    row = app_of(ctx).execute(blacklist.DecideBlacklist(proposal_id, approve, note), actor=user)
    emit(ctx, {"id": row.id, "state": row.state}, f"blacklist proposal #{row.id} {row.state}")


@blacklist_group.command("list")
@click.option("--customer")
@click.option("--state", type=click.Choice(["proposed", "approved", "refused"]))
@click.pass_context
def blacklist_list(ctx: click.Context, customer: str | None, state: str | None) -> None:
    """Proposals of every department, with who proposed and decided (the audit trail)."""
    rows = app_of(ctx).read(lambda s: blacklist.proposal_rows(s, customer, state))
    columns = ["id", "customer", "department", "source", "state", "proposed_by",
               "proposed_on", "decided_by", "reason"]  # fmt: skip
    emit(ctx, rows, table(rows, columns) if rows else "-")


@blacklist_group.command("lift")
@click.argument("customer")
@click.option("--reason", required=True, help="Why the entry should go.")
@_USER
@click.pass_context
def blacklist_lift(ctx: click.Context, customer: str, reason: str, user: str) -> None:
    """A collector or supervisor (--user) asks to take CUSTOMER off the blacklist."""
    row = app_of(ctx).execute(blacklist.RequestBlacklistLift(customer, reason), actor=user)
    emit(ctx, {"id": row.id, "customer": customer, "state": row.state},
         f"lift request #{row.id}: {customer} ({reason})")  # fmt: skip


@blacklist_group.command("decide-lift")
@click.argument("lift_id", type=ID)
@click.option("--approve/--refuse", required=True)
@click.option("--note", help="The decision's reason.")
@_USER
@click.pass_context
def blacklist_decide_lift(
    ctx: click.Context, lift_id: int, approve: bool, note: str | None, user: str
) -> None:
    """A collection supervisor (not the requester) approves or refuses LIFT_ID; approval
    takes the customer off the blacklist."""
    row = app_of(ctx).execute(blacklist.DecideBlacklistLift(lift_id, approve, note), actor=user)
    emit(ctx, {"id": row.id, "state": row.state}, f"lift request #{row.id} {row.state}")


@blacklist_group.command("lifts")
@click.option("--customer")
@click.option("--state", type=click.Choice(["requested", "approved", "refused"]))
@click.pass_context
def blacklist_lifts(ctx: click.Context, customer: str | None, state: str | None) -> None:
    """Requests to lift blacklist entries, with the entry, who asked and who decided."""
    rows = app_of(ctx).read(lambda s: blacklist.lift_rows(s, customer, state))
    columns = ["id", "customer", "state", "requested_by", "requested_on", "decided_by",
               "reason", "entry"]  # fmt: skip
    emit(ctx, rows, table(rows, columns) if rows else "-")


@collection.group("credit-rule")
def credit_rule_group() -> None:
    """The credit-limit reduction rule for repeated lateness."""


def _rule_line(rule: credit.Rule) -> str:
    return (
        f"≥ {rule.breaches} lateness event(s) in {rule.months} month(s) → "
        f"credit limit reduced by {rule.percent}%"
    )


@credit_rule_group.command("show")
@click.pass_context
def credit_rule_show(ctx: click.Context) -> None:
    """The rule in force (the shipped one until set)."""
    rule = app_of(ctx).read(credit.rule)
    emit(ctx, rule.to_dict(), _rule_line(rule))


@credit_rule_group.command("set")
@click.option("--breaches", type=int, required=True, help="Lateness events (N).")
@click.option("--months", type=int, required=True, help="Within this many months (M).")
@click.option("--percent", required=True, help="Reduce the limit by this many per cent (X).")
@_USER
@click.pass_context
def credit_rule_set(
    ctx: click.Context, breaches: int, months: int, percent: str, user: str
) -> None:
    """Set the rule; the daily job applies it."""
    rule = app_of(ctx).execute(credit.SetCreditRule(breaches, months, percent), actor=user)
    emit(ctx, rule.to_dict(), _rule_line(rule))


@credit_rule_group.command("restore")
@click.argument("customer")
@click.option("--reason", required=True, help="Why the reduction is undone.")
@click.option("--change", "change_id", type=ID, help="The reduction (default: the latest).")
@_USER
@click.pass_context
def credit_rule_restore(
    ctx: click.Context, customer: str, reason: str, change_id: int | None, user: str
) -> None:
    """A collection supervisor (--user) puts back the credit limit of CUSTOMER that the
    rule reduced; `caseclock collection credit-changes` shows the history."""
    command = credit.RestoreCreditLimit(customer, reason, change_id)
    app = app_of(ctx)
    row = app.execute(command, actor=user)
    value = next(r for r in app.read(lambda s: credit.change_rows(s, customer))
                 if r["change"] == "restored" and r["reduction"] == row.change_id)  # fmt: skip
    emit(ctx, value, f"credit limit of {customer} restored: {value['old']} → {value['new']}")


@collection.command("credit-changes")
@click.option("--customer")
@click.pass_context
def credit_changes(ctx: click.Context, customer: str | None) -> None:
    """The history of credit limits: reduced by the rule, restored by a supervisor."""
    rows = app_of(ctx).read(lambda s: credit.change_rows(s, customer))
    columns = ["customer", "on", "change", "old", "new", "by", "reason"]
    emit(ctx, rows, table(rows, columns) if rows else "-")


@collection.command("defaulters")
@_AS_OF
@click.option("--min-days", default=90, show_default=True, help="Days past due at least.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="Default: a table.")
@click.pass_context
def defaulters_(ctx: click.Context, as_of: str | None, min_days: int, fmt: str | None) -> None:
    """The default-announcement list: customers with a receivable past due ≥ --min-days."""
    day = _day(ctx, as_of)
    rows = [d.to_dict() for d in app_of(ctx).read(lambda s: blacklist.defaulters(s, day, min_days))]
    columns = ["customer", "name", "days_past_due", "receivables", "outstanding", "currency",
               "blacklisted"]  # fmt: skip
    if fmt == "csv":
        click.echo(exports.rows_to_csv(rows, columns), nl=False)
        return
    if fmt == "json" or ctx.obj.as_json:
        click.echo(json.dumps({"as_of": day.isoformat(), "min_days": min_days,
                               "defaulters": rows}, ensure_ascii=False, indent=2))  # fmt: skip
        return
    click.echo(f"defaulters as of {day} (≥ {min_days} days past due)")
    click.echo(table(rows, columns) if rows else "-")
