"""Audit events form per-instance hash chains; the outbox never holds a message twice."""

from __future__ import annotations

from sqlalchemy import select

from engine import outbox
from engine.audit import GENESIS, event_hash
from engine.runtime import StartInstance
from engine.store import AuditEvent, OutboxMessage

from .conftest import SHIPPED, deploy
from .helpers import work


def events(app):
    return app.read(lambda s: s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_every_command_extends_its_instance_chain(org_app):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    one = org_app.execute(StartInstance("case_handling", "A")).id
    two = org_app.execute(StartInstance("case_handling", "B")).id
    work(org_app, one, "Task_receive", "li",
         {"applicant_name": "甲", "matter": "m", "documents_complete": True})  # fmt: skip
    chains: dict[str, list[AuditEvent]] = {}
    for event in events(org_app):
        chains.setdefault(event.chain_key, []).append(event)
    assert set(chains) == {"org", f"instance:{one}", f"instance:{two}"}
    assert [e.command for e in chains[f"instance:{one}"]] == ["start", "claim", "complete"]
    for chain in chains.values():
        previous = GENESIS
        for seq, event in enumerate(chain, start=1):
            assert (event.chain_seq, event.prev_hash) == (seq, previous)
            assert event.hash == event_hash(event)
            previous = event.hash


def test_an_edited_event_no_longer_matches_its_hash(org_app):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    org_app.execute(StartInstance("case_handling", "A"))
    event = events(org_app)[-1]
    event.actor = "mallory"
    assert event_hash(event) != event.hash


def test_outbox_is_idempotent(app):
    message = {"subject": "催办", "body": "请尽快办理", "idempotency_key": "chase:1"}

    def send_twice(ctx):
        first = outbox.enqueue(ctx, channel="email", recipient="li@example.gov.cn", **message)
        second = outbox.enqueue(ctx, channel="email", recipient="li@example.gov.cn", **message)
        return first == second

    assert app.execute(send_twice) is True
    app.execute(lambda ctx: outbox.enqueue(ctx, channel="sms", recipient="138", **message))
    rows = app.read(lambda s: s.scalars(select(OutboxMessage)).all())
    assert [(r.channel, r.status) for r in rows] == [("email", "pending")]
