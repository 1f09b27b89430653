"""Late fees (penalty interest, 罚息) and payment allocation, exactly, per contract terms.

Pure functions over plain values: no session, no clock. The rules, each chosen so
that a collector can explain a figure to a debtor day by day:

* **Base.** Penalty accrues on *overdue principal* only (never on interest or on
  earlier penalties: no compounding). Day ``d`` accrues on the principal still unpaid
  at the *end* of ``d``, so a debt due 1 March and paid on 5 March is late for the
  days 2, 3 and 4 (算头不算尾).
* **Grace.** Within ``grace_days`` after a due date nothing is charged yet. Money
  paid within the grace period counts as paid on time: it never bears penalty. Once
  the grace period has passed with principal still unpaid, that remaining principal
  bears penalty from the day after the due date (the grace period is forgiven only
  to those who use it).
* **Rate and day count.** ``daily``: the rate is per day (万分之五 = ``0.0005``).
  ``act/360`` and ``act/365``: the rate is annual and one actual day earns
  rate/360 or rate/365.
* **Rounding.** The running total is kept exact and rounded to whole minor units by
  the contract's mode each day; a day's figure is the change of the rounded total.
  Day figures are whole 分, add up exactly to the total, and never drift.
* **Cap.** The total penalty of a receivable never exceeds ``cap_minor``; the day
  the cap is reached is charged only up to it.
* **Allocation.** A payment pays what is *due* on its day in the contract's order of
  ``fees``, ``interest`` and ``principal`` (each across instalments, earliest due
  first); what is left prepays principal not yet due, earliest first. Paying more
  than is owed is refused. The penalty of the payment day itself is not yet due
  (it accrues at the end of that day, on what the payment leaves).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ..errors import ValidationError, at_field
from .money import context, format_amount, round_minor

COMPONENTS = ("fees", "interest", "principal")
# Days per year for annual rates; ``daily`` rates are used as they are.
DAY_COUNTS: dict[str, int | None] = {"daily": None, "act/360": 360, "act/365": 365}


@dataclass(frozen=True)
class Terms:
    """The fee clauses of one contract."""

    grace_days: int = 0
    penalty_rate: Decimal = Decimal(0)
    day_count: str = "daily"
    cap_minor: int | None = None
    rounding: str = "half_up"
    allocation_order: tuple[str, ...] = COMPONENTS
    # Penalty accrued under schedules a remedy replaced: owed like any penalty, and it
    # counts towards the cap (engine.collection.remedies).
    carried_minor: int = 0
    carried_through: date | None = None  # the last day ``carried_minor`` covers

    def __post_init__(self) -> None:
        check_terms(self)

    def daily_rate(self) -> Decimal:
        days = DAY_COUNTS[self.day_count]
        return self.penalty_rate if days is None else self.penalty_rate / Decimal(days)


def check_terms(terms: Terms) -> None:
    if terms.grace_days < 0 or terms.grace_days > 3650:
        raise ValidationError(f"grace_days {terms.grace_days}: between 0 and 3650")
    if terms.day_count not in DAY_COUNTS:
        raise ValidationError(
            f"day_count {terms.day_count!r} unknown; use one of {', '.join(DAY_COUNTS)}"
        )
    if not terms.penalty_rate.is_finite() or not 0 <= terms.penalty_rate <= 10:
        raise ValidationError(f"penalty_rate {terms.penalty_rate}: between 0 and 10")
    if terms.cap_minor is not None and terms.cap_minor < 0:
        raise ValidationError("penalty cap must not be negative")
    if terms.carried_minor < 0:
        raise ValidationError("carried penalty must not be negative")
    round_minor(Decimal(0), terms.rounding)  # raises on an unknown mode
    if sorted(terms.allocation_order) != sorted(COMPONENTS):
        raise ValidationError(
            f"allocation order {','.join(terms.allocation_order)!r} must name each of "
            f"{', '.join(COMPONENTS)} once"
        )


def parse_rate(text: str) -> Decimal:
    """A rate as an exact decimal string (``0.0005``), or a percentage (``0.05%``)."""
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        rate = Decimal(raw.rstrip("%").strip() or "0")
    except ArithmeticError:
        raise ValidationError(f"penalty rate {text!r} is not a decimal number") from None
    if not rate.is_finite():
        raise ValidationError(f"penalty rate {text!r} is not a finite number")
    return rate / 100 if percent else rate


def parse_order(text: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in text.replace(">", ",").split(",") if part.strip())


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: date
    principal_minor: int
    interest_minor: int = 0


@dataclass(frozen=True)
class Paid:
    """Part of a payment applied to one component (and instalment, except for fees)."""

    component: str
    amount_minor: int
    paid_on: date
    seq: int | None = None


@dataclass(frozen=True)
class FeeDay:
    day: date
    base_minor: int  # overdue principal bearing penalty on this day
    exact: Decimal  # this day's penalty in (fractional) minor units, before rounding
    amount_minor: int  # this day's change of the rounded, capped running total
    total_minor: int  # penalty accrued up to and including this day
    capped: bool


@dataclass(frozen=True)
class Accrual:
    as_of: date
    total_minor: int
    capped_on: date | None
    days: list[FeeDay] = field(default_factory=list)


@dataclass(frozen=True)
class Owed:
    as_of: date
    fees_accrued: int
    fees_paid: int
    fees: int
    interest: int
    principal_due: int
    principal_outstanding: int

    @property
    def total_due(self) -> int:
        return self.fees + self.interest + self.principal_due

    @property
    def payoff(self) -> int:
        """Everything that settles the receivable today: due items and all principal."""
        return self.fees + self.interest + self.principal_outstanding


def _principal_paid(paid: Iterable[Paid], seq: int, until: date) -> int:
    return sum(
        p.amount_minor
        for p in paid
        if p.component == "principal" and p.seq == seq and p.paid_on <= until
    )


def accrue(
    terms: Terms,
    instalments: Sequence[Instalment],
    paid: Sequence[Paid],
    as_of: date,
    *,
    through_previous_day: bool = False,
    daily: bool = False,
) -> Accrual:
    """Penalty accrued as known on ``as_of`` (by the end of that day, or of the day before).

    ``daily`` keeps the per-day breakdown (only days with a base are listed). Without it
    the days are taken a span at a time (:func:`_spans`): the base only changes on a due
    date, the end of a grace period or a payment, so a receivable decades overdue costs
    a few steps, not one per day.
    """
    last_day = as_of - timedelta(days=1) if through_previous_day else as_of
    rate = terms.daily_rate()
    # Instalments whose grace period has passed (as known on as_of) bear penalty.
    bearing = [i for i in instalments if as_of > i.due_date + timedelta(days=terms.grace_days)]
    carried = terms.carried_minor
    if not bearing or rate == 0:
        return Accrual(as_of, carried, None)
    run = _Running(terms, Decimal(carried), carried)
    first = min(i.due_date for i in bearing) + timedelta(days=1)
    if terms.carried_through is not None:
        first = max(first, terms.carried_through + timedelta(days=1))
    last_due = max(i.due_date for i in bearing)
    for start, end in _spans(first, last_day, bearing, paid, terms.grace_days):
        base = _base(bearing, paid, start, terms.grace_days)
        if base <= 0 and start > last_due and _all_paid(bearing, paid, start):
            break  # settled: nothing accrues any more
        exact = context().multiply(Decimal(base), rate)
        if daily:
            run.each_day(start, end, base, exact)
        elif run.span(start, end, exact):
            break  # capped: nothing more can be charged
    return Accrual(as_of, run.total, run.capped_on, run.days)


def _spans(
    first: date, last: date, bearing: Sequence[Instalment], paid: Sequence[Paid], grace: int
) -> list[tuple[date, date]]:
    """``first``..``last`` cut into spans of days on which the base is the same: it changes
    the day after a due date, the day after a grace period ends, and on a payment day."""
    if first > last:
        return []
    one = timedelta(days=1)
    changes = {i.due_date + one for i in bearing}
    changes |= {i.due_date + timedelta(days=grace) + one for i in bearing}
    changes |= {p.paid_on for p in paid if p.component == "principal"}
    spans, start = [], first
    for cut in sorted(d for d in changes if first < d <= last):
        spans.append((start, cut - one))
        start = cut
    spans.append((start, last))
    return spans


def _base(bearing: Sequence[Instalment], paid: Sequence[Paid], day: date, grace: int) -> int:
    """The overdue principal bearing penalty on ``day``."""
    base = 0
    for inst in bearing:
        if day > inst.due_date:
            grace_end = inst.due_date + timedelta(days=grace)
            # Money paid within the grace period counts as paid on the due date.
            counted_until = max(day, grace_end)
            base += inst.principal_minor - _principal_paid(paid, inst.seq, counted_until)
    return base


@dataclass
class _Running:
    """The penalty so far: exact, and rounded by the contract's mode and capped."""

    terms: Terms
    exact: Decimal  # in (fractional) minor units
    total: int
    capped_on: date | None = None
    days: list[FeeDay] = field(default_factory=list)

    def _rounded(self, exact: Decimal) -> int:
        return int(round_minor(exact, self.terms.rounding))

    def _capped(self, rounded: int) -> bool:
        return self.terms.cap_minor is not None and rounded >= self.terms.cap_minor

    def _limited(self, rounded: int) -> int:
        cap = self.terms.cap_minor
        return rounded if cap is None else min(rounded, cap)

    def each_day(self, start: date, end: date, base: int, exact: Decimal) -> None:
        """Accrue ``exact`` on each day of start..end, keeping every day's figures."""
        ctx, day = context(), start
        while day <= end:
            self.exact = ctx.add(self.exact, exact)
            rounded = self._rounded(self.exact)
            capped = self._capped(rounded)
            new_total = self._limited(rounded)
            if capped and self.capped_on is None:
                self.capped_on = day
            if base > 0:
                self.days.append(
                    FeeDay(day, base, exact, new_total - self.total, new_total, capped)
                )
            self.total = new_total
            day += timedelta(days=1)

    def span(self, start: date, end: date, exact: Decimal) -> bool:
        """Accrue ``exact`` on each day of start..end at once; True once the cap is reached.

        The rounded total depends only on the exact one, so the span's end is computed
        directly; when it reaches the cap, the first day it does is found by halving
        (the total never falls within a span: its base is the same each day).
        """
        ctx = context()

        def after(days: int) -> Decimal:
            return ctx.add(self.exact, ctx.multiply(exact, Decimal(days)))

        days = (end - start).days + 1
        rounded = self._rounded(after(days))
        if not self._capped(rounded):
            self.exact, self.total = after(days), rounded
            return False
        low, high = 1, days
        while low < high:
            middle = (low + high) // 2
            if self._capped(self._rounded(after(middle))):
                high = middle
            else:
                low = middle + 1
        self.capped_on = start + timedelta(days=low - 1)
        self.exact = after(low)
        self.total = self._limited(self._rounded(self.exact))
        return True


