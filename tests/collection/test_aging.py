"""Aging as of a day, checked against a small portfolio worked out by hand.

As of Tue 31 March 2026 (rate 0 everywhere, so payments go straight to principal):

====  =================  ==========  ====  =========  ============================  ====  =========
key   product            collector   dept  principal  due / schedule                DPD   bucket
====  =================  ==========  ====  =========  ============================  ====  =========
A     loan               c1          d1    1,000.00   2026-04-10                    0     current
B     loan               c1          d1    2,000.00   2026-03-31 (due today)        0     current
C     loan               c2          d1    3,000.00   2026-03-30                    1     1-30
D     credit_card        c2          d2    4,000.00   2026-03-01                    30    1-30
E     credit_card        c1          d2    5,000.00   2026-02-28                    31    31-60
F     loan               c1          d1    3,000.00   12-31, 01-31, 04-30 x 1,000;  59    31-60
                                                      1,000.00 paid 2026-01-15
G     loan               c2          d2    6,000.00   2025-12-31                    90    61-90
H     trade_receivable   c1          d2    7,000.00   2025-12-30                    91    90+
I     loan               c1          d1    8,000.00   2025-06-30, paid 2025-07-10   -     (closed)
J     loan               c2          d1    9,000.00   2025-06-30, paid 2026-04-05   274   90+
K     loan (USD)         c1          d1    100.00     2026-01-01                    -     (USD)
L     loan, opened 04-01 c1          d1    100.00     2026-05-01                    -     (not yet)
====  =================  ==========  ====  =========  ============================  ====  =========

current 2 / 3,000.00; 1-30 2 / 7,000.00 (overdue 7,000.00); 31-60 2 / 7,000.00 (overdue
5,000.00 + F's 1,000.00 = 6,000.00); 61-90 1 / 6,000.00; 90+ 2 / 16,000.00. Total 9 /
39,000.00. Overdue rate 36,000 / 39,000 = 0.923077 → 0.9231; default (> 90 days) rate
16,000 / 39,000 = 0.410256 → 0.4103.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine.collection.aging import aging, buckets
from engine.collection.demo import seed_demo_portfolio
from engine.collection.grading import grade_receivable
from engine.collection.receivables import load_account
from engine.errors import ValidationError
from engine.store.collection_tables import Receivable

from ..conftest import SHIPPED, deploy
from .helpers import add_org, import_rows, pay, row

AS_OF = date(2026, 3, 31)


def portfolio(app) -> None:
    def r(key, principal, due, product="loan", collector="c1", dept="d1", **extra):
        return row(
            key, principal, due, product=product, collector=collector, department=dept, **extra
        )

    add_org(app, departments=("d1", "d2"), people=("c1", "c2"))
    import_rows(
        app,
        r("A", "1000.00", "2026-04-10"),
        r("B", "2000.00", "2026-03-31"),
        r("C", "3000.00", "2026-03-30", collector="c2"),
        r("D", "4000.00", "2026-03-01", "credit_card", "c2", "d2"),
        r("E", "5000.00", "2026-02-28", "credit_card", "c1", "d2"),
        r("F", "3000.00", "", schedule="2025-12-31=1000.00;2026-01-31=1000.00;2026-04-30=1000.00"),
        r("G", "6000.00", "2025-12-31", collector="c2", dept="d2"),
        r("H", "7000.00", "2025-12-30", "trade_receivable", "c1", "d2"),
        r("I", "8000.00", "2025-06-30"),
        r("J", "9000.00", "2025-06-30", collector="c2"),
        r("K", "100.00", "2026-01-01", currency="USD"),
        r("L", "100.00", "2026-05-01", opened_on="2026-04-01"),
    )
    pay(app, "F", "1000.00", date(2026, 1, 15))
    pay(app, "I", "8000.00", date(2025, 7, 10))
    pay(app, "J", "9000.00", date(2026, 4, 5))


def cells(group) -> dict[str, tuple[int, int, int]]:
    return {k: (c.count, c.outstanding_minor, c.overdue_minor) for k, c in group.cells.items()}


def test_aging_matches_the_hand_computed_portfolio(app):
    portfolio(app)
    report = app.read(lambda s: aging(s, AS_OF))
    total = report.total
    assert [b.label for b in report.buckets] == ["current", "1-30", "31-60", "61-90", "90+"]
    assert cells(total) == {
        "current": (2, 300_000, 0),
        "1-30": (2, 700_000, 700_000),
        "31-60": (2, 700_000, 600_000),
        "61-90": (1, 600_000, 600_000),
        "90+": (2, 1_600_000, 1_600_000),
    }
    assert (total.count, total.outstanding_minor) == (9, 3_900_000)
    assert (str(total.overdue_rate), str(total.default_rate)) == ("0.9231", "0.4103")
    data = report.to_dict()
    assert data["total"]["outstanding"] == "39000.00"
    assert data["total"]["buckets"]["31-60"] == {
        "count": 2,
        "outstanding": "7000.00",
        "overdue": "6000.00",
    }


def test_aging_by_product_and_by_collector(app):
    portfolio(app)
    by_product = {g.group: g for g in app.read(lambda s: aging(s, AS_OF, by="product")).groups}
    assert list(by_product) == ["credit_card", "loan", "trade_receivable"]
    loan = by_product["loan"]  # A, B, C, F, G, J: 23,000.00, 20,000.00 overdue, J in default
    assert (loan.count, loan.outstanding_minor) == (6, 2_300_000)
    assert (str(loan.overdue_rate), str(loan.default_rate)) == ("0.8696", "0.3913")
    assert cells(by_product["credit_card"])["31-60"] == (1, 500_000, 500_000)
    assert str(by_product["trade_receivable"].default_rate) == "1.0000"
    by_collector = {g.group: g for g in app.read(lambda s: aging(s, AS_OF, by="collector")).groups}
    # c1: A, B, E, F, H = 17,000.00; overdue 14,000.00 (0.8235); default H 7,000 (0.4118).
    c1 = by_collector["c1"]
    assert (c1.outstanding_minor, str(c1.overdue_rate), str(c1.default_rate)) == (
        1_700_000,
        "0.8235",
        "0.4118",
    )
    # c2: C, D, G, J = 22,000.00, all overdue; default J 9,000 / 22,000 = 0.4091.
    c2 = by_collector["c2"]
    assert (c2.outstanding_minor, str(c2.overdue_rate), str(c2.default_rate)) == (
        2_200_000,
        "1.0000",
        "0.4091",
    )
    departments = app.read(lambda s: aging(s, AS_OF, by="department")).groups
    assert sum(g.outstanding_minor for g in departments) == 3_900_000


def test_a_later_day_sees_later_payments_and_openings(app):
    portfolio(app)
    # 5 April: J is paid, L is open (current, due 1 May); B is 5 days late, F 64 (61-90),
    # G 95 and H 96 (90+).
    report = app.read(lambda s: aging(s, date(2026, 4, 5)))
    got = cells(report.total)
    assert got["current"] == (2, 110_000, 0)
    assert got["61-90"] == (1, 200_000, 100_000)
    assert got["90+"] == (2, 1_300_000, 1_300_000)
    assert report.total.count == 9
    usd = app.read(lambda s: aging(s, AS_OF, currency="USD")).total
    assert cells(usd)["61-90"] == (1, 10_000, 10_000)


def test_configurable_buckets_and_sql_agrees_with_the_python_days_past_due(app):
    portfolio(app)
    report = app.read(lambda s: aging(s, AS_OF, edges=(7, 45, 180), default_days=30))
    assert [b.label for b in report.buckets] == ["current", "1-7", "8-45", "46-180", "180+"]
    # Python's DPD per receivable puts each one in the bucket SQL counted it in.
    keys = app.read(lambda s: s.scalars(select(Receivable.key)).all())
    expected: dict[str, list[int]] = {b.label: [0, 0] for b in report.buckets}
    for key in keys:
        account = app.read(lambda s, k=key: load_account(s, k))
        owed = account.owed(AS_OF).principal_outstanding
        opened = account.receivable.opened_on
        if owed == 0 or account.currency != "CNY" or (opened and opened > AS_OF):
            continue
        dpd = account.days_past_due(AS_OF)
        label = next(
            b.label for b in report.buckets if b.low <= dpd and (b.high is None or dpd <= b.high)
        )
        expected[label][0] += 1
        expected[label][1] += owed
    assert {k: [c.count, c.outstanding_minor] for k, c in report.total.cells.items()} == expected
    # Default now means > 30 days: E (31), F (59), G, H, J = 5,000 + 2,000 + 6,000 + 7,000 +
    # 9,000 = 29,000 of 39,000 = 0.743590 -> 0.7436.
    assert str(report.total.default_rate) == "0.7436"


def test_bad_bucket_edges_are_refused():
    with pytest.raises(ValidationError):
        buckets((60, 30))
    with pytest.raises(ValidationError):
        buckets((0, 30))
    assert buckets((30,))[-1].label == "30+"
    assert date(2026, 3, 31) - timedelta(days=90) == date(2025, 12, 31)  # G is exactly 90


def test_demo_portfolio_fills_every_bucket_and_grade(org_app):
    app = org_app  # the demo's collectors and department
    assert seed_demo_portfolio(app) == [
        "10 demo receivables imported",
        "DEMO-L004: partial payment of 2000.00 recorded",
    ]
    today = date(2026, 3, 2)  # the test clock, in Shanghai
    report = app.read(lambda s: aging(s, today))
    assert all(cell.count for cell in report.total.cells.values())
    deploy(app, SHIPPED / "risk_grade.dmn")
    keys = app.read(lambda s: s.scalars(select(Receivable.key)).all())
    grades = {app.read(lambda s, k=k: grade_receivable(s, app.services, k, today)).grade
              for k in keys}  # fmt: skip
    assert grades == {"正常", "关注", "次级", "可疑", "损失"}
