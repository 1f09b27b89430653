"""Building receivables for the collection tests through the real CSV import, and
paying them as a cashier does."""

from __future__ import annotations

from datetime import date, datetime, time

from engine.app import CaseClock
from engine.collection.importing import COLUMNS, parse_csv
from engine.collection.receivables import (
    ImportReceivables,
    ImportReport,
    PaymentResult,
    RecordPayment,
)
from engine.org import ImportOrg


def csv_text(*rows: dict[str, str], columns: tuple[str, ...] = COLUMNS) -> str:
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join(_quote(row.get(c, "")) for c in columns))
    return "\n".join(lines) + "\n"


def _quote(value: str) -> str:
    return f'"{value}"' if ("," in value or '"' in value or "\n" in value) else value


def row(key: str, principal: str, due: str, **extra: str) -> dict[str, str]:
    """A row of a new customer ``C-<key>`` named 客户<key>; rows sharing a customer key
    share its name (an import refuses a row that renames a customer, see test_import)."""
    customer = extra.get("customer_key", f"C-{key}")
    values = {
        "receivable_key": key,
        "customer_key": customer,
        "customer_name": f"客户{customer.removeprefix('C-')}",
        "product": "loan",
        "principal": principal,
        "due_date": due,
    }
    values.update(extra)
    return values


def import_rows(app: CaseClock, *rows: dict[str, str]) -> ImportReport:
    report = app.execute(ImportReceivables(parse_csv(csv_text(*rows)), "test.csv"), actor="tester")
    assert not report.failed, report.failed
    return report


def add_org(
    app: CaseClock, departments: tuple[str, ...] = (), people: tuple[str, ...] = ()
) -> None:
    """The departments and people (collectors) a test's rows name: the import refuses keys
    the organisation does not know."""
    doc = {"departments": [{"key": key, "name": key} for key in departments],
           "people": [{"key": key, "name": key} for key in people], "groups": []}  # fmt: skip
    app.execute(ImportOrg(doc))


def pay(app: CaseClock, key: str, amount: str, on: date, actor: str = "cashier") -> PaymentResult:
    """Record a payment on its day: a payment cannot be dated after the day it is recorded,
    so the clock first moves to 10:00 that day when it is earlier (clocks never go back)."""
    arrived = datetime.combine(on, time(10), tzinfo=app.services.timezone)
    if app.clock.now() < arrived:
        app.clock.set(arrived)
    return app.execute(RecordPayment(key, amount, on), actor=actor)
