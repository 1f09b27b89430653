"""The outbox: messages that leave the system, written inside the command's transaction.

Commands call :func:`enqueue`; the worker sends pending rows after commit. A second
enqueue with the same idempotency key is a no-op, so retried commands never send twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .executor import CommandContext
from .store import OutboxMessage

CHANNELS = ("email", "sms", "webhook", "inapp")


def enqueue(
    ctx: CommandContext,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    idempotency_key: str,
    payload: dict[str, Any] | None = None,
    instance_id: int | None = None,
    hold: bool = False,
) -> OutboxMessage:
    """``hold``: keep the message for a digest (:mod:`engine.digests`) instead of sending."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    existing = ctx.session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    ).first()
    if existing is not None:
        return existing
    message = OutboxMessage(
        created_at=ctx.now,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        payload=payload or {},
        idempotency_key=idempotency_key,
        instance_id=instance_id,
        status="held" if hold else "pending",
        attempts=0,
        next_attempt_at=ctx.now,
    )
    ctx.session.add(message)
    return message
