"""Leasing rows to one worker at a time: the claim shared by timers and the outbox.

Camunda's job acquisition, with PostgreSQL's ``SKIP LOCKED``: take a bounded batch of
due rows whose lease is free or expired, oldest first, and stamp them with the owner and
a lease expiry, all in the caller's transaction. On SQLite ``FOR UPDATE`` emits nothing,
but the transaction began with ``BEGIN IMMEDIATE`` and holds the only write lock, so
two claims never interleave. An expired lease (a worker that died) is taken over.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)

M = TypeVar("M")


def lease_batch(
    session: Session,
    model: type[M],
    *where: Any,
    order_by: tuple[Any, ...],
    limit: int,
    owner: str,
    until: datetime,
    now: datetime,
) -> list[M]:
    """Lock contract: the rows stay locked (PostgreSQL) until the caller commits."""
    lease_until = model.lease_until  # type: ignore[attr-defined]
    rows = session.scalars(
        select(model)
        .where(*where, or_(lease_until.is_(None), lease_until < now))
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.lease_owner, row.lease_until = owner, until  # type: ignore[attr-defined]
    return list(rows)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 30 s, 1 min, 2 min … 1 h."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
