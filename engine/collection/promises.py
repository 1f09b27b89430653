"""Promises to pay (承诺还款): recorded, checked after their day, counted when broken.

A promise stands until the end of its day: the daily collection job checks it the
morning after (:class:`CheckPromises`). It is *kept* when the payments recorded from
the day it was made up to its day add up to the amount promised, or nothing is owed
any more; otherwise it is *broken*: the case hears ``promise_broken`` (a follow-up task
for the collector opens) and the customer's count of broken promises goes up. While a
promise stands the ladder sends the debtor no notices (:mod:`.daily`): pressing a
debtor who has just agreed to pay does not help.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import at_field
from ..executor import CommandContext
from ..inputs import check_day
from ..store.collection_tables import Payment, Receivable
from ..store.ladder_tables import PromiseToPay
from . import case_events
from .money import format_amount, parse_amount
from .receivables import load_account, local_today

# While a promise stands the debtor gets no ladder notices: a promise further off would
# hold the ladder for as long as the collector chose.
LONGEST_PROMISE_DAYS = 90


class RecordPromise:
    name = "collection_promise"

    def __init__(self, receivable: str, amount: str, on: date) -> None:
        self.receivable, self.amount, self.on = receivable, amount, on

    def __call__(self, ctx: CommandContext) -> PromiseToPay:
        account = load_account(ctx.session, self.receivable)
        receivable = account.receivable
        amount = parse_amount(self.amount, receivable.currency)
        if amount <= 0:
            raise at_field("amount", "a promise to pay needs a positive amount")
        today = local_today(ctx)
        if check_day(self.on, "on") < today:
            raise at_field("on", f"the promised day {self.on} is in the past")
        if self.on > today + timedelta(days=LONGEST_PROMISE_DAYS):
            raise at_field(
                "on",
                f"the promised day {self.on} is more than {LONGEST_PROMISE_DAYS} days ahead: "
                "agree a payment plan instead",
            )
        promise = PromiseToPay(
            receivable_id=receivable.id, customer_id=receivable.customer_id,
            amount_minor=amount, promised_on=self.on, made_on=today, outcome="pending",
            recorded_at=ctx.now, recorded_by=ctx.actor,
        )  # fmt: skip
        ctx.session.add(promise)
        ctx.session.flush()
        audit.append(ctx, "collection.promise", payload={
            "id": promise.id, "receivable": receivable.key, "on": self.on.isoformat(),
            "amount": format_amount(amount, receivable.currency),
        }, chain=audit.COLLECTION)  # fmt: skip
        return promise


@dataclass
class PromiseCheck:
    kept: list[int]
    broken: list[int]


class CheckPromises:
    """Decide every pending promise whose day ended before ``as_of``."""

    name = "collection_promise_check"

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of

    def __call__(self, ctx: CommandContext) -> PromiseCheck:
        result = PromiseCheck([], [])
        due = ctx.session.scalars(
            select(PromiseToPay)
            .where(PromiseToPay.outcome == "pending", PromiseToPay.promised_on < self.as_of)
            .order_by(PromiseToPay.id)
            .with_for_update(skip_locked=True)
        ).all()
        for promise in due:
            receivable = ctx.session.get_one(Receivable, promise.receivable_id)
            paid = ctx.session.scalar(
                select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
                    Payment.receivable_id == receivable.id,
                    Payment.paid_on >= promise.made_on,
                    Payment.paid_on <= promise.promised_on,
                )
            )
            owed = load_account(ctx.session, receivable.key).owed(promise.promised_on)
            kept = paid >= promise.amount_minor or owed.payoff == 0
            promise.outcome, promise.checked_at = ("kept" if kept else "broken"), ctx.now
            (result.kept if kept else result.broken).append(promise.id)
            payload = {
                "id": promise.id, "receivable": receivable.key,
                "promised_on": promise.promised_on.isoformat(), "outcome": promise.outcome,
                "promised": format_amount(promise.amount_minor, receivable.currency),
                "paid": format_amount(paid, receivable.currency),
            }  # fmt: skip
            audit.append(ctx, "collection.promise_checked", payload=payload, chain=audit.COLLECTION)
            if not kept:
                count = broken_promises(ctx.session, receivable.customer_id)
                case_events.promise_broken(ctx, receivable, {
                    "promise_broken_on": promise.promised_on.isoformat(),
                    "broken_promises": count,
                })  # fmt: skip
        return result


def broken_promises(session: Session, customer_id: int) -> int:
    """How many promises this customer has broken, across all their receivables."""
    return (
        session.scalar(
            select(func.count(PromiseToPay.id)).where(
                PromiseToPay.customer_id == customer_id, PromiseToPay.outcome == "broken"
            )
        )
        or 0
    )


def standing_promise(session: Session, receivable_id: int, as_of: date) -> PromiseToPay | None:
    """A pending promise whose day has not ended before ``as_of``."""
    return session.scalars(
        select(PromiseToPay).where(
            PromiseToPay.receivable_id == receivable_id,
            PromiseToPay.outcome == "pending",
            PromiseToPay.promised_on >= as_of,
        )
    ).first()
