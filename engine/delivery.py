"""Leasing outbox messages to a sender and recording the outcome, as commands.

The same acquisition pattern as :mod:`engine.due_timers`: :class:`AcquireOutbox` leases
a batch of pending messages to one sender (PostgreSQL ``FOR UPDATE SKIP LOCKED`` so
competing senders take disjoint batches; SQLite's ``BEGIN IMMEDIATE`` already
serialises writers). The sender delivers *outside* any transaction and then runs
:class:`MarkSent` or :class:`MarkFailed` in a command of its own.

Delivery is therefore at-least-once: a sender that dies after the receiver accepted a
message but before :class:`MarkSent` committed leaves a lease that expires, and another
sender delivers again with the same idempotency key, which receivers use to drop the
duplicate. Nothing here does network I/O; that is ``timers.sender``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from .executor import CommandContext
from .store import OutboxMessage
from .store.leases import backoff, lease_batch

DEFAULT_LEASE = timedelta(minutes=2)
DEFAULT_MAX_ATTEMPTS = 8
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class LeasedMessage:
    """A detached copy of a leased row: the sender holds no session while it delivers."""

    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    payload: dict[str, Any]
    idempotency_key: str
    instance_id: int | None
    attempts: int
    lease_owner: str
    lease_until: datetime


class AcquireOutbox:
    name = "acquire_outbox"

    def __init__(self, owner: str, limit: int = 50, lease: timedelta = DEFAULT_LEASE) -> None:
        self.owner, self.limit, self.lease = owner, limit, lease

    def __call__(self, ctx: CommandContext) -> list[LeasedMessage]:
        """Lease due, pending messages whose lease is free or expired, oldest first."""
        rows = lease_batch(
            ctx.session, OutboxMessage,
            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= ctx.now,
            order_by=(OutboxMessage.next_attempt_at, OutboxMessage.id), limit=self.limit,
            owner=self.owner, until=ctx.now + self.lease, now=ctx.now,
        )  # fmt: skip
        leased = []
        for row in rows:
            leased.append(
                LeasedMessage(
                    id=row.id,
                    channel=row.channel,
                    recipient=row.recipient,
                    subject=row.subject,
                    body=row.body,
                    payload=dict(row.payload or {}),
                    idempotency_key=row.idempotency_key,
                    instance_id=row.instance_id,
                    attempts=row.attempts,
                    lease_owner=self.owner,
                    lease_until=row.lease_until,
                )
            )
        return leased


class MarkSent:
    """Record a delivery; a no-op (returns False) unless ``owner`` still holds the message.

    One conditional UPDATE, so it is atomic on both databases: a sender whose lease was
    taken over cannot overwrite the new owner's state, and a repeated call changes nothing.
    """

    name = "outbox_sent"

    def __init__(self, message_id: int, owner: str) -> None:
        self.message_id, self.owner = message_id, owner

    def __call__(self, ctx: CommandContext) -> bool:
        result = ctx.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == self.message_id,
                OutboxMessage.status == "pending",
                OutboxMessage.lease_owner == self.owner,
            )
            .values(status="sent", sent_at=ctx.now, lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class MarkFailed:
    """Record a failed try: back off exponentially, or give up as ``dead`` after the last.

    Returns the message's new status, or None when ``owner`` no longer holds it (its
    lease was taken over, so the other sender's outcome is the one that counts).
    """

    name = "outbox_failed"

    def __init__(
        self,
        message_id: int,
        owner: str,
        error: str,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.message_id, self.owner, self.error = message_id, owner, error
        self.max_attempts = max_attempts

    def __call__(self, ctx: CommandContext) -> str | None:
        row = ctx.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id == self.message_id).with_for_update()
        ).first()
        if row is None or row.status != "pending" or row.lease_owner != self.owner:
            return None
        row.attempts += 1
        row.last_error = self.error[:MAX_ERROR_CHARS]
        row.lease_owner = row.lease_until = None
        if row.attempts >= self.max_attempts:
            row.status = "dead"
        else:
            row.next_attempt_at = ctx.now + backoff(row.attempts)
        return row.status