def _all_paid(instalments: Sequence[Instalment], paid: Sequence[Paid], day: date) -> bool:
    return all(i.principal_minor <= _principal_paid(paid, i.seq, day) for i in instalments)


def owed(
    terms: Terms,
    instalments: Sequence[Instalment],
    paid: Sequence[Paid],
    as_of: date,
    *,
    through_previous_day: bool = False,
) -> Owed:
    """What the debtor owes as of ``as_of``; payments after that day are ignored."""
    known = [p for p in paid if p.paid_on <= as_of]
    accrued = accrue(terms, instalments, known, as_of, through_previous_day=through_previous_day)
    fees_paid = sum(p.amount_minor for p in known if p.component == "fees")
    interest = sum(_left(i, known, "interest") for i in instalments if i.due_date <= as_of)
    principal_due = sum(_left(i, known, "principal") for i in instalments if i.due_date <= as_of)
    outstanding = sum(_left(i, known, "principal") for i in instalments)
    return Owed(
        as_of,
        accrued.total_minor,
        fees_paid,
        accrued.total_minor - fees_paid,
        interest,
        principal_due,
        outstanding,
    )


def _left(inst: Instalment, paid: Iterable[Paid], component: str) -> int:
    amount = inst.principal_minor if component == "principal" else inst.interest_minor
    return amount - sum(
        p.amount_minor for p in paid if p.component == component and p.seq == inst.seq
    )


