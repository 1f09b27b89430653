"""Blacklist proposals (黑名单提议) and the default-announcement list (失信/违约公示名单).

One customer list serves every department, so a blacklist entry is seen by all of
them. A customer is blacklisted only by a decision: a proposal comes from the ladder
(automatically, when a receivable reaches the ``restriction`` level, D+30 by default)
or from a collector, and a collection supervisor other than the proposer approves or
refuses it (:class:`DecideBlacklist`). Every step is an ``org``-chain audit event
(``collection.blacklist_proposed`` / ``collection.blacklist_decided``) and a
``blacklist_proposal`` row, which together are the audit trail
(:func:`proposal_rows`).

Taking a customer off the list follows the same pattern: a collector or supervisor
requests the lift with a reason (:class:`RequestBlacklistLift`), a collection supervisor
other than the requester decides (:class:`DecideBlacklistLift`), and approval clears
the flag. Each step is a ``blacklist_lift`` row and an ``org``-chain audit event
(``collection.blacklist_lift_requested`` / ``collection.blacklist_lift_decided``);
:func:`lift_rows` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..executor import CommandContext
from ..store.collection_tables import BlacklistLift, Customer, Receivable
from ..store.ladder_tables import BlacklistProposal
from .aging import balances
from .money import format_amount
from .receivables import local_today
from .remedies import COLLECTORS, SUPERVISORS, in_group

SOURCES = ("ladder", "collector")


def _customer(session: Session, key: str) -> Customer:
    row = session.scalars(select(Customer).where(Customer.key == key)).first()
    if row is None:
        raise NotFound(f"no customer {key!r}")
    return row


def pending_proposal(session: Session, customer_id: int) -> BlacklistProposal | None:
    return session.scalars(
        select(BlacklistProposal).where(
            BlacklistProposal.customer_id == customer_id, BlacklistProposal.state == "proposed"
        )
    ).first()


def propose(
    ctx: CommandContext,
    customer: Customer,
    reason: str,
    source: str,
    receivable: Receivable | None = None,
    on: date | None = None,
) -> BlacklistProposal:
    row = BlacklistProposal(
        customer_id=customer.id, receivable_id=receivable.id if receivable else None,
        source=source, reason=reason[:200], state="proposed", proposed_by=ctx.actor,
        proposed_at=ctx.now, proposed_on=on or local_today(ctx),
    )  # fmt: skip
    ctx.session.add(row)
    ctx.session.flush()
    audit.append(ctx, "collection.blacklist_proposed", payload={
        "id": row.id, "customer": customer.key, "source": source, "reason": row.reason,
        "receivable": receivable.key if receivable else None,
        "department": receivable.department_key if receivable else None,
    }, chain=audit.COLLECTION)  # fmt: skip
    return row


def propose_from_ladder(
    ctx: CommandContext, receivable: Receivable, customer: Customer, days: int, on: date
) -> BlacklistProposal | None:
    """The ladder's proposal at the restriction level: once per receivable, and not while
    the customer is blacklisted or another proposal waits."""
    if customer.blacklisted or pending_proposal(ctx.session, customer.id) is not None:
        return None
    done = ctx.session.scalar(
        select(BlacklistProposal.id).where(
            BlacklistProposal.receivable_id == receivable.id,
            BlacklistProposal.source == "ladder",
        )
    )
    if done:
        return None
    reason = f"{receivable.key} 逾期 {days} 天 (D+{days})"
    return propose(ctx, customer, reason, "ladder", receivable, on)


def _may_propose(session: Session, actor: str) -> None:
    if not (in_group(session, actor, COLLECTORS) or in_group(session, actor, SUPERVISORS)):
        raise Forbidden(f"{actor!r} is neither a collector nor a collection supervisor")


class ProposeBlacklist:
    """A collector (or supervisor) proposes blacklisting a customer."""

    name = "collection_blacklist_propose"

    def __init__(self, customer: str, reason: str, receivable: str | None = None) -> None:
        self.customer, self.reason, self.receivable = customer, reason.strip(), receivable

    def __call__(self, ctx: CommandContext) -> BlacklistProposal:
        if not self.reason:
            raise ValidationError("a blacklist proposal needs a reason")
        _may_propose(ctx.session, ctx.actor)
        customer = _customer(ctx.session, self.customer)
        if customer.blacklisted:
            raise Conflict(f"customer {customer.key!r} is blacklisted already")
        pending = pending_proposal(ctx.session, customer.id)
        if pending is not None:
            raise Conflict(f"proposal #{pending.id} for {customer.key!r} waits for a decision")
        receivable = None
        if self.receivable:
            receivable = ctx.session.scalars(
                select(Receivable).where(Receivable.key == self.receivable)
            ).first()
            if receivable is None or receivable.customer_id != customer.id:
                raise NotFound(f"customer {customer.key!r} has no receivable {self.receivable!r}")
        return propose(ctx, customer, self.reason, "collector", receivable)


class DecideBlacklist:
    """A collection supervisor (not the proposer) approves or refuses a proposal."""

    name = "collection_blacklist_decide"

    def __init__(self, proposal_id: int, approve: bool, note: str | None = None) -> None:
        self.proposal_id, self.approve, self.note = proposal_id, approve, note

    def __call__(self, ctx: CommandContext) -> BlacklistProposal:
        row = ctx.session.scalars(
            select(BlacklistProposal)
            .where(BlacklistProposal.id == self.proposal_id)
            .with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"no blacklist proposal #{self.proposal_id}")
        if row.state != "proposed":
            raise Conflict(f"proposal #{row.id} was {row.state} already")
        _may_decide(ctx.session, ctx.actor, row.proposed_by, "proposal", "proposer")
        customer = ctx.session.get_one(Customer, row.customer_id)
        row.state = "approved" if self.approve else "refused"
        row.decided_by, row.decided_at = ctx.actor, ctx.now
        row.note = (self.note or "").strip()[:300] or None
        if self.approve:
            customer.blacklisted = True
            customer.blacklist_reason = f"{row.reason} (#{row.id}, {ctx.actor})"[:300]
        audit.append(ctx, "collection.blacklist_decided", payload={
            "id": row.id, "customer": customer.key, "state": row.state, "note": row.note,
        }, chain=audit.COLLECTION)  # fmt: skip
        return row


def _may_decide(session: Session, actor: str, asked_by: str, what: str, who: str) -> None:
    if not in_group(session, actor, SUPERVISORS):
        raise Forbidden(f"{actor!r} is not a collection supervisor")
    if asked_by == actor:
        raise Forbidden(f"a {what} is decided by someone other than its {who}")


def proposal_rows(
    session: Session, customer: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """Every proposal (all departments) with who proposed and decided it, oldest first."""
    query = (
        select(BlacklistProposal, Customer.key, Receivable.key, Receivable.department_key)
        .join(Customer, Customer.id == BlacklistProposal.customer_id)
        .outerjoin(Receivable, Receivable.id == BlacklistProposal.receivable_id)
        .order_by(BlacklistProposal.id)
    )
    if customer:
        query = query.where(Customer.key == customer)
    if state:
        query = query.where(BlacklistProposal.state == state)
    return [
        {"id": p.id, "customer": ckey, "receivable": rkey or "", "department": dept or "",
         "source": p.source, "reason": p.reason, "state": p.state,
         "proposed_by": p.proposed_by, "proposed_on": p.proposed_on.isoformat(),
         "decided_by": p.decided_by or "", "note": p.note or ""}
        for p, ckey, rkey, dept in session.execute(query)
    ]  # fmt: skip


# --- lifting a blacklist entry --------------------------------------------------------------


def pending_lift(session: Session, customer_id: int) -> BlacklistLift | None:
    return session.scalars(
        select(BlacklistLift).where(
            BlacklistLift.customer_id == customer_id, BlacklistLift.state == "requested"
        )
    ).first()


class RequestBlacklistLift:
    """A collector (or supervisor) asks for a blacklisted customer to be taken off the list."""

    name = "collection_blacklist_lift_request"

    def __init__(self, customer: str, reason: str) -> None:
        self.customer, self.reason = customer, reason.strip()

    def __call__(self, ctx: CommandContext) -> BlacklistLift:
        if not self.reason:
            raise ValidationError("a request to lift a blacklist entry needs a reason")
        _may_propose(ctx.session, ctx.actor)
        customer = _customer(ctx.session, self.customer)
        if not customer.blacklisted:
            raise Conflict(f"customer {customer.key!r} is not blacklisted")
        pending = pending_lift(ctx.session, customer.id)
        if pending is not None:
            raise Conflict(f"lift request #{pending.id} for {customer.key!r} waits for a decision")
        row = BlacklistLift(
            customer_id=customer.id, reason=self.reason[:200], entry=customer.blacklist_reason,
            state="requested", requested_by=ctx.actor, requested_at=ctx.now,
            requested_on=local_today(ctx),
        )  # fmt: skip
        ctx.session.add(row)
        ctx.session.flush()
        audit.append(ctx, "collection.blacklist_lift_requested", payload={
            "id": row.id, "customer": customer.key, "reason": row.reason, "entry": row.entry,
        }, chain=audit.COLLECTION)  # fmt: skip
        return row


class DecideBlacklistLift:
    """A collection supervisor (not the requester) approves or refuses a lift; approval
    takes the customer off the blacklist in every department."""

    name = "collection_blacklist_lift_decide"

    def __init__(self, lift_id: int, approve: bool, note: str | None = None) -> None:
        self.lift_id, self.approve, self.note = lift_id, approve, note

    def __call__(self, ctx: CommandContext) -> BlacklistLift:
        row = ctx.session.scalars(
            select(BlacklistLift).where(BlacklistLift.id == self.lift_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"no blacklist lift request #{self.lift_id}")
        if row.state != "requested":
            raise Conflict(f"lift request #{row.id} was {row.state} already")
        _may_decide(ctx.session, ctx.actor, row.requested_by, "lift request", "requester")
        customer = ctx.session.get_one(Customer, row.customer_id)
        row.state = "approved" if self.approve else "refused"
        row.decided_by, row.decided_at = ctx.actor, ctx.now
        row.note = (self.note or "").strip()[:300] or None
        if self.approve:
            customer.blacklisted, customer.blacklist_reason = False, None
        audit.append(ctx, "collection.blacklist_lift_decided", payload={
            "id": row.id, "customer": customer.key, "state": row.state, "note": row.note,
        }, chain=audit.COLLECTION)  # fmt: skip
        return row


def lift_rows(
    session: Session, customer: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """Every lift request with the entry it lifts, who asked and who decided, oldest first."""
    query = (
        select(BlacklistLift, Customer.key)
        .join(Customer, Customer.id == BlacklistLift.customer_id)
        .order_by(BlacklistLift.id)
    )
    if customer:
        query = query.where(Customer.key == customer)
    if state:
        query = query.where(BlacklistLift.state == state)
    return [
        {"id": r.id, "customer": ckey, "entry": r.entry or "", "reason": r.reason,
         "state": r.state, "requested_by": r.requested_by,
         "requested_on": r.requested_on.isoformat(), "decided_by": r.decided_by or "",
         "note": r.note or ""}
        for r, ckey in session.execute(query)
    ]  # fmt: skip


# --- the default-announcement list -----------------------------------------------------------


@dataclass(frozen=True)
class Defaulter:
    customer: str
    name: str
    days_past_due: int
    receivables: int
    outstanding_minor: int
    currency: str
    blacklisted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer, "name": self.name, "days_past_due": self.days_past_due,
            "receivables": self.receivables,
            "outstanding": format_amount(self.outstanding_minor, self.currency),
            "currency": self.currency, "blacklisted": self.blacklisted,
        }  # fmt: skip


def defaulters(session: Session, as_of: date, min_days: int = 90) -> list[Defaulter]:
    """Customers with a receivable at least ``min_days`` past due on ``as_of``, most
    overdue first, with the outstanding principal of those receivables (per currency).
    Computed in SQL like the aging report (payments after ``as_of`` are ignored)."""
    if min_days < 1:
        raise ValidationError("--min-days must be at least 1")
    per = balances(as_of).subquery("per")
    query = (
        select(
            Customer.key, Customer.name, Customer.blacklisted, Receivable.currency,
            func.min(per.c.oldest_due), func.count(Receivable.id), func.sum(per.c.outstanding),
        )
        .join(Receivable, Receivable.id == per.c.receivable_id)
        .join(Customer, Customer.id == Receivable.customer_id)
        .where(per.c.oldest_due <= as_of - timedelta(days=min_days))
        .group_by(Customer.key, Customer.name, Customer.blacklisted, Receivable.currency)
    )  # fmt: skip
    rows = [
        Defaulter(key, name, (as_of - oldest).days, count, int(total), currency, bool(black))
        for key, name, black, currency, oldest, count, total in session.execute(query)
    ]
    return sorted(rows, key=lambda d: (-d.days_past_due, d.customer, d.currency))
