"""Hostile collection input (the 2026-11-29 probe): refused with an error naming the field or
the row, never a 500, never guessed at; and one bad receivable never stops the daily run."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from engine.collection import fees
from engine.collection.aging import aging, buckets, parse_edges
from engine.collection.blacklist import defaulters
from engine.collection.daily import run_collection_day
from engine.collection.importing import COLUMNS, export_rows, parse_csv, to_csv
from engine.collection.listing import parse_filter, receivable_detail
from engine.collection.money import parse_amount
from engine.collection.promises import RecordPromise
from engine.collection.receivables import ImportReceivables, RecordPayment
from engine.collection.remedies import RequestRemedy
from engine.collection.risk import grade_summary
from engine.errors import ValidationError
from engine.store import AuditEvent
from engine.store.collection_tables import Customer, Instalment, Payment, Receivable
from engine.store.ladder_tables import CollectionNotice

from ..conftest import SHANGHAI, SHIPPED, deploy
from ..web.conftest import password_hashes, site  # noqa: F401
from ..web.test_collection_api import api
from ..web.test_collection_pages import collection  # noqa: F401
from .helpers import csv_text, import_rows, row


def errors_of(app, *rows: dict[str, str]) -> dict[str, str | None]:
    """Import ``rows``; each row's error by its receivable key (None: written)."""
    report = app.execute(ImportReceivables(parse_csv(csv_text(*rows)), "t.csv"), actor="tester")
    return {r.key: r.error for r in report.rows}


def keys(app) -> list[str]:
    return app.read(lambda s: list(s.scalars(select(Receivable.key).order_by(Receivable.key))))


# --- import rows ------------------------------------------------------------------------


def test_whole_numbers_are_ascii_digits_only():
    """ "²" passed str.isdigit() and then failed int(): a 500 for the whole import/page."""
    rows = parse_csv(csv_text(row("G-1", "10.00", "2026-03-01", grace_days="²"),
                              row("G-2", "10.00", "2026-03-01", grace_days="9" * 5000),
                              row("G-3", "10.00", "2026-03-01", grace_days=" 7 ")))  # fmt: skip
    assert [r.error for r in rows] == [
        "grace_days '²': a whole number of days",
        f"grace_days '{'9' * 5000}': a whole number of days",
        None,
    ]
    assert rows[2].data is not None and rows[2].data.terms.grace_days == 7
    for page in ("²", "٣", "1" * 40, "0", "-1"):
        with pytest.raises(ValidationError) as refused:
            parse_filter({"page": page})
        assert "page" in refused.value.details["fields"]
    assert parse_filter({"page": "3"}).page == 3


def test_days_outside_1900_to_2999_are_refused_in_every_date_column(app):
    year_1 = "0001-01-01"
    assert errors_of(
        app,
        row("D-1", "10.00", year_1),
        row("D-2", "10.00", "", schedule=f"{year_1}=10.00"),
        row("D-3", "10.00", "2026-03-01", opened_on="1899-12-31"),
        row("D-4", "10.00", "2026-03-01", contact_verified_on="3000-01-01"),
        row("D-5", "10.00", "", schedule="=10.00"),  # no day: was read as year 1
        row("D-6", "10.00", "1900-01-01"),
        row("D-7", "10.00", "2999-12-31"),
    ) == {
        "D-1": "due_date 0001-01-01: the year must be from 1900 to 2999",
        "D-2": "schedule 0001-01-01: the year must be from 1900 to 2999",
        "D-3": "opened_on 1899-12-31: the year must be from 1900 to 2999",
        "D-4": "contact_verified_on 3000-01-01: the year must be from 1900 to 2999",
        "D-5": "schedule item '=10.00': write DATE=PRINCIPAL[+INTEREST]",
        "D-6": None,
        "D-7": None,
    }
    assert keys(app) == ["D-6", "D-7"]


