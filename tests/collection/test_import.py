"""CSV import: a report per line, bad rows write nothing, good rows are written."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine.collection.importing import export_rows, parse_csv, to_csv
from engine.collection.receivables import ImportReceivables, load_account
from engine.errors import ValidationError
from engine.store import AuditEvent
from engine.store.collection_tables import Customer, Instalment, Receivable

from .helpers import csv_text, import_rows, row


def count(app, model) -> int:
    return app.read(lambda s: s.scalar(select(func.count()).select_from(model)))


def test_bad_rows_are_reported_by_line_and_write_nothing(app):
    text = csv_text(
        row(
            "R1",
            "1000.00",
            "2026-03-01",
            phone="13800000000",
            grace_days="3",
            penalty_rate="0.0005",
            penalty_cap="50.00",
        ),
        # line 3: a new customer without a name, and a good instalment schedule: nothing
        # of it (neither customer nor instalments) may be written.
        row(
            "R2",
            "300.00",
            "",
            customer_key="NEW",
            customer_name="",
            schedule="2026-03-01=100.00+5.00;2026-04-01=200.00",
        ),
        row("R3", "12.345", "2026-03-01"),  # line 4: three decimals
        row("R4", "100.00", "2026-02-30"),  # line 5: no such day
        row("R5", "500.00", "2026-03-01", product="mortgage"),  # line 6
        row("R1", "100.00", "2026-03-01"),  # line 7: same key again
        row("R6", "300.00", "", schedule="2026-03-01=100.00;2026-04-01=100.00"),  # line 8
        row(
            "R7",
            "2000.00",
            "2026-05-01",
            customer_key="C-R1",
            product="credit_card",
            schedule="2026-04-01=1000.00+20.00;2026-05-01=1000.00+10.00",
        ),  # line 9
    )
    report = app.execute(ImportReceivables(parse_csv(text), "t.csv"), actor="tester")
    assert [(r.line, r.key, r.ok) for r in report.rows] == [
        (2, "R1", True),
        (3, "R2", False),
        (4, "R3", False),
        (5, "R4", False),
        (6, "R5", False),
        (7, "R1", False),
        (8, "R6", False),
        (9, "R7", True),
    ]
    errors = {r.line: r.error for r in report.failed}
    assert errors[3] == "customer 'NEW' is new: customer_name is required"
    assert errors[4] == "principal: amount 12.345 has more than 2 decimals for CNY"
    assert errors[5] == "due_date '2026-02-30': write YYYY-MM-DD"
    assert errors[6].startswith("product 'mortgage': one of loan")
    assert errors[7] == "receivable 'R1' appears twice in this file"
    assert errors[8] == "schedule principal adds up to 200.00, not the principal 300.00"
    # Written: R1 and R7 (one customer shared), R1's single instalment and R7's two.
    assert app.read(lambda s: s.scalars(select(Receivable.key).order_by(Receivable.key)).all()) == [
        "R1",
        "R7",
    ]
    assert count(app, Customer) == 1 and count(app, Instalment) == 3
    audit = app.read(lambda s: s.scalars(select(AuditEvent.payload)).all())[-1]
    assert audit["written"] == ["R1", "R7"] and len(audit["failed"]) == 6
    # Importing the same file again writes nothing new and says why.
    again = app.execute(ImportReceivables(parse_csv(text), "t.csv"), actor="tester")
    assert again.written == 0
    assert again.rows[0].error == "receivable 'R1' exists already"


def test_line_numbers_count_physical_lines_of_quoted_multiline_fields(app):
    text = csv_text(
        row("M1", "10.00", "2026-03-01", address="第一行\n第二行"),
        row("M2", "x", "2026-03-01"),
    )
    rows = parse_csv(text)
    assert [(r.line, r.key, r.error) for r in rows] == [
        (2, "M1", None),
        (4, "M2", "principal: amount 'x' is not a plain decimal: write e.g. 1234.50 or 1,234.50"),
    ]


def test_a_file_with_unknown_or_missing_columns_is_refused_whole():
    with pytest.raises(
        ValidationError, match=r"unknown column.*princpal.*missing column.*principal"
    ):
        parse_csv("receivable_key,customer_key,product,princpal\nR1,C1,loan,1\n")
    with pytest.raises(ValidationError, match="empty"):
        parse_csv("")


def test_export_imports_again_unchanged(org_app, tmp_path):
    app = org_app  # the department and collector the rows name
    import_rows(
        app,
        row(
            "E1",
            "1000.00",
            "2026-03-01",
            grace_days="3",
            penalty_rate="0.0005",
            penalty_cap="50.00",
            phone="13800000000",
            email="a@b.cn",
            contact_verified_on="2026-01-05",
            credit_limit="20000.00",
            department="collections",
            collector="wu",
            allocation_order="principal,interest,fees",
            rounding="half_even",
            day_count="act/365",
            guarantee="collateral",
            opened_on="2025-03-01",
        ),
        row(
            "E2",
            "300.00",
            "2026-05-01",
            customer_key="BL",
            customer_name="黑名单客户",
            blacklisted="yes",
            blacklist_reason="fraud",
            product="trade_receivable",
            schedule="2026-03-01=100.00+5.00;2026-05-01=200.00",
        ),
    )
    exported = app.read(lambda s: to_csv(export_rows(s)))
    account = app.read(lambda s: load_account(s, "E1"))
    assert str(account.terms.penalty_rate) == "0.0005" and account.terms.day_count == "act/365"
    assert account.customer.contact_verified_on == date(2026, 1, 5)
    # Into an empty database (the same tables after deleting): the same export again.
    for model in (Instalment, Receivable, Customer):
        app.execute(lambda ctx, m=model: ctx.session.execute(m.__table__.delete()))
    report = app.execute(ImportReceivables(parse_csv(exported), "x.csv"), actor="tester")
    assert report.written == 2
    assert app.read(lambda s: to_csv(export_rows(s))) == exported
    assert "2026-03-01=100.00+5.00;2026-05-01=200.00" in exported
