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

A collection supervisor can put a reduced limit back (:class:`RestoreCreditLimit`), with
a reason: the customer's latest reduction, once, and only while the limit is still the
one the rule set. The restore is a ``credit_limit_restore`` row and a
``collection.credit_restored`` audit event; :func:`change_rows` lists reductions and
restores together, the history of the customer's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..executor import CommandContext
from ..store.collection_tables import CreditLimitRestore, Customer, Receivable
from ..store.ladder_tables import CreditLimitChange, CreditRule, PromiseToPay
from .money import format_amount
from .receivables import load_account, local_today
from .remedies import SUPERVISORS, in_group


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
            }, chain=audit.COLLECTION)  # fmt: skip
            result.append(reduction)
        ctx.session.flush()
        return result


class RestoreCreditLimit:
    """A collection supervisor puts back the limit the rule reduced (the customer's latest
    reduction, or ``change_id``), with a reason."""

    name = "collection_credit_restore"

    def __init__(self, customer: str, reason: str, change_id: int | None = None) -> None:
        self.customer, self.reason, self.change_id = customer, reason.strip(), change_id

    def __call__(self, ctx: CommandContext) -> CreditLimitRestore:
        if not self.reason:
            raise ValidationError("restoring a credit limit needs a reason")
        if not in_group(ctx.session, ctx.actor, SUPERVISORS):
            raise Forbidden(f"{ctx.actor!r} is not a collection supervisor")
        customer = ctx.session.scalars(
            select(Customer).where(Customer.key == self.customer).with_for_update()
        ).first()
        if customer is None:
            raise NotFound(f"no customer {self.customer!r}")
        latest = ctx.session.scalars(
            select(CreditLimitChange)
            .where(CreditLimitChange.customer_id == customer.id)
            .order_by(CreditLimitChange.id.desc())
        ).first()
        if latest is None:
            raise NotFound(f"the credit rule never reduced the limit of {customer.key!r}")
        if self.change_id is not None and self.change_id != latest.id:
            raise Conflict(f"only the latest reduction of {customer.key!r} (#{latest.id}) "
                           "can be restored")  # fmt: skip
        done = ctx.session.scalar(
            select(CreditLimitRestore.id).where(CreditLimitRestore.change_id == latest.id)
        )
        if done:
            raise Conflict(f"reduction #{latest.id} of {customer.key!r} was restored already")
        money = customer.credit_currency
        if customer.credit_limit_minor != latest.new_minor:
            now = customer.credit_limit_minor
            raise Conflict(
                f"the limit of {customer.key!r} is "
                f"{'none' if now is None else format_amount(now, money)}, not the "
                f"{format_amount(latest.new_minor, money)} the rule set: it changed since"
            )
        row = CreditLimitRestore(
            customer_id=customer.id, change_id=latest.id, restored_on=local_today(ctx),
            old_minor=latest.new_minor, new_minor=latest.old_minor, reason=self.reason[:200],
            restored_by=ctx.actor, restored_at=ctx.now,
        )  # fmt: skip
        customer.credit_limit_minor = latest.old_minor
        ctx.session.add(row)
        ctx.session.flush()
        audit.append(ctx, "collection.credit_restored", payload={
            "customer": customer.key, "reduction": latest.id, "reason": row.reason,
            "old": format_amount(row.old_minor, money), "new": format_amount(row.new_minor, money),
        }, chain=audit.COLLECTION)  # fmt: skip
        return row


def change_rows(session: Session, customer: str | None = None) -> list[dict[str, Any]]:
    """The history of limits changed here: reductions by the rule and restores by a
    supervisor, in the order they happened."""
    reductions = select(CreditLimitChange, Customer).join(
        Customer, Customer.id == CreditLimitChange.customer_id
    )
    restores = select(CreditLimitRestore, Customer).join(
        Customer, Customer.id == CreditLimitRestore.customer_id
    )
    if customer:
        reductions = reductions.where(Customer.key == customer)
        restores = restores.where(Customer.key == customer)
    rows = [
        (ch.created_at, {
            "customer": c.key, "on": ch.applied_on.isoformat(), "change": "reduced",
            "old": format_amount(ch.old_minor, c.credit_currency),
            "new": format_amount(ch.new_minor, c.credit_currency), "by": "credit rule",
            "reason": f"{ch.breaches} lateness event(s)", "reduction": ch.id,
        })
        for ch, c in session.execute(reductions)
    ] + [
        (r.restored_at, {
            "customer": c.key, "on": r.restored_on.isoformat(), "change": "restored",
            "old": format_amount(r.old_minor, c.credit_currency),
            "new": format_amount(r.new_minor, c.credit_currency), "by": r.restored_by,
            "reason": r.reason, "reduction": r.change_id,
        })
        for r, c in session.execute(restores)
    ]  # fmt: skip
    return [row for _, row in sorted(rows, key=lambda item: (item[0], item[1]["change"]))]