def test_opened_after_due_and_a_negative_credit_limit_are_refused(app):
    assert errors_of(
        app,
        row("O-1", "10.00", "2026-03-01", opened_on="2026-03-02"),
        row("O-2", "20.00", "", opened_on="2026-04-02",
            schedule="2026-04-01=10.00;2026-05-01=10.00"),  # after the first instalment
        row("O-3", "10.00", "2026-03-01", opened_on="2026-03-01"),  # due the day it opens
        row("O-4", "10.00", "2026-03-01", credit_limit="-1.00"),
        row("O-5", "10.00", "2026-03-01", credit_limit="0.00"),
    ) == {
        "O-1": "opened_on 2026-03-02 is after the first due date 2026-03-01",
        "O-2": "opened_on 2026-04-02 is after the first due date 2026-04-01",
        "O-3": None,
        "O-4": "credit_limit must not be negative",
        "O-5": None,
    }  # fmt: skip


def test_an_amount_is_a_plain_decimal():
    """ "1,2" was read as 12 and "1e3" as 1000.00: now only what a person means is read."""
    assert parse_amount("1,234.50") == 123_450
    assert parse_amount(" 1,234,567 ") == 123_456_700
    assert parse_amount("-12.50") == -1250  # each caller refuses what its field cannot be
    assert parse_amount(Decimal("7.10")) == 710
    for text in ("1,2", "1,23", "12,34.00", "1e3", "1E3", "+5", ".5", "5.", "1 000", "٣", "²",
                 "NaN", "Infinity", "0x10", "1_000", "", "--1", "1,234.5.0"):  # fmt: skip
        with pytest.raises(ValidationError, match="not a plain decimal"):
            parse_amount(text)
    rows = parse_csv(csv_text(row("A-1", "1,2", "2026-03-01"), row("A-2", "1e3", "2026-03-01")))
    assert [r.error for r in rows] == [
        "principal: amount '1,2' is not a plain decimal: write e.g. 1234.50 or 1,234.50",
        "principal: amount '1e3' is not a plain decimal: write e.g. 1234.50 or 1,234.50",
    ]


def test_departments_and_collectors_must_be_in_the_organisation(org_app):
    assert errors_of(
        org_app,
        row("K-1", "10.00", "2026-03-01", department="nowhere"),
        row("K-2", "10.00", "2026-03-01", collector="nobody"),
        row("K-3", "10.00", "2026-03-01", department="collections", collector="wu"),
        row("K-4", "10.00", "2026-03-01"),  # neither: only auditors and admins see it
    ) == {
        "K-1": "department 'nowhere' is not a department in the organisation",
        "K-2": "collector 'nobody' is not a person in the organisation",
        "K-3": None,
        "K-4": None,
    }
    assert keys(org_app) == ["K-3", "K-4"]
    # Nothing of a refused row is written, not even its new customer.
    names = org_app.read(lambda s: list(s.scalars(select(Customer.key).order_by(Customer.key))))
    assert names == ["C-K-3", "C-K-4"]


def customer(app, key: str) -> Customer:
    return app.read(lambda s: s.scalars(select(Customer).where(Customer.key == key)).one())


