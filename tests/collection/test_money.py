"""Money is exact: integer minor units in the database, Decimal in Python, on both DBs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engine.collection.importing import export_rows, to_csv
from engine.collection.money import format_amount, from_minor, parse_amount, to_minor
from engine.collection.receivables import RecordPayment, load_account
from engine.errors import ValidationError
from engine.store.collection_tables import Payment, PaymentAllocation, Receivable

from .helpers import import_rows, row

HUGE = "12345678901234567.89"


def test_minor_units_round_trip_without_floats():
    assert parse_amount("1,234.50") == 123_450
    assert from_minor(123_450) == Decimal("1234.50")
    assert format_amount(5) == "0.05"
    assert parse_amount(HUGE) == 1_234_567_890_123_456_789
    assert str(from_minor(parse_amount(HUGE))) == HUGE
    assert parse_amount("1200", "JPY") == 1200 and format_amount(1200, "JPY") == "1200"
    assert to_minor(Decimal("0.125"), rounding="half_even") == 12
    with pytest.raises(ValidationError, match="more than 2 decimals"):
        parse_amount("0.125")
    with pytest.raises(ValidationError, match="never a float"):
        parse_amount(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="too large"):
        parse_amount("92233720368547758.08")


def test_huge_principal_is_stored_and_read_back_exactly(app):
    import_rows(app, row("BIG", HUGE, "2026-03-01"))
    stored = app.read(lambda s: s.scalar(select(Receivable.principal_minor)))
    assert stored == 1_234_567_890_123_456_789
    assert str(from_minor(stored)) == HUGE
    summed = app.read(lambda s: s.scalar(select(func.sum(Receivable.principal_minor))))
    assert int(summed) == 1_234_567_890_123_456_789
    assert f",{HUGE}," in app.read(lambda s: to_csv(export_rows(s)))


def test_ten_payments_of_ten_fen_sum_to_one_yuan_in_sql(app):
    import_rows(app, row("DIMES", "1.00", "2026-03-31"))
    for _ in range(10):
        app.execute(RecordPayment("DIMES", "0.10", date(2026, 3, 2)))
    total = app.read(lambda s: s.scalar(select(func.sum(Payment.amount_minor))))
    assert from_minor(int(total)) == Decimal("1.00")
    principal = app.read(
        lambda s: s.scalar(
            select(func.sum(PaymentAllocation.amount_minor)).where(
                PaymentAllocation.component == "principal"
            )
        )
    )
    assert int(principal) == 100
    account = app.read(lambda s: load_account(s, "DIMES"))
    assert account.owed(date(2026, 3, 2)).payoff == 0
