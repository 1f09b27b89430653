"""Credit-limit reduction for repeated lateness (rule configurable, applied by the daily job).

The rule (``collection_credit_rule``; ``caseclock collection credit-rule set``): a
customer with at least ``breaches`` lateness events within the last ``months`` months
has the credit limit reduced by ``percent`` per cent (rounded down to the minor unit).
Defaults: 3 events in 6 months, 20 %.

A lateness event is

* a promise to pay found **broken**, counted on its promised day, and
* an instalment whose principal was not fully paid by the end of its grace period
  (due date + grace days), counted on the day after that grace period ended.

The window is (as_of − months, as_of], months counted by the calendar (31 Mar − 1
month = 28/29 Feb). A customer is reduced at most once per window: another reduction
needs ``months`` months to pass since the last one, and the rule to hold again. Every
reduction is a ``credit_limit_change`` row with the figures it was based on and a
``collection.credit_reduced`` audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import ValidationError
from ..executor import CommandContext
from ..store.collection_tables import Customer, Receivable
from ..store.ladder_tables import CreditLimitChange, CreditRule, PromiseToPay
from .money import format_amount
from .receivables import load_account


@dataclass(frozen=True)
class Rule:
    breaches: int = 3
    months: int = 6
    percent: Decimal = Decimal(20)

    def to_dict(self) -> dict[str, Any]:
        return {"breaches": self.breaches, "months": self.months, "percent": str(self.percent)}


DEFAULT_RULE = Rule()


def rule(session: Session) -> Rule:
    row = session.scalars(select(CreditRule).order_by(CreditRule.id.desc())).first()
    if row is None:
        return DEFAULT_RULE
    return Rule(row.breaches, row.months, Decimal(row.percent))


class SetCreditRule:
    name = "collection_credit_rule_set"

    def __init__(self, breaches: int, months: int, percent: str) -> None:
        self.breaches, self.months, self.percent = breaches, months, percent

    def __call__(self, ctx: CommandContext) -> Rule:
        try:
            percent = Decimal(str(self.percent).rstrip("%"))
        except ArithmeticError:
            raise ValidationError(f"percent {self.percent!r} is not a number") from None
        if not percent.is_finite() or not 0 < percent <= 100:
            raise ValidationError("percent must be more than 0 and at most 100")
        if self.breaches < 1 or not 1 <= self.months <= 120:
            raise ValidationError("breaches must be ≥ 1 and months between 1 and 120")
        new = Rule(self.breaches, self.months, percent)
        row = ctx.session.scalars(select(CreditRule)).first()
        if row is None:
            row = CreditRule(breaches=0, months=0, percent="0", updated_at=ctx.now,
                             updated_by=ctx.actor)  # fmt: skip
            ctx.session.add(row)
        row.breaches, row.months, row.percent = new.breaches, new.months, str(new.percent)
        row.updated_at, row.updated_by = ctx.now, ctx.actor
        ctx.session.flush()
        audit.append(ctx, "collection.credit_rule_set", payload=new.to_dict())
        return new


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def lateness_events(session: Session, customer_id: int, since: date, until: date) -> list[str]:
    """The customer's lateness events on days in (since, until], described."""
    events = [
        f"promise #{p.id} broken ({p.promised_on})"
        for p in session.scalars(
            select(PromiseToPay)
            .where(
                PromiseToPay.customer_id == customer_id,
                PromiseToPay.outcome == "broken",
                PromiseToPay.promised_on > since,
                PromiseToPay.promised_on <= until,
            )
            .order_by(PromiseToPay.id)
        )
    ]
    keys = session.scalars(
        select(Receivable.key).where(Receivable.customer_id == customer_id).order_by(Receivable.id)
    ).all()
    for key in keys:
        account = load_account(session, key)
        grace = timedelta(days=account.terms.grace_days)
        for inst in account.instalments:
            late_on = inst.due_date + grace + timedelta(days=1)
            if not since < late_on <= until:
                continue
            paid = sum(
                p.amount_minor for p in account.paid
                if p.component == "principal" and p.seq == inst.seq and p.paid_on < late_on
            )  # fmt: skip
            if paid < inst.principal_minor:
                events.append(f"{key} #{inst.seq} due {inst.due_date} unpaid after grace")
    return events


@dataclass(frozen=True)
class Reduction:
    customer: str
    old_minor: int
    new_minor: int
    currency: str
    events: list[str]

    def to_dict(self) -> dict[str, Any]:
        money = self.currency
        return {"customer": self.customer, "old": format_amount(self.old_minor, money),
                "new": format_amount(self.new_minor, money), "events": self.events}  # fmt: skip


class ApplyCreditRule:
    """Reduce the limits the rule calls for as of a day (idempotent for that day)."""

    name = "collection_credit_rule_apply"

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of

    def __call__(self, ctx: CommandContext) -> list[Reduction]:
        current = rule(ctx.session)
        since = months_before(self.as_of, current.months)
        result = []
        customers = ctx.session.scalars(
            select(Customer)
            .where(Customer.credit_limit_minor > 0)
            .where(Customer.id.in_(select(Receivable.customer_id)))
            .order_by(Customer.id)
        ).all()
        for customer in customers:
            recent = ctx.session.scalar(
                select(CreditLimitChange.id).where(
                    CreditLimitChange.customer_id == customer.id,
                    CreditLimitChange.applied_on > since,
                )
            )
            if recent:
                continue
            events = lateness_events(ctx.session, customer.id, since, self.as_of)
            if len(events) < current.breaches:
                continue
            old = customer.credit_limit_minor or 0
            keep = (Decimal(100) - current.percent) / Decimal(100)
            new = int((Decimal(old) * keep).to_integral_value(rounding=ROUND_FLOOR))
            customer.credit_limit_minor = new
            ctx.session.add(CreditLimitChange(
                customer_id=customer.id, applied_on=self.as_of, old_minor=old, new_minor=new,
                breaches=len(events), rule={**current.to_dict(), "events": events},
                created_at=ctx.now,
            ))  # fmt: skip
            reduction = Reduction(customer.key, old, new, customer.credit_currency, events)
            audit.append(ctx, "collection.credit_reduced", payload={
                **reduction.to_dict(), "rule": current.to_dict(), "as_of": self.as_of.isoformat(),
            })  # fmt: skip
            result.append(reduction)
        ctx.session.flush()
        return result


def change_rows(session: Session, customer: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(CreditLimitChange, Customer)
        .join(Customer, Customer.id == CreditLimitChange.customer_id)
        .order_by(CreditLimitChange.id)
    )
    if customer:
        query = query.where(Customer.key == customer)
    return [
        {"customer": c.key, "applied_on": ch.applied_on.isoformat(),
         "old": format_amount(ch.old_minor, c.credit_currency),
         "new": format_amount(ch.new_minor, c.credit_currency), "breaches": ch.breaches}
        for ch, c in session.execute(query)
    ]  # fmt: skip
