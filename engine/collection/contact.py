"""Contact rules for debtor notices, applied where they are enqueued.

Collection regulation and decency require three things, and :func:`send_debtor_notice`
(the only way collection code writes a debtor notice to the outbox) enforces them:

* **Contact hours**: nothing leaves outside 08:00–21:00 organisation time.
* **A daily cap**: at most ``daily_cap`` notices reach one debtor (customer, across all
  their receivables) on one day.
* **No third parties**: a notice goes only to the debtor's own contact data, and only
  once it has been verified (``contact_verified_on``); with none, nothing is sent.

An attempt outside the rules is not dropped: it is *held* — written to the outbox with
``next_attempt_at`` moved to the first allowed time — and the ``collection_notice`` row
records when it may leave and why it was held. The outbox sender is untouched: other
notices (to staff) follow no such rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit, outbox
from ..executor import CommandContext
from ..store import OutboxMessage
from ..store.collection_tables import Customer, Receivable
from ..store.ladder_tables import CollectionNotice
from .notices import DebtorNotice, recorded_values


@dataclass(frozen=True)
class ContactRules:
    start: time = time(8, 0)
    end: time = time(21, 0)
    daily_cap: int = 2


RULES = ContactRules()


def own_contact(customer: Customer, channel: str) -> tuple[str, str] | None:
    """(outbox channel, address) of the debtor's own verified contact for ``channel``.

    A letter goes by e-mail; when the preferred kind of contact is missing the other
    one is used — still the debtor's own.
    """
    if customer.contact_verified_on is None:
        return None
    email = ("email", customer.email) if customer.email else None
    sms = ("sms", customer.phone) if customer.phone else None
    return (sms or email) if channel == "sms" else (email or sms)


def _contacts_on(session: Session, customer_id: int, start: datetime, end: datetime) -> int:
    return (
        session.scalar(
            select(func.count(CollectionNotice.id)).where(
                CollectionNotice.customer_id == customer_id,
                CollectionNotice.outbox_id.is_not(None),
                CollectionNotice.send_at >= start,
                CollectionNotice.send_at < end,
            )
        )
        or 0
    )


def allowed_at(
    session: Session, customer_id: int, wanted: datetime, tz: tzinfo, rules: ContactRules = RULES
) -> tuple[datetime, list[str]]:
    """The first instant from ``wanted`` that is inside contact hours and under the cap,
    with why ``wanted`` itself was not allowed (empty if it was)."""
    reasons: list[str] = []
    at = wanted
    while True:
        local = at.astimezone(tz)
        day = local.date()
        opens = datetime.combine(day, rules.start, tzinfo=tz)
        if local < opens or local.time() >= rules.end:
            reasons.append(f"outside contact hours {rules.start:%H:%M}–{rules.end:%H:%M}")
            at = opens if local < opens else opens + timedelta(days=1)
            continue
        if _contacts_on(session, customer_id, opens, opens + timedelta(days=1)) >= rules.daily_cap:
            reasons.append(f"daily cap of {rules.daily_cap} contacts reached on {day}")
            at = opens + timedelta(days=1)
            continue
        return at, reasons


def send_debtor_notice(
    ctx: CommandContext,
    receivable: Receivable,
    customer: Customer,
    level: str,
    channel: str,
    notice: DebtorNotice,
    values: dict[str, Any],
    days_overdue: int,
    rules: ContactRules = RULES,
) -> CollectionNotice:
    """Record and enqueue the notice of ``level`` for ``receivable``, once.

    A second call for the same receivable and level returns the first record: the
    outbox idempotency key is ``collection:<receivable>:<level>`` as well.
    """
    existing = ctx.session.scalars(
        select(CollectionNotice).where(
            CollectionNotice.receivable_id == receivable.id, CollectionNotice.level == level
        )
    ).first()
    if existing is not None:
        return existing
    row = CollectionNotice(
        receivable_id=receivable.id, customer_id=customer.id, level=level, kind=notice.kind,
        channel=channel, locale=notice.locale, days_overdue=days_overdue, created_at=ctx.now,
        filled_with=recorded_values(notice, values),
    )  # fmt: skip
    contact = own_contact(customer, channel)
    if contact is None:
        row.held_reason = "withheld: the debtor has no verified contact of their own"
    else:
        kind, address = contact
        send_at, reasons = allowed_at(
            ctx.session, customer.id, ctx.now, ctx.services.timezone, rules
        )
        row.recipient, row.send_at = address, send_at
        row.held_reason = "; ".join(reasons) or None
        row.outbox_id = outbox.enqueue(
            ctx, channel=kind, recipient=address, subject=notice.subject, body=notice.body,
            idempotency_key=f"collection:{receivable.key}:{level}",
            payload={"kind": f"collection_{notice.kind}", "receivable": receivable.key,
                     "level": level, "letter": channel == "letter"},
        )  # fmt: skip
        message = ctx.session.get_one(OutboxMessage, row.outbox_id)
        message.next_attempt_at = send_at
    ctx.session.add(row)
    ctx.session.flush()
    audit.append(ctx, "collection.notice", payload={
        "receivable": receivable.key, "level": level, "kind": notice.kind, "channel": channel,
        "sent_to": "own verified contact" if row.recipient else None,
        "send_at": row.send_at.isoformat() if row.send_at else None,
        "held": row.held_reason,
    }, chain=audit.COLLECTION)  # fmt: skip
    return row


def notice_rows(session: Session, receivable: str, tz: tzinfo) -> list[dict[str, Any]]:
    """The notices recorded for a receivable, for people: when each may leave, and why
    it was held or withheld."""
    rows = session.scalars(
        select(CollectionNotice)
        .join(Receivable, Receivable.id == CollectionNotice.receivable_id)
        .where(Receivable.key == receivable)
        .order_by(CollectionNotice.id)
    )
    return [
        {
            "level": r.level,
            "kind": r.kind,
            "channel": r.channel,
            "days_overdue": r.days_overdue,
            "send_at": r.send_at.astimezone(tz).isoformat() if r.send_at else None,
            "held": r.held_reason or "",
        }
        for r in rows
    ]
