"""Tamper evidence: an edit, an insertion and a deletion (including of the newest entry)
are each found, and the first broken entry is named."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from engine.audit_verify import WriteAnchor, latest_anchor, verify
from engine.runtime import StartInstance
from engine.store import AuditEvent

from .conftest import SHIPPED, deploy
from .helpers import work

RECEIVE = {"applicant_name": "甲", "matter": "m", "documents_complete": True}


@pytest.fixture
def history(org_app):
    """Two cases with a few commands each, and an anchor over all chain heads."""
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    first = org_app.execute(StartInstance("case_handling", "A")).id
    work(org_app, first, "Task_receive", "li", RECEIVE)
    org_app.execute(StartInstance("case_handling", "B"))
    org_app.execute(WriteAnchor())
    return org_app, first


def check(app):
    return app.read(lambda s: [str(b) for b in verify(s, latest_anchor(s))])


def tamper(app, statement):
    with app.sessions.begin() as session:
        session.execute(statement)


def event_id(app, chain, seq):
    return app.read(lambda s: s.scalar(select(AuditEvent.id).where(
        AuditEvent.chain_key == chain, AuditEvent.chain_seq == seq)))  # fmt: skip


def test_an_untouched_log_verifies(history):
    app, _ = history
    assert check(app) == []


def test_an_edit_is_found(history):
    app, case = history
    chain = f"instance:{case}"
    tamper(app, update(AuditEvent).where(AuditEvent.chain_key == chain, AuditEvent.chain_seq == 2)
           .values(actor="mallory"))  # fmt: skip
    [found] = check(app)
    assert found.startswith(f"{chain} #2 (event {event_id(app, chain, 2)}): content does not")


def test_an_insertion_is_found(history):
    app, case = history
    chain = f"instance:{case}"
    tamper(app, update(AuditEvent).where(AuditEvent.chain_key == chain, AuditEvent.chain_seq >= 2)
           .values(chain_seq=AuditEvent.chain_seq + 10))  # fmt: skip
    original = app.read(lambda s: s.scalars(select(AuditEvent).where(
        AuditEvent.chain_key == chain, AuditEvent.chain_seq == 12)).one())  # fmt: skip
    forged = {c.name: getattr(original, c.name) for c in AuditEvent.__table__.columns
              if c.name != "id"}  # fmt: skip
    with app.sessions.begin() as session:
        session.add(AuditEvent(**{**forged, "chain_seq": 2, "actor": "mallory"}))
    found = check(app)
    assert found[0].startswith(f"{chain} #2 (event") and "content does not match" in found[0]


def test_a_deletion_in_the_middle_is_found(history):
    app, case = history
    chain = f"instance:{case}"
    tamper(app, delete(AuditEvent).where(AuditEvent.chain_key == chain,
                                         AuditEvent.chain_seq == 2))  # fmt: skip
    [found] = check(app)
    assert found == f"{chain} #2 (missing event): sequence gap: an event was deleted"


def test_deleting_the_newest_entry_is_found(history):
    app, case = history
    chain = f"instance:{case}"
    newest = app.read(lambda s: s.scalar(
        select(AuditEvent.chain_seq).where(AuditEvent.chain_key == chain)
        .order_by(AuditEvent.chain_seq.desc()).limit(1)))  # fmt: skip
    tamper(app, delete(AuditEvent).where(AuditEvent.chain_key == chain,
                                         AuditEvent.chain_seq == newest))  # fmt: skip
    [found] = check(app)
    assert found.startswith(f"{chain} #{newest} (missing event)")
    assert "newest events deleted" in found


def test_deleting_the_newest_org_entry_is_found_by_the_anchor(history):
    app, _ = history
    newest = app.read(lambda s: s.scalar(
        select(AuditEvent.chain_seq).where(AuditEvent.chain_key == "org")
        .order_by(AuditEvent.chain_seq.desc()).limit(1)))  # fmt: skip
    tamper(app, delete(AuditEvent).where(AuditEvent.chain_key == "org",
                                         AuditEvent.chain_seq == newest))  # fmt: skip
    [found] = check(app)
    assert found.startswith(f"org #{newest} (missing event): the anchor saw {newest} events")


def test_verify_and_anchor_from_the_command_line(history, cli, tmp_path):
    app, _ = history
    anchors = tmp_path / "anchors.jsonl"
    assert "chains, digest" in cli("audit", "anchor", "--file", str(anchors)).output
    assert "all audit chains verify" in cli("audit", "verify", "--anchor-file", str(anchors)).output
    tamper(app, delete(AuditEvent).where(AuditEvent.chain_key == "org"))
    result = cli("audit", "verify", "--anchor-file", str(anchors), ok=False)
    assert result.output.startswith("error: 1 chain(s) broken; first: org #1 (missing event)")