def test_a_row_does_not_silently_change_an_existing_customer(app):
    first = {"customer_key": "C-1", "customer_name": "张三", "phone": "13800000001",
             "credit_limit": "5000.00"}  # fmt: skip
    import_rows(app, row("U-1", "10.00", "2026-03-01", **first, email=""))
    assert errors_of(
        app,
        row("U-2", "10.00", "2026-03-01", **first),  # the same values: fine
        row("U-3", "10.00", "2026-03-01", customer_key="C-1", customer_name=""),  # empty: kept
        row("U-4", "10.00", "2026-03-01", customer_key="C-1", customer_name="",
            email="zs@example.com"),  # filling an empty field
        row("U-5", "10.00", "2026-03-01", customer_key="C-1", customer_name="",
            phone="13999999999"),
        row("U-6", "10.00", "2026-03-01", customer_key="C-1", customer_name="李四"),
        row("U-7", "10.00", "2026-03-01", customer_key="C-1", customer_name="",
            credit_limit="9000.00"),
        row("U-8", "10.00", "2026-03-01", customer_key="C-1", customer_name="",
            blacklisted="yes", blacklist_reason="fraud", update_customer="yes"),
        row("U-9", "10.00", "2026-03-01", customer_key="C-1", customer_name="",
            credit_limit="10.00", currency="USD"),
    ) == {
        "U-2": None,
        "U-3": None,
        "U-4": None,
        "U-5": "customer 'C-1' has phone '13800000001', this row '13999999999': leave phone "
               "empty, or set update_customer to yes to change it",
        "U-6": "customer 'C-1' has customer_name '张三', this row '李四': leave customer_name "
               "empty, or set update_customer to yes to change it",
        "U-7": "customer 'C-1' has credit_limit 5000.00, this row 9000.00: leave credit_limit "
               "empty, or set update_customer to yes to change it",
        "U-8": "customer 'C-1' has blacklisted no, this row yes: blacklisting and lifting are "
               "a collection supervisor's decisions, not imports",
        "U-9": "customer 'C-1' has its credit limit in CNY, this row is in USD: leave "
               "credit_limit empty",
    }  # fmt: skip
    stored = customer(app, "C-1")
    assert (stored.name, stored.phone, stored.email, stored.credit_limit_minor) == (
        "张三", "13800000001", "zs@example.com", 500_000)  # fmt: skip
    assert not stored.blacklisted
    # update_customer=yes: the row says the change is meant.
    meant = {"customer_name": "张三丰", "phone": "13999999999", "credit_limit": "9000.00"}
    import_rows(app, row("U-10", "10.00", "2026-03-01", customer_key="C-1", **meant,
                         update_customer="yes"))  # fmt: skip
    stored = customer(app, "C-1")
    assert (stored.name, stored.phone, stored.credit_limit_minor) == ("张三丰", "13999999999",
                                                                      900_000)  # fmt: skip
    assert errors_of(app, row("U-11", "1.00", "2026-03-01", update_customer="maybe")) == {
        "U-11": "update_customer 'maybe': yes or no"
    }


# --- export -------------------------------------------------------------------------------


def test_the_export_keeps_formula_text_inert_and_imports_again_unchanged(app):
    """A customer named like a formula would run in a spreadsheet opening the export."""
    import_rows(app, row("F-1", "10.00", "2026-03-01", customer_name="=1+2",
                         address="@SUM(A1)", phone="+86 138 0000 0000",
                         blacklisted="yes", blacklist_reason="-see file"))  # fmt: skip
    exported = app.read(lambda s: to_csv(export_rows(s)))
    (record,) = csv.DictReader(io.StringIO(exported))
    assert (record["customer_name"], record["address"], record["phone"]) == (
        "'=1+2", "'@SUM(A1)", "'+86 138 0000 0000")  # fmt: skip
    assert record["blacklist_reason"] == "'-see file"
    assert record["principal"] == "10.00"  # numbers stay numbers
    # Into an empty database: the apostrophes come off again, the export is the same.
    for model in (Instalment, Receivable, Customer):
        app.execute(lambda ctx, m=model: ctx.session.execute(m.__table__.delete()))
    app.execute(ImportReceivables(parse_csv(exported), "x.csv"), actor="tester")
    stored = customer(app, "C-F-1")
    assert (stored.name, stored.address, stored.phone) == ("=1+2", "@SUM(A1)",
                                                           "+86 138 0000 0000")  # fmt: skip
    assert app.read(lambda s: to_csv(export_rows(s))) == exported


# --- aging buckets ------------------------------------------------------------------------


