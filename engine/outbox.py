"""The outbox: messages that leave the system, written inside the command's transaction.

Commands call :func:`enqueue`; the worker sends pending rows after commit. A second
enqueue with the same idempotency key is a no-op, so retried commands never send twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

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
) -> int:
    """Write one message unless its key is already there; return the message's id.

    ``hold``: keep the message for a digest (:mod:`engine.digests`) instead of sending.
    One ``INSERT … ON CONFLICT DO NOTHING`` on the unique key: no read first, and two
    commands racing to write the same notice cannot both succeed.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    row = {
        "created_at": ctx.now, "channel": channel, "recipient": recipient,
        "subject": subject, "body": body, "payload": payload or {},
        "idempotency_key": idempotency_key, "instance_id": instance_id,
        "status": "held" if hold else "pending", "attempts": 0, "next_attempt_at": ctx.now,
    }  # fmt: skip
    insert = _INSERTS[ctx.session.get_bind().dialect.name]
    new_id = ctx.session.scalar(
        insert(OutboxMessage)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id)
    )
    if new_id is not None:
        return new_id
    return ctx.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)
    ).one()


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
