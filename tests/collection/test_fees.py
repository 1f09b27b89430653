"""Fee arithmetic against cases computed by hand (the working is in each comment).

Amounts are minor units (分): 1_000_000 = 10,000.00 CNY. Unless said otherwise the
debt is 10,000.00 due on Sun 1 March 2026 at 万分之五 a day (0.0005, ``daily``), which
is 1,000,000 × 0.0005 = 500 分 = 5.00 a day on the full principal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.collection import fees
from engine.collection.fees import Instalment, Paid, Terms
from engine.errors import ValidationError

DUE = date(2026, 3, 1)
ONE = [Instalment(1, DUE, 1_000_000)]
DAILY = Terms(penalty_rate=Decimal("0.0005"))


def accrued(terms: Terms, as_of: date, paid: list[Paid] | None = None, inst=ONE) -> int:
    return fees.accrue(terms, inst, paid or [], as_of).total_minor


def test_1_simple_daily_rate_counts_days_after_the_due_date():
    # Days 2..11 March = 10 days x 5.00 = 50.00; the due date itself is not late.
    assert accrued(DAILY, date(2026, 3, 11)) == 5000
    assert accrued(DAILY, DUE) == 0
    assert accrued(DAILY, date(2026, 3, 2)) == 500


def test_2_grace_period_charges_nothing_until_it_has_passed_then_counts_from_the_due_date():
    terms = Terms(grace_days=5, penalty_rate=Decimal("0.0005"))
    # Grace ends 6 March: as of 6 March nothing is charged yet.
    assert accrued(terms, date(2026, 3, 6)) == 0
    # On 7 March the grace period has passed unpaid: days 2..7 = 6 x 5.00 = 30.00.
    assert accrued(terms, date(2026, 3, 7)) == 3000


def test_3_partial_payment_within_the_grace_period_counts_as_paid_on_time():
    terms = Terms(grace_days=5, penalty_rate=Decimal("0.0005"))
    # 6,000.00 paid on 4 March (within grace): nothing due yet, all of it is principal.
    parts = fees.allocate(terms, ONE, [], 600_000, date(2026, 3, 4))
    assert parts == [Paid("principal", 600_000, date(2026, 3, 4), 1)]
    # As of 10 March the remaining 4,000.00 bears penalty from 2 March: 9 days x
    # 400,000 x 0.0005 = 200 分 a day = 18.00; the 6,000.00 never bears any.
    assert accrued(terms, date(2026, 3, 10), parts) == 1800
    owed = fees.owed(terms, ONE, parts, date(2026, 3, 10))
    assert (owed.fees, owed.principal_due, owed.total_due) == (1800, 400_000, 401_800)
    # Paid in full on the last grace day: nothing, ever.
    full = fees.allocate(terms, ONE, [], 1_000_000, date(2026, 3, 6))
    assert accrued(terms, date(2026, 12, 31), full) == 0


def test_4_cap_reached_mid_period_charges_that_day_only_up_to_the_cap():
    terms = Terms(penalty_rate=Decimal("0.0005"), cap_minor=1200)
    # 5.00 a day, cap 12.00: 2 Mar 5.00, 3 Mar 5.00 (10.00), 4 Mar 2.00 (12.00), then 0.
    result = fees.accrue(terms, ONE, [], date(2026, 3, 5), daily=True)
    assert result.total_minor == 1200 and result.capped_on == date(2026, 3, 4)
    assert [d.amount_minor for d in result.days] == [500, 500, 200, 0]
    assert [d.total_minor for d in result.days] == [500, 1000, 1200, 1200]
    assert accrued(terms, date(2027, 3, 1)) == 1200


def test_5_day_count_basis_turns_an_annual_rate_into_a_daily_one():
    # 18% a year, 30 days (2..31 March).
    # act/360: 1,000,000 x 0.18 / 360 = 500 分 a day -> 15,000 分 = 150.00.
    act360 = Terms(penalty_rate=Decimal("0.18"), day_count="act/360")
    assert accrued(act360, date(2026, 3, 31)) == 15_000
    # act/365: 1,000,000 x 0.18 / 365 = 493.150684931... 分 a day; x 30 =
    # 14,794.5205... -> 14,795 分 = 147.95 (half up).
    act365 = Terms(penalty_rate=Decimal("0.18"), day_count="act/365")
    assert accrued(act365, date(2026, 3, 31)) == 14_795


def test_6_rounding_mode_applies_to_the_running_total_so_days_never_drift():
    small = [Instalment(1, DUE, 1_000)]  # 10.00: 0.5 分 a day
    # Running total 0.5, 1.0, 1.5 分. half_up: 1, 1, 2 -> days 1, 0, 1 = 2 分 (rounding
    # each day instead would charge 3). half_even: 0, 1, 2. down: 0, 1, 1 -> 1 分.
    expected = {"half_up": [1, 0, 1], "half_even": [0, 1, 1], "down": [0, 1, 0], "up": [1, 0, 1]}
    for mode, days in expected.items():
        terms = Terms(penalty_rate=Decimal("0.0005"), rounding=mode)
        result = fees.accrue(terms, small, [], date(2026, 3, 4), daily=True)
        assert [d.amount_minor for d in result.days] == days, mode
        assert result.total_minor == sum(days)
        assert [d.exact for d in result.days] == [Decimal("0.5")] * 3


SCHEDULE = [
    Instalment(1, date(2026, 3, 1), 500_000, 10_000),  # 5,000.00 + 100.00 interest
    Instalment(2, date(2026, 4, 1), 500_000, 5_000),  # 5,000.00 + 50.00 interest
]


def test_7_allocation_fees_then_interest_then_principal_and_recomputed_fees():
    # Paid 3,000.00 on 11 March. Due then: penalty for 2..10 March = 9 x 500,000 x
    # 0.0005 = 9 x 250 = 2,250 分 (22.50; the 11th is not over yet); interest of #1
    # 100.00; principal of #1 5,000.00. Fees 22.50, interest 100.00, principal 2,877.50.
    parts = fees.allocate(DAILY, SCHEDULE, [], 300_000, date(2026, 3, 11))
    assert parts == [
        Paid("fees", 2_250, date(2026, 3, 11)),
        Paid("interest", 10_000, date(2026, 3, 11), 1),
        Paid("principal", 287_750, date(2026, 3, 11), 1),
    ]
    # As of 20 March: 2,250 + 10 days (11..20) x 212,250 x 0.0005 (106.125 分) =
    # 3,311.25 -> 3,311 分; 22.50 is paid, so 33.11 - 22.50 = 10.61 is owed.
    owed = fees.owed(DAILY, SCHEDULE, parts, date(2026, 3, 20))
    assert (owed.fees_accrued, owed.fees, owed.interest) == (3_311, 1_061, 0)
    assert (owed.principal_due, owed.principal_outstanding) == (212_250, 712_250)


def test_8_allocation_principal_first_leaves_fees_and_interest_owed():
    terms = Terms(
        penalty_rate=Decimal("0.0005"), allocation_order=("principal", "interest", "fees")
    )
    # The same 3,000.00 on 11 March all goes to #1's principal (5,000.00 due).
    parts = fees.allocate(terms, SCHEDULE, [], 300_000, date(2026, 3, 11))
    assert parts == [Paid("principal", 300_000, date(2026, 3, 11), 1)]
    owed = fees.owed(terms, SCHEDULE, parts, date(2026, 3, 11))
    # 22.50 for 2..10 March, plus the 11th on the 2,000.00 left: 200,000 x 0.0005 = 100.
    assert (owed.fees, owed.interest, owed.principal_due) == (2_350, 10_000, 200_000)


def test_9_paid_in_full_on_the_fifth_is_late_for_the_second_third_and_fourth():
    # 算头不算尾: 3 days x 5.00 = 15.00 is due on 5 March with the principal.
    parts = fees.allocate(DAILY, ONE, [], 1_001_500, date(2026, 3, 5))
    assert parts == [
        Paid("fees", 1_500, date(2026, 3, 5)),
        Paid("principal", 1_000_000, date(2026, 3, 5), 1),
    ]
    owed = fees.owed(DAILY, ONE, parts, date(2026, 12, 31))
    assert (owed.fees_accrued, owed.payoff) == (1_500, 0)


def test_10_prepayment_goes_to_principal_not_yet_due_and_overpaying_is_refused():
    # On 11 March 5,122.50 is due (22.50 + 100.00 + 5,000.00); 1,000.00 more prepays #2.
    parts = fees.allocate(DAILY, SCHEDULE, [], 612_250, date(2026, 3, 11))
    assert parts[-1] == Paid("principal", 100_000, date(2026, 3, 11), 2)
    with pytest.raises(ValidationError, match=r"more than the 10122\.50 owed"):
        fees.allocate(DAILY, SCHEDULE, [], 1_020_000, date(2026, 3, 11))


def test_back_dated_payments_and_bad_terms_are_refused():
    parts = fees.allocate(DAILY, ONE, [], 100, date(2026, 3, 10))
    with pytest.raises(ValidationError, match="date order"):
        fees.allocate(DAILY, ONE, parts, 100, date(2026, 3, 9))
    with pytest.raises(ValidationError, match="day_count"):
        Terms(day_count="30/360")
    with pytest.raises(ValidationError, match="allocation order"):
        Terms(allocation_order=("fees", "principal"))
    with pytest.raises(ValidationError, match="rounding"):
        Terms(rounding="nearest")
    assert fees.parse_rate("0.05%") == Decimal("0.0005")
