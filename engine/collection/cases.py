"""Starting ladder cases: one per receivable, when it enters the courtesy window or is late.

:func:`candidates` finds, in SQL, receivables without a case whose earliest due date
is within the window (the earliest ladder level's days before it, D-3 by default);
:class:`StartCollectionCase` checks one of them on its own books and starts its case.
The ``collection_case`` row (unique per receivable) makes the start happen once, however
often the scan runs and however many workers run it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from .. import audit
from ..executor import CommandContext
from ..runtime import StartInstance
from ..store.collection_tables import Instalment, PaymentAllocation, Receivable
from ..store.ladder_tables import CollectionCase
from . import ladder
from .case_events import owed_data
from .receivables import load_account


def window_days(plan: list[ladder.Level]) -> int:
    """How many days before its due date a receivable's case starts (0: when late)."""
    return max(0, -min((level.day for level in plan), default=0))


def candidates(session: Session, as_of: date) -> list[str]:
    """Receivables with principal unpaid and without a case, with an instalment due by
    the end of the courtesy window."""
    horizon = as_of + timedelta(days=window_days(ladder.levels(session)))
    earliest = (
        select(Instalment.receivable_id, func.min(Instalment.due_date).label("due"))
        .group_by(Instalment.receivable_id)
        .subquery()
    )
    # Paid-off receivables would otherwise be looked at again every day, for ever.
    principal_paid = (
        select(func.coalesce(func.sum(PaymentAllocation.amount_minor), 0))
        .where(
            PaymentAllocation.receivable_id == Receivable.id,
            PaymentAllocation.component == "principal",
        )
        .scalar_subquery()
    )
    query = (
        select(Receivable.key)
        .join(earliest, earliest.c.receivable_id == Receivable.id)
        .where(earliest.c.due <= horizon, principal_paid < Receivable.principal_minor)
        .where(~exists().where(CollectionCase.receivable_id == Receivable.id))
        .order_by(Receivable.id)
    )
    return list(session.scalars(query))


class StartCollectionCase:
    """Start ``receivable``'s ladder case as of a day, unless it has one, is paid, or its
    earliest unpaid due date is still beyond the courtesy window. Returns the instance id."""

    name = "collection_case_start"

    def __init__(self, receivable: str, as_of: date) -> None:
        self.receivable, self.as_of = receivable, as_of

    def __call__(self, ctx: CommandContext) -> int | None:
        account = load_account(ctx.session, self.receivable, lock=True)
        receivable = account.receivable
        if ctx.session.scalar(
            select(CollectionCase.id).where(CollectionCase.receivable_id == receivable.id)
        ):
            return None
        due = account.earliest_unpaid_due(self.as_of)
        plan = ladder.levels(ctx.session)
        if due is None or due - timedelta(days=window_days(plan)) > self.as_of:
            return None
        owed = account.owed(self.as_of)
        data = {
            "receivable_id": receivable.key,
            "debtor_name": account.customer.name,
            "currency": receivable.currency,
            "product": receivable.product,
            "collector": receivable.collector_key,
            **owed_data(owed, receivable.currency),
            **ladder.case_data(plan, due, ctx.services.timezone),
        }
        instance = StartInstance(ladder.PROCESS_KEY, receivable.key, data)(ctx)
        ctx.session.add(
            CollectionCase(
                receivable_id=receivable.id,
                instance_id=instance.id,
                due_date=due,
                started_at=ctx.now,
                state="open",
            )
        )
        ctx.session.flush()
        audit.append(ctx, "collection.case_started", instance=instance, payload={
            "receivable": receivable.key, "due_date": due.isoformat(),
            "as_of": self.as_of.isoformat(),
        })  # fmt: skip
        return instance.id