def test_report_days_and_aging_bucket_edges_are_bounded(app):
    assert parse_edges("30, 60,90") == (30, 60, 90)
    twelve = tuple(range(300, 3601, 300))
    assert len(buckets(twelve)) == 14  # current, twelve spans, and the open end
    for text in ("²", "30,x", "30,-5", "1.5"):
        with pytest.raises(ValidationError, match="whole days separated by commas"):
            parse_edges(text)
    for edges in (tuple(range(1, 14)), (30, 3651), tuple(range(1, 5001))):
        with pytest.raises(ValidationError, match="at most 12 bucket edges"):
            buckets(edges)
    for report in (
        lambda s: aging(s, date(1, 1, 1)),
        lambda s: defaulters(s, date(1, 1, 1)),
        lambda s: grade_summary(s, date(1, 1, 1), date(2026, 3, 1)),
    ):
        with pytest.raises(ValidationError, match="0001-01-01: the year must be from 1900"):
            app.read(report)


# --- fees over long spans -----------------------------------------------------------------


def test_fees_over_a_thousand_years_are_computed_span_by_span():
    """A receivable due in 1900 seen in 2999: about 400,000 days, computed exactly without
    a step per day (the probe's year-1 row took 5.7 s per page)."""
    terms = fees.Terms(penalty_rate=Decimal("0.0005"))
    due = date(1900, 1, 1)
    as_of = date(2999, 12, 31)
    days = (as_of - due).days
    plan = [fees.Instalment(1, due, 100_000)]
    accrued = fees.accrue(terms, plan, [], as_of)
    assert accrued.total_minor == 50 * days and accrued.capped_on is None
    capped = fees.Terms(penalty_rate=Decimal("0.0005"), cap_minor=50_025)
    result = fees.accrue(capped, plan, [], as_of)
    # 50 a day: 50,000 after 1,000 days, the cap reached on day 1,001.
    assert (result.total_minor, result.capped_on) == (50_025, due + timedelta(days=1001))


def test_span_by_span_equals_day_by_day_on_random_contracts():
    """The per-day breakdown walks every day: its total and cap day are the reference."""
    rng = random.Random(20261129)
    modes = ("half_up", "half_even", "down", "up", "floor", "ceiling")
    for _ in range(300):
        start = date(2025, 1, 1) + timedelta(days=rng.randrange(60))
        plan, day = [], start
        for seq in range(1, rng.randrange(1, 4) + 1):
            plan.append(fees.Instalment(seq, day, rng.randrange(1, 500_000), rng.randrange(3)))
            day += timedelta(days=rng.randrange(1, 45))
        paid = []
        for _ in range(rng.randrange(4)):
            inst = rng.choice(plan)
            on = start + timedelta(days=rng.randrange(200))
            amount = rng.randrange(1, inst.principal_minor + 1) // 2
            paid.append(fees.Paid("principal", amount, on, inst.seq))
        terms = fees.Terms(
            grace_days=rng.choice((0, 0, 3, 10)),
            penalty_rate=rng.choice((Decimal("0.0005"), Decimal("0.18"), Decimal("0.000333"))),
            day_count=rng.choice(tuple(fees.DAY_COUNTS)),
            cap_minor=rng.choice((None, None, rng.randrange(0, 20_000))),
            rounding=rng.choice(modes),
        )
        as_of = start + timedelta(days=rng.randrange(400))
        fast = fees.accrue(terms, plan, paid, as_of)
        slow = fees.accrue(terms, plan, paid, as_of, daily=True)
        assert (fast.total_minor, fast.capped_on) == (slow.total_minor, slow.capped_on), (
            terms, plan, paid, as_of)  # fmt: skip


def test_a_receivable_due_in_1900_shows_its_page(app):
    import_rows(app, row("OLD-1", "1000.00", "1900-01-01", penalty_rate="0.0005"))
    detail = app.read(lambda s: receivable_detail(s, "OLD-1", date(2026, 3, 2), SHANGHAI))
    days = (date(2026, 3, 2) - date(1900, 1, 1)).days
    assert detail["days_past_due"] == days
    assert detail["fees"]["accrued"] == f"{Decimal(50 * days) / 100:.2f}"


