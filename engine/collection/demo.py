"""A small demo portfolio, relative to today, for ``caseclock demo`` to call.

Due dates are placed so that every aging bucket and every grade has an example on
the day the demo is seeded; collectors and departments are keys of demo/org.yaml.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..app import CaseClock
from .importing import COLUMNS, parse_csv
from .receivables import ImportReceivables, RecordPayment

# (key, customer, name, product, principal, days overdue today, collector, terms)
_PORTFOLIO = [
    ("DEMO-L001", "C001", "张三商贸有限公司", "loan", "50000.00", 0, "wu", "3,0.0005,daily"),
    ("DEMO-L002", "C002", "李四", "loan", "12000.00", 12, "wu", "3,0.0005,daily"),
    ("DEMO-L003", "C003", "王五建材", "loan", "80000.00", 45, "zheng", "0,0.18,act/360"),
    ("DEMO-L004", "C004", "赵六", "loan", "6500.00", 75, "zheng", "5,0.0005,daily"),
    ("DEMO-L005", "C005", "孙七餐饮", "loan", "150000.00", 130, "wu", "0,0.24,act/365"),
    ("DEMO-L006", "C006", "周八", "loan", "30000.00", 300, "zheng", "0,0.0005,daily"),
    ("DEMO-C001", "C002", "李四", "credit_card", "8800.00", 20, "wu", "0,0.0005,daily"),
    ("DEMO-C002", "C007", "吴九", "credit_card", "15000.00", 100, "zheng", "0,0.0005,daily"),
    ("DEMO-C003", "C008", "郑十", "credit_card", "4200.00", 200, "wu", "0,0.0005,daily"),
    ("DEMO-T001", "C009", "华东物流有限公司", "trade_receivable", "260000.00", 35, "zheng",
     "10,0.0003,daily"),
]  # fmt: skip


def demo_csv(today: date) -> str:
    lines = [",".join(COLUMNS)]
    for key, customer, name, product, principal, overdue, collector, terms in _PORTFOLIO:
        grace, rate, basis = terms.split(",")
        values = dict.fromkeys(COLUMNS, "")
        values.update(
            receivable_key=key, customer_key=customer, customer_name=name, product=product,
            principal=principal, currency="CNY", department="collections", collector=collector,
            due_date=(today - timedelta(days=overdue)).isoformat(), grace_days=grace,
            penalty_rate=rate, day_count=basis, contact_verified_on=today.isoformat(),
            phone="13900000000", opened_on=(today - timedelta(days=overdue + 365)).isoformat(),
        )  # fmt: skip
        lines.append(",".join(values[c] for c in COLUMNS))
    return "\n".join(lines) + "\n"


def seed_demo_portfolio(app: CaseClock) -> list[str]:
    """Import the demo receivables and one partial payment; return what was done."""
    today = app.clock.now().astimezone(app.services.timezone).date()
    report = app.execute(ImportReceivables(parse_csv(demo_csv(today)), "demo"), actor="demo")
    done = [f"{report.written} demo receivables imported"]
    if report.written:
        app.execute(RecordPayment("DEMO-L004", "2000.00", today), actor="demo")
        done.append("DEMO-L004: partial payment of 2000.00 recorded")
    return done
