"""The audit log: one append-only event per command, in per-chain hash chains.

Each instance has its own chain (``instance:<id>``) whose head (sequence and hash) is
kept on the instance row the command already locks, so chains never need a global
lock and appending costs no query. Commands on no instance use one of three chains:

* ``org``: configuration (the org chart, calendars, SLA standards, notice wordings,
  deployments, the collection ladder and credit rule). Its head stamps every cache of
  configuration (:class:`engine.org.StampedCache`), so an event here makes every process
  reload what it cached: only what changes configuration belongs here.
* ``access``: accounts, tokens and login lock-outs.
* ``collection``: the debtors' business (notices sent, payments, promises, remedies,
  grades, blacklist and credit decisions), many a day, none of it configuration.
``hash`` covers the previous hash and every column, so an edited, inserted or deleted
row breaks the chain at that point.

What may hold personal data (case data, free-text reasons, comments) is passed as
``private``: it goes to the erasable ``audit_private`` table and the event keeps only
``private_sha256``, a digest salted per event, so that erasure never breaks a chain.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, text

from .executor import CommandContext
from .store import AuditEvent, ProcessInstance
from .store.models import AuditPrivate
from .store.prepared import Prepared

GENESIS = "0" * 64
# The columns ``hash`` covers, in the order they are hashed.
HASHED = (
    "chain_key", "chain_seq", "prev_hash", "at", "actor", "command", "instance_id", "task_id",
    "payload",
)  # fmt: skip
_INSERT = Prepared(AuditEvent.__table__.insert())
_INSERT_PRIVATE = Prepared(AuditPrivate.__table__.insert())


ORG, ACCESS, COLLECTION = "org", "access", "collection"


def chain_key_for(instance_id: int | None, chain: str = ORG) -> str:
    return f"instance:{instance_id}" if instance_id is not None else chain


def append(
    ctx: CommandContext,
    command: str,
    *,
    instance: ProcessInstance | None = None,
    task_id: int | None = None,
    payload: dict[str, Any] | None = None,
    private: dict[str, Any] | None = None,
    chain: str = ORG,
) -> str:
    """Append to the instance's chain (its head is on the locked instance row) or, for an
    event on no instance, to ``chain`` (its head is read under a chain lock); return the
    event's hash.

    Written with a Core INSERT on the session's connection: the row is never read back
    in the command, so the ORM (its bulk-insert path and the autoflush it triggers) would
    only add cost. The instance's new head goes out with the command's flush.
    """
    chain_key = chain_key_for(instance.id if instance is not None else None, chain)
    if instance is not None:
        seq, prev_hash = instance.audit_seq + 1, instance.audit_hash
    else:
        seq, prev_hash = _chain_head(ctx, chain_key)
    payload = dict(payload or {})
    salt = secrets.token_hex(16) if private else None
    if salt is not None:
        payload["private_sha256"] = private_digest(salt, private)
    row = {
        "at": ctx.now,
        "actor": ctx.actor,
        "command": command,
        "instance_id": instance.id if instance is not None else None,
        "task_id": task_id,
        "payload": payload,
        "chain_key": chain_key,
        "chain_seq": seq,
        "prev_hash": prev_hash,
    }
    row["hash"] = row_hash(row)
    if instance is not None:
        instance.audit_seq, instance.audit_hash = seq, row["hash"]
    connection = ctx.session.connection()
    _INSERT.run(connection, row)
    if salt is not None:
        _INSERT_PRIVATE.run(connection, {
            "chain_key": chain_key, "chain_seq": seq, "instance_id": row["instance_id"],
            "salt": salt, "data": private,
        })  # fmt: skip
    return row["hash"]


def private_digest(salt: str, private: dict[str, Any] | None) -> str:
    body = json.dumps(private, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)  # fmt: skip
    return hashlib.sha256((salt + body).encode()).hexdigest()


def _chain_head(ctx: CommandContext, chain_key: str) -> tuple[int, str]:
    _lock_chain(ctx, chain_key)
    head = ctx.session.execute(
        select(AuditEvent.chain_seq, AuditEvent.hash)
        .where(AuditEvent.chain_key == chain_key)
        .order_by(AuditEvent.chain_seq.desc())
        .limit(1)
    ).first()
    return (head[0] + 1, head[1]) if head else (1, GENESIS)


def _lock_chain(ctx: CommandContext, chain_key: str) -> None:
    """Serialise appends to a chain no instance lock protects (PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` already holds the only write lock)."""
    if not ctx.holds_database_lock:
        ctx.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": chain_key})


def event_hash(event: AuditEvent) -> str:
    return row_hash({name: getattr(event, name) for name in HASHED})


def row_hash(row: Mapping[str, Any]) -> str:
    values = [row[name].isoformat() if name == "at" else row[name] for name in HASHED]
    body = json.dumps(
        values,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()