# --- commands -----------------------------------------------------------------------------


def test_payment_promise_and_remedy_days_are_in_range(org_app):
    import_rows(org_app, row("P-1", "100.00", "2026-03-01", collector="wu"))
    with pytest.raises(ValidationError, match="on 0001-01-01: the year must be") as refused:
        org_app.execute(RecordPayment("P-1", "10.00", date(1, 1, 1)), actor="wu")
    assert refused.value.details["fields"] == {"on": refused.value.message}
    with pytest.raises(ValidationError, match="on 3000-01-01: the year must be"):
        org_app.execute(RecordPromise("P-1", "10.00", date(3000, 1, 1)), actor="wu")
    deferral = RequestRemedy("P-1", "deferral", "needs time", until=date(3000, 1, 1))
    with pytest.raises(ValidationError, match="until 3000-01-01: the year must be"):
        org_app.execute(deferral, actor="wu")
    plan = RequestRemedy("P-1", "instalments", "needs time", schedule="3000-01-01=100.00")
    with pytest.raises(ValidationError, match="schedule 3000-01-01: the year must be"):
        org_app.execute(plan, actor="wu")
    assert org_app.read(lambda s: s.scalars(select(Payment)).all()) == []


def test_a_payment_dated_after_today_is_refused_and_a_later_one_still_goes_in(org_app):
    """A future-dated payment used to be applied and graded as of that day, and every
    payment after it was refused as out of date order, with no way to undo it."""
    import_rows(org_app, row("P-1", "100.00", "2026-02-01", collector="wu"))
    with pytest.raises(ValidationError, match="2026-03-03 is in the future") as refused:
        org_app.execute(RecordPayment("P-1", "10.00", date(2026, 3, 3)), actor="wu")
    assert refused.value.details["fields"] == {"on": refused.value.message}
    assert org_app.read(lambda s: s.scalars(select(Payment)).all()) == []
    paid = org_app.execute(RecordPayment("P-1", "10.00", date(2026, 3, 2)), actor="wu")
    assert paid.paid_on == date(2026, 3, 2)
    org_app.clock.advance(timedelta(days=1))
    org_app.execute(RecordPayment("P-1", "10.00", date(2026, 3, 3)), actor="wu")
    assert len(org_app.read(lambda s: s.scalars(select(Payment)).all())) == 2


def test_a_bank_reference_is_recorded_once_per_receivable(org_app):
    """The same transaction entered twice would be applied twice, and payments are never
    reversed: a reference already on the receivable is refused at its field."""
    import_rows(org_app, row("P-1", "1000.00", "2026-02-01", collector="wu"),
                row("P-2", "1000.00", "2026-02-01", collector="wu"))  # fmt: skip
    org_app.execute(RecordPayment("P-1", "100.00", date(2026, 3, 2), " TX-1 "), actor="wu")
    with pytest.raises(ValidationError, match="reference 'TX-1' is already recorded") as refused:
        org_app.execute(RecordPayment("P-1", "100.00", date(2026, 3, 2), "TX-1"), actor="wu")
    assert refused.value.details["fields"] == {"reference": refused.value.message}
    # Another receivable's payment may carry it (a transfer can settle several), and so
    # may payments with no reference at all.
    org_app.execute(RecordPayment("P-2", "100.00", date(2026, 3, 2), "TX-1"), actor="wu")
    for _ in range(2):
        org_app.execute(RecordPayment("P-1", "10.00", date(2026, 3, 2)), actor="wu")
    payments = org_app.read(lambda s: s.scalars(select(Payment).order_by(Payment.id)).all())
    assert [(p.amount_minor, p.reference) for p in payments] == [
        (10000, "TX-1"),
        (10000, "TX-1"),
        (1000, None),
        (1000, None),
    ]


