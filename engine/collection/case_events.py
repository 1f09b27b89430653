"""Messages from the receivable's books to its ladder case (business key = receivable key).

Called inside the command that changed the books, so the case moves in the same
transaction: a payment recorded while its case did not hear of it cannot happen.
Only an open case whose instance still runs is told; a receivable without a case,
or whose case has ended, just records the payment.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..executor import CommandContext
from ..runtime import CorrelateMessage
from ..store import ProcessInstance
from ..store.collection_tables import Receivable
from ..store.ladder_tables import CollectionCase
from . import fees
from .money import format_amount

PAYMENT_RECEIVED = "payment_received"
DEBT_SETTLED = "debt_settled"
PROMISE_BROKEN = "promise_broken"


def open_case(ctx: CommandContext, receivable_id: int) -> CollectionCase | None:
    """The receivable's case if it is open and its instance still runs."""
    case = ctx.session.scalars(
        select(CollectionCase).where(
            CollectionCase.receivable_id == receivable_id, CollectionCase.state == "open"
        )
    ).first()
    if case is None:
        return None
    instance = ctx.session.get(ProcessInstance, case.instance_id)
    return case if instance is not None and instance.state == "running" else None


def owed_data(owed: fees.Owed, currency: str) -> dict[str, Any]:
    """What the case data says is owed; the notices and task forms read these."""
    return {
        "owed_minor": owed.payoff,
        "amount": format_amount(owed.payoff, currency),
        "principal_outstanding": format_amount(owed.principal_outstanding, currency),
        "fees_due": format_amount(owed.fees, currency),
        "owed_as_of": owed.as_of.isoformat(),
    }


def payment_received(ctx: CommandContext, receivable: Receivable, owed: fees.Owed) -> None:
    """Every payment updates what the case says is owed; a full one settles the case."""
    case = open_case(ctx, receivable.id)
    if case is None:
        return
    data = owed_data(owed, receivable.currency)
    CorrelateMessage(PAYMENT_RECEIVED, receivable.key, data)(ctx)
    if owed.payoff == 0:
        CorrelateMessage(DEBT_SETTLED, receivable.key, {"settled_on": owed.as_of.isoformat()})(ctx)
        case.state, case.closed_at = "settled", ctx.now


def promise_broken(ctx: CommandContext, receivable: Receivable, data: dict[str, Any]) -> bool:
    """Tell the case a promise was broken (it opens a follow-up task); False if no case."""
    if open_case(ctx, receivable.id) is None:
        return False
    CorrelateMessage(PROMISE_BROKEN, receivable.key, data)(ctx)
    return True
