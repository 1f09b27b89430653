"""What the debtor is told when a remedy is approved: the new schedule, and nothing more
about the old one.

:func:`withdraw_held` stops the receivable's notices that the contact rules still hold
(until the contact hours open or the daily cap allows): they speak of due dates and
amounts that no longer apply. Their outbox messages become ``dead`` (with the reason in
``last_error``), and their records say why and no longer count towards the daily cap.
A notice whose time had come is the sender's already and is left alone.

:func:`confirm_schedule` then sends the confirmation (template ``remedy``: the new due
dates and amounts, the penalty carried over, the ways to repay) in the debtor's
language, under the contact rules, by letter (e-mail first). It is recorded like every
debtor notice, at the level ``remedy-<id>``: one per remedy and receivable, and the
outbox key ``collection:<receivable>:remedy-<id>`` makes a second attempt a no-op.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from .. import audit
from ..executor import CommandContext
from ..store import OutboxMessage
from ..store.ladder_tables import CollectionNotice, Remedy
from . import contact, notices
from .money import format_amount
from .receivables import load_account

CHANNEL = "letter"


def level_of(remedy: Remedy) -> str:
    return f"remedy-{remedy.id}"


def withdraw_held(ctx: CommandContext, receivable_id: int, remedy: Remedy) -> list[str]:
    """Stop the receivable's notices held for later; return their levels."""
    rows = ctx.session.execute(
        select(CollectionNotice, OutboxMessage)
        .join(OutboxMessage, OutboxMessage.id == CollectionNotice.outbox_id)
        .where(
            CollectionNotice.receivable_id == receivable_id,
            OutboxMessage.status == "pending",
            CollectionNotice.send_at > ctx.now,
        )
        .order_by(CollectionNotice.id)
    ).all()
    why = f"withdrawn: the schedule was replaced by remedy #{remedy.id}"
    for notice, message in rows:
        planned = f"{notice.send_at.astimezone(ctx.services.timezone):%Y-%m-%d %H:%M}"
        message.status, message.last_error = "dead", why
        message.lease_owner, message.lease_until = None, None
        notice.held_reason = f"{why} (it was to leave at {planned})"[:300]
        notice.send_at = None  # not a contact: the daily cap does not count it
    levels = [notice.level for notice, _ in rows]
    if levels:
        audit.append(ctx, "collection.notices_withdrawn", payload={
            "remedy": remedy.id, "levels": levels, "reason": why,
        }, chain=audit.COLLECTION)  # fmt: skip
    return levels


def confirm_schedule(
    ctx: CommandContext, key: str, remedy: Remedy, approved_on: date
) -> CollectionNotice:
    """Record and enqueue the confirmation of ``remedy``'s schedule, once."""
    account = load_account(ctx.session, key)
    receivable, customer, money = account.receivable, account.customer, account.currency
    new_seqs = len(remedy.schedule)
    schedule = [
        {"due_date": i.due_date.isoformat(),
         "amount": format_amount(i.principal_minor + i.interest_minor, money)}
        for i in account.instalments[-new_seqs:]
    ]  # fmt: skip
    values = {
        "debtor_name": customer.name, "receivable": receivable.key, "remedy": remedy.kind,
        "approved_on": approved_on.isoformat(), "schedule": schedule, "currency": money,
        "carried": format_amount(receivable.carried_fees_minor, money),
    }  # fmt: skip
    notice = notices.render("remedy", values, customer.locale, notices.edited(ctx))
    return contact.send_debtor_notice(
        ctx, receivable, customer, level_of(remedy), CHANNEL, notice, values,
        account.days_past_due(approved_on),
    )  # fmt: skip