def test_a_promise_holds_the_ladder_for_at_most_90_days(org_app):
    import_rows(org_app, row("P-1", "100.00", "2026-02-01", collector="wu"))
    with pytest.raises(ValidationError, match="more than 90 days ahead") as refused:
        org_app.execute(RecordPromise("P-1", "10.00", date(2099, 1, 1)), actor="wu")
    assert refused.value.details["fields"] == {"on": refused.value.message}
    last = date(2026, 3, 2) + timedelta(days=90)
    with pytest.raises(ValidationError, match="more than 90 days ahead"):
        org_app.execute(RecordPromise("P-1", "10.00", last + timedelta(days=1)), actor="wu")
    assert org_app.execute(RecordPromise("P-1", "10.00", last), actor="wu").promised_on == last


# --- the daily job ------------------------------------------------------------------------


@pytest.fixture
def debt_app(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn")
    return org_app


def verified(key: str, due: str) -> dict[str, str]:
    return row(key, "1000.00", due, phone="13900000009", contact_verified_on="2026-01-01",
               collector="wu")  # fmt: skip


def test_one_poisoned_receivable_does_not_stop_the_daily_run(debt_app):
    """The probe's year-1 due date (now refused by the import) written straight into the
    database: its case cannot start (the date arithmetic overflows), the others can."""
    import_rows(debt_app, verified("GOOD-1", "2026-02-01"), verified("BAD-1", "2026-02-01"),
                verified("GOOD-2", "2026-02-20"))  # fmt: skip

    def poison(ctx):
        bad = select(Receivable.id).where(Receivable.key == "BAD-1").scalar_subquery()
        ctx.session.execute(update(Instalment).where(Instalment.receivable_id == bad)
                            .values(due_date=date(1, 1, 1)))  # fmt: skip
        ctx.session.execute(update(Receivable).where(Receivable.key == "BAD-1")
                            .values(due_date=date(1, 1, 1)))  # fmt: skip

    debt_app.execute(poison)
    report = run_collection_day(debt_app, date(2026, 3, 2))
    assert report.started == ["GOOD-1", "GOOD-2"]
    assert sorted(n.split(":")[0] for n in report.notices) == ["GOOD-1", "GOOD-2"]
    (failure,) = report.failed
    assert failure.startswith("BAD-1: OverflowError")
    events = debt_app.read(lambda s: s.scalars(
        select(AuditEvent).where(AuditEvent.command == "collection.day_failed")).all())  # fmt: skip
    assert [(e.payload["key"], e.payload["as_of"]) for e in events] == [("BAD-1", "2026-03-02")]
    assert events[0].payload["error"].startswith("OverflowError")
    sent = debt_app.read(lambda s: s.scalar(select(CollectionNotice.id).limit(1)))
    assert sent is not None
    # The next day the job runs again, past the same row, and fails it again (recorded).
    again = run_collection_day(debt_app, date(2026, 3, 3))
    assert [f.split(":")[0] for f in again.failed] == ["BAD-1"]


def test_the_daily_run_refuses_a_day_out_of_range(debt_app):
    with pytest.raises(ValidationError, match="as_of 0001-01-01"):
        run_collection_day(debt_app, date(1, 1, 1))


# --- the web layer ------------------------------------------------------------------------


def test_payment_fields_that_are_not_text_are_refused_at_the_field(collection):  # noqa: F811
    call = api(collection, "zheng")
    path = "/api/collection/receivables/A-045/payments"
    for payload, field, message in (
        ({"amount": 500}, "amount", '"500.00"'),
        ({"amount": 5.5}, "amount", '"500.00"'),
        ({"amount": True}, "amount", '"500.00"'),
        ({"amount": "500.00", "on": 20260302}, "on", "YYYY-MM-DD"),
        ({"amount": "500.00", "reference": 7}, "reference", ""),
        ({"amount": "1e3"}, "amount", "plain decimal"),
        ({"amount": "1,2"}, "amount", "plain decimal"),
        ({"amount": "500.00", "on": "0001-01-01"}, "on", "1900"),
    ):
        response = call("POST", path, json=payload)
        assert response.status_code == 422, (payload, response.get_json())
        fields = response.get_json()["details"]["fields"]
        assert list(fields) == [field] and message in fields[field], (payload, fields)
    assert collection.engine.read(lambda s: s.scalars(
        select(Payment).join(Receivable).where(Receivable.key == "A-045")).all()) == []  # fmt: skip


def test_aging_with_thousands_of_bucket_edges_is_a_clear_422(collection):  # noqa: F811
    call = api(collection, "zhou")
    many = ",".join(str(n) for n in range(1, 5001))
    for query in (f"buckets={many}", "buckets=30,3651", "buckets=²", "as_of=3000-01-01"):
        response = call("GET", f"/api/collection/aging?{query}")
        assert response.status_code == 422, query
        assert set(response.get_json()["details"]["fields"]) <= {"buckets", "as_of"}, query
    assert call("GET", "/api/collection/receivables?page=²").status_code == 422


def test_the_export_over_the_api_is_inert(collection):  # noqa: F811
    formula = "=cmd|' /C calc'!A0"
    import_rows(collection.engine, row("X-1", "10.00", "2026-05-01", customer_name=formula,
                                       collector="wu"))  # fmt: skip
    text = api(collection, "zhou")("GET", "/api/collection/export").get_data(as_text=True)
    (record,) = [r for r in csv.DictReader(io.StringIO(text)) if r["receivable_key"] == "X-1"]
    assert record["customer_name"] == "'" + formula


ODD = ("", "²", "99999999999999999999999", "-1", "0", "garbage", "中文✓", "9999-12-31",
       "0001-01-01", "2026-02-30", "1e309", "NaN", "Infinity", "-0", "0.000000001", "1" * 400,
       "99999999999999999.99", "yes", "1,2", "none", "fees,fees", "a" * 5000,
       "=cmd|' /C calc'!A0")  # fmt: skip


def test_any_odd_value_in_any_column_is_a_row_result(org_app):
    """The probe's import fuzzing, in one file: every column, every odd value, one row
    each; every row gets a result (written or an error), none stops the import."""
    template = row("T", "1000.00", "2026-03-01", phone="13800000000", email="a@b.cn",
                   address="x", contact_verified_on="2026-01-01", credit_limit="100.00",
                   blacklisted="no", locale="zh-CN", currency="CNY", opened_on="2025-01-01",
                   department="collections", collector="wu", guarantee="none", grace_days="3",
                   penalty_rate="0.0005", day_count="daily", penalty_cap="10.00",
                   rounding="half_up", allocation_order="fees,interest,principal")  # fmt: skip
    rows = []
    for column in COLUMNS:
        for n, value in enumerate(ODD):
            key = f"Z-{column}-{n}"
            odd = {**template, "receivable_key": key, "customer_key": f"C-{key}", column: value}
            rows.append(odd)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    report = org_app.execute(ImportReceivables(parse_csv(out.getvalue()), "z.csv"), actor="t")
    assert len(report.rows) == len(rows)
    assert report.written and report.failed
    # A few that used to be taken as something else are refused now.
    errors = {r.key: r.error for r in report.rows}
    assert errors[f"Z-principal-{ODD.index('1,2')}"].startswith("principal: amount '1,2'")
    assert errors[f"Z-due_date-{ODD.index('0001-01-01')}"].startswith("due_date 0001-01-01")
    assert errors[f"Z-grace_days-{ODD.index('²')}"] == "grace_days '²': a whole number of days"
    assert errors[f"Z-credit_limit-{ODD.index('-1')}"] == "credit_limit must not be negative"