def allocate(
    terms: Terms,
    instalments: Sequence[Instalment],
    paid: Sequence[Paid],
    amount_minor: int,
    on: date,
    currency: str = "CNY",
) -> list[Paid]:
    """Split a payment made on ``on`` into its parts, in the contract's order."""
    if amount_minor <= 0:
        raise at_field("amount", "a payment must be a positive amount")
    if any(p.paid_on > on for p in paid):
        latest = max(p.paid_on for p in paid)
        raise at_field("on", f"a payment on {on} would change how the payment of {latest} "
                       "was allocated; record payments in date order")  # fmt: skip
    # A principal instalment due today is payable today, before it is overdue.
    ordered = sorted(instalments, key=lambda i: (i.due_date, i.seq))
    due_now = [i for i in ordered if i.due_date <= on]
    fees_due = owed(terms, instalments, paid, on, through_previous_day=True).fees
    left = amount_minor
    parts: list[Paid] = []
    for component in terms.allocation_order:
        if component == "fees":
            take = min(left, fees_due)
            if take:
                parts.append(Paid("fees", take, on))
            left -= take
            continue
        for inst in due_now:
            take = min(left, _left(inst, [*paid, *parts], component))
            if take > 0:
                parts.append(Paid(component, take, on, inst.seq))
                left -= take
    for inst in ordered:  # prepayment of principal not yet due
        take = min(left, _left(inst, [*paid, *parts], "principal"))
        if take > 0:
            parts.append(Paid("principal", take, on, inst.seq))
            left -= take
    if left:
        total = amount_minor - left
        raise at_field("amount", f"payment of {format_amount(amount_minor, currency)} is "
                       f"more than the {format_amount(total, currency)} owed on {on}")  # fmt: skip
    return _merge(parts)


def _merge(parts: list[Paid]) -> list[Paid]:
    """One part per component and instalment (prepayment may add to a due part)."""
    merged: dict[tuple[str, int | None], Paid] = {}
    for part in parts:
        key = (part.component, part.seq)
        if key in merged:
            old = merged[key]
            merged[key] = Paid(
                old.component, old.amount_minor + part.amount_minor, part.paid_on, part.seq
            )
        else:
            merged[key] = part
    return list(merged.values())
