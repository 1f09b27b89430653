"""Verifying the audit chains, and anchoring their heads.

:func:`verify` walks every chain and names the first entry that does not hold: a
sequence gap (a deleted row), a row whose hash no longer matches its content (an
edited row), or a row whose ``prev_hash`` does not match its predecessor (an inserted
or reordered row). Deleting the *newest* rows leaves a shorter but valid chain, so it is
checked two more ways: against the head kept on each instance row, and against the
last anchor — a digest of every chain head written by :class:`WriteAnchor`, which an
operator also keeps outside the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import GENESIS, event_hash, private_digest
from .executor import CommandContext
from .store import AuditEvent, ProcessInstance
from .store.models import AuditAnchor, AuditPrivate


@dataclass(frozen=True)
class Break:
    chain_key: str
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event {self.event_id}" if self.event_id else "missing event"
        return f"{self.chain_key} #{self.seq} ({where}): {self.reason}"


def verify(session: Session, anchor: dict[str, Any] | None = None) -> list[Break]:
    """Every break found, at most one per chain (the first); empty when all is intact."""
    heads: dict[str, tuple[int, str]] = {}
    breaks: dict[str, Break] = {}
    events = session.scalars(
        select(AuditEvent).order_by(AuditEvent.chain_key, AuditEvent.chain_seq)
    )
    for event in events:
        key = event.chain_key
        seq, prev = heads.get(key, (0, GENESIS))
        if key not in breaks:
            problem = _check(event, seq, prev)
            if problem:
                breaks[key] = Break(key, event.chain_seq if problem != "gap" else seq + 1,
                                    event.id if problem != "gap" else None,
                                    _REASONS[problem])  # fmt: skip
        heads[key] = (event.chain_seq, event.hash)
    for instance_id, audit_seq, audit_hash in session.execute(
        select(ProcessInstance.id, ProcessInstance.audit_seq, ProcessInstance.audit_hash)
    ):
        key = f"instance:{instance_id}"
        if key not in breaks and audit_seq and heads.get(key) != (audit_seq, audit_hash):
            have = heads.get(key, (0, GENESIS))[0]
            breaks[key] = Break(key, have + 1, None,
                                f"the instance row records {audit_seq} events, the chain "
                                f"ends at {have}: newest events deleted")  # fmt: skip
    for brk in _private_breaks(session):
        breaks.setdefault(brk.chain_key, brk)
    for key, (seq, digest) in (anchor or {}).items():
        have = heads.get(key)
        if key in breaks:
            continue
        if have is None or have[0] < seq:
            breaks[key] = Break(key, (have or (0, ""))[0] + 1, None,
                                f"the anchor saw {seq} events, the chain ends at "
                                f"{(have or (0, ''))[0]}: events deleted")  # fmt: skip
        elif _hash_at(session, key, seq) != digest:
            breaks[key] = Break(key, seq, None, "differs from the anchored head")
    return sorted(breaks.values(), key=lambda b: (b.chain_key, b.seq))


_REASONS = {
    "gap": "sequence gap: an event was deleted",
    "hash": "content does not match its hash: the event was edited",
    "link": "prev_hash does not match the previous event: an event was inserted or moved",
}


def _check(event: AuditEvent, seq: int, prev: str) -> str | None:
    if event.chain_seq != seq + 1:
        return "gap"
    if event.prev_hash != prev:
        return "link"
    if event_hash(event) != event.hash:
        return "hash"
    return None


def _private_breaks(session: Session) -> list[Break]:
    """Erasable private data must still match the digest its event was hashed with; an
    erased row is simply absent, which is not a break."""
    rows = session.execute(
        select(AuditPrivate, AuditEvent.id, AuditEvent.payload).outerjoin(
            AuditEvent,
            (AuditEvent.chain_key == AuditPrivate.chain_key)
            & (AuditEvent.chain_seq == AuditPrivate.chain_seq),
        )
    )
    found = []
    for private, event_id, payload in rows:
        digest = (payload or {}).get("private_sha256")
        if digest != private_digest(private.salt, private.data):
            reason = "private data does not match its event's digest: edited"
            found.append(Break(private.chain_key, private.chain_seq, event_id, reason))
    return found


def _hash_at(session: Session, key: str, seq: int) -> str | None:
    return session.scalar(
        select(AuditEvent.hash).where(AuditEvent.chain_key == key, AuditEvent.chain_seq == seq)
    )


def chain_heads(session: Session) -> dict[str, list[Any]]:
    rows = session.execute(
        select(AuditEvent.chain_key, AuditEvent.chain_seq, AuditEvent.hash).order_by(
            AuditEvent.chain_key, AuditEvent.chain_seq
        )
    )
    heads: dict[str, list[Any]] = {}
    for key, seq, digest in rows:
        heads[key] = [seq, digest]
    return heads


def anchor_digest(heads: dict[str, list[Any]]) -> str:
    body = json.dumps(heads, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


class WriteAnchor:
    name = "audit_anchor"

    def __call__(self, ctx: CommandContext) -> AuditAnchor:
        heads = chain_heads(ctx.session)
        anchor = AuditAnchor(at=ctx.now, heads=heads, digest=anchor_digest(heads))
        ctx.session.add(anchor)
        ctx.session.flush()
        return anchor


def latest_anchor(session: Session) -> dict[str, Any] | None:
    row = session.scalars(select(AuditAnchor).order_by(AuditAnchor.id.desc()).limit(1)).first()
    return {k: tuple(v) for k, v in row.heads.items()} if row else None
