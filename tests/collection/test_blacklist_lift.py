"""Lifting a blacklist entry (requested, decided by a supervisor) and restoring a credit
limit the rule reduced (by a supervisor, with a reason, shown in the limit's history)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from engine.collection.blacklist import (
    DecideBlacklist,
    DecideBlacklistLift,
    ProposeBlacklist,
    RequestBlacklistLift,
    lift_rows,
)
from engine.collection.credit import ApplyCreditRule, RestoreCreditLimit, SetCreditRule
from engine.collection.receivables import RecordPayment
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.store import AuditEvent

from ..conftest import ROOT
from .helpers import csv_text, import_rows, row
from .test_blacklist_credit import customer, late_customer_rows


def audit_payloads(app, prefix: str) -> list[tuple[str, str, dict]]:
    return app.read(lambda s: [
        (e.command, e.actor, e.payload) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.command.like(f"{prefix}%"))
            .order_by(AuditEvent.id))])  # fmt: skip


def blacklisted(app, key: str) -> None:
    proposal = app.execute(ProposeBlacklist(key, "失联三个月"), actor="wu")
    app.execute(DecideBlacklist(proposal.id, True), actor="sun")


def test_a_lift_is_requested_and_a_supervisor_clears_the_flag(org_app):
    import_rows(org_app, row("LB-1", "1000.00", "2026-01-01"))
    with pytest.raises(Conflict, match="not blacklisted"):
        org_app.execute(RequestBlacklistLift("C-LB-1", "已还清"), actor="wu")
    blacklisted(org_app, "C-LB-1")
    with pytest.raises(ValidationError, match="needs a reason"):
        org_app.execute(RequestBlacklistLift("C-LB-1", "  "), actor="wu")
    with pytest.raises(Forbidden):  # legal neither requests…
        org_app.execute(RequestBlacklistLift("C-LB-1", "x"), actor="zhou")
    with pytest.raises(NotFound):
        org_app.execute(RequestBlacklistLift("C-NOBODY", "x"), actor="wu")
    lift = org_app.execute(RequestBlacklistLift("C-LB-1", "已全额还款"), actor="wu")
    with pytest.raises(Conflict, match="waits for a decision"):
        org_app.execute(RequestBlacklistLift("C-LB-1", "again"), actor="zheng")
    with pytest.raises(Forbidden, match="not a collection supervisor"):  # …nor decides
        org_app.execute(DecideBlacklistLift(lift.id, True), actor="zheng")
    assert customer(org_app, "C-LB-1").blacklisted  # nothing changed yet
    org_app.execute(DecideBlacklistLift(lift.id, True, note="核实还款凭证"), actor="sun")
    cleared = customer(org_app, "C-LB-1")
    assert not cleared.blacklisted and cleared.blacklist_reason is None
    with pytest.raises(Conflict, match="approved already"):
        org_app.execute(DecideBlacklistLift(lift.id, False), actor="sun")
    # The trail: who asked, why, which entry, who decided — in the org chain.
    assert org_app.read(lambda s: lift_rows(s, "C-LB-1")) == [{
        "id": lift.id, "customer": "C-LB-1", "entry": "失联三个月 (#1, sun)",
        "reason": "已全额还款", "state": "approved", "requested_by": "wu",
        "requested_on": "2026-03-02", "decided_by": "sun", "note": "核实还款凭证",
    }]  # fmt: skip
    events = audit_payloads(org_app, "collection.blacklist_lift")
    assert [(c, a, p["state"] if "state" in p else p["reason"]) for c, a, p in events] == [
        ("collection.blacklist_lift_requested", "wu", "已全额还款"),
        ("collection.blacklist_lift_decided", "sun", "approved"),
    ]
    chains = org_app.read(lambda s: set(s.scalars(select(AuditEvent.instance_id).where(
        AuditEvent.command.like("collection.blacklist%")))))  # fmt: skip
    assert chains == {None}
    # Off the list, the customer can be proposed again.
    assert org_app.execute(ProposeBlacklist("C-LB-1", "再次失联"), actor="zheng").id == 2


def test_a_refused_lift_keeps_the_entry_and_the_requester_cannot_decide(org_app):
    import_rows(org_app, row("LB-2", "1000.00", "2026-01-01"))
    blacklisted(org_app, "C-LB-2")
    first = org_app.execute(RequestBlacklistLift("C-LB-2", "客户申诉"), actor="wu")
    org_app.execute(DecideBlacklistLift(first.id, False, note="仍未还款"), actor="sun")
    assert customer(org_app, "C-LB-2").blacklisted
    mine = org_app.execute(RequestBlacklistLift("C-LB-2", "再次申诉"), actor="sun")
    with pytest.raises(Forbidden, match="other than its requester"):
        org_app.execute(DecideBlacklistLift(mine.id, True), actor="sun")
    with pytest.raises(NotFound):
        org_app.execute(DecideBlacklistLift(99, True), actor="sun")
    assert customer(org_app, "C-LB-2").blacklisted
    assert [(r["state"], r["note"]) for r in org_app.read(lambda s: lift_rows(s))] == [
        ("refused", "仍未还款"), ("requested", "")]  # fmt: skip


def test_restoring_a_reduced_limit_is_audited_and_shown_in_the_history(org_app):
    import_rows(org_app, *late_customer_rows())
    org_app.execute(RecordPayment("CR-B", "100.00", date(2026, 2, 25)))
    org_app.execute(RecordPayment("CR-C", "100.00", date(2026, 2, 26)))
    with pytest.raises(NotFound, match="never reduced"):
        org_app.execute(RestoreCreditLimit("C-LATE", "x"), actor="sun")
    org_app.execute(SetCreditRule(3, 3, "15"), actor="admin")
    [reduced] = org_app.execute(ApplyCreditRule(date(2026, 3, 2)), actor="collection")
    assert (reduced.old_minor, reduced.new_minor) == (99999, 84999)
    with pytest.raises(Forbidden, match="not a collection supervisor"):
        org_app.execute(RestoreCreditLimit("C-LATE", "已还清"), actor="wu")
    with pytest.raises(ValidationError, match="needs a reason"):
        org_app.execute(RestoreCreditLimit("C-LATE", ""), actor="sun")
    with pytest.raises(Conflict, match="latest reduction"):
        org_app.execute(RestoreCreditLimit("C-LATE", "x", change_id=42), actor="sun")
    restored = org_app.execute(RestoreCreditLimit("C-LATE", "逾期系银行划扣故障"), actor="sun")
    assert (restored.old_minor, restored.new_minor) == (84999, 99999)
    assert customer(org_app, "C-LATE").credit_limit_minor == 99999
    with pytest.raises(Conflict, match="restored already"):
        org_app.execute(RestoreCreditLimit("C-LATE", "again"), actor="sun")
    # The rule does not reduce it again within the same window.
    assert org_app.execute(ApplyCreditRule(date(2026, 3, 3)), actor="collection") == []
    [event] = audit_payloads(org_app, "collection.credit_restored")
    assert event[1] == "sun" and event[2] == {
        "customer": "C-LATE", "reduction": 1, "reason": "逾期系银行划扣故障",
        "old": "849.99", "new": "999.99"}  # fmt: skip


def test_a_limit_changed_since_the_reduction_is_not_restored(org_app):
    import_rows(org_app, *late_customer_rows())
    org_app.execute(RecordPayment("CR-C", "100.00", date(2026, 2, 26)))
    org_app.execute(RecordPayment("CR-B", "100.00", date(2026, 2, 26)))
    org_app.execute(SetCreditRule(3, 3, "15"), actor="admin")
    assert org_app.execute(ApplyCreditRule(date(2026, 3, 2)), actor="collection")
    # The import updates the limit of an existing customer (a new limit from elsewhere).
    import_rows(org_app, row("CR-D", "10.00", "2026-04-01", customer_key="C-LATE",
                             credit_limit="700.00", update_customer="yes"))  # fmt: skip
    with pytest.raises(Conflict, match=r"is 700\.00, not the 849\.99 the rule set"):
        org_app.execute(RestoreCreditLimit("C-LATE", "x"), actor="sun")
    assert customer(org_app, "C-LATE").credit_limit_minor == 70000


def test_lift_and_restore_from_the_shell(cli, tmp_path):
    cli("org", "import", str(ROOT / "demo" / "org.yaml"))
    path = tmp_path / "r.csv"
    path.write_text(csv_text(*late_customer_rows("2000.00")), "utf-8")
    cli("collection", "import", str(path))
    cli("collection", "pay", "CR-B", "100.00", "--on", "2026-02-25")
    cli("collection", "pay", "CR-C", "100.00", "--on", "2026-02-26")
    cli("collection", "blacklist", "propose", "C-LATE", "--reason", "失联", "--user", "wu")
    cli("collection", "blacklist", "decide", "1", "--approve", "--user", "sun")
    out = cli("collection", "blacklist", "lift", "C-LATE", "--reason", "已联系上",
              "--user", "wu").output  # fmt: skip
    assert out.strip() == "lift request #1: C-LATE (已联系上)"
    cli("collection", "blacklist", "decide-lift", "1", "--approve", "--user", "wu", ok=False)
    assert cli("collection", "blacklist", "decide-lift", "1", "--approve", "--note", "ok",
               "--user", "sun").output.strip() == "lift request #1 approved"  # fmt: skip
    lifts = json.loads(cli("--json", "collection", "blacklist", "lifts").output)
    assert [(r["customer"], r["state"], r["requested_by"], r["decided_by"], r["entry"])
            for r in lifts] == [("C-LATE", "approved", "wu", "sun", "失联 (#1, sun)")]  # fmt: skip
    assert "C-LATE" in cli("collection", "blacklist", "lifts", "--state", "approved").output
    cli("collection", "credit-rule", "set", "--breaches", "3", "--months", "3",
        "--percent", "50", "--user", "zhao")  # fmt: skip
    cli("collection", "scan", "--as-of", "2026-03-02")
    out = cli("collection", "credit-rule", "restore", "C-LATE", "--reason", "划扣故障",
              "--user", "sun").output  # fmt: skip
    assert out.strip() == "credit limit of C-LATE restored: 1000.00 → 2000.00"
    history = json.loads(cli("--json", "collection", "credit-changes", "--customer",
                             "C-LATE").output)  # fmt: skip
    assert history[0]["on"] == "2026-03-02"  # the scan's day; the restore is today's
    assert [(h["change"], h["old"], h["new"], h["by"], h["reason"]) for h in history] == [
        ("reduced", "2000.00", "1000.00", "credit rule", "3 lateness event(s)"),
        ("restored", "1000.00", "2000.00", "sun", "划扣故障"),
    ]
    table = cli("collection", "credit-changes").output
    assert "restored" in table and "划扣故障" in table
