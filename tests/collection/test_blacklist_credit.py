"""Blacklist proposals (automatic at D+30 or by a collector, decided by a supervisor),
credit-limit reduction for repeated lateness, and the default-announcement list."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from engine.collection.blacklist import DecideBlacklist, ProposeBlacklist, defaulters
from engine.collection.credit import ApplyCreditRule, SetCreditRule, lateness_events, months_before
from engine.collection.daily import run_collection_day
from engine.errors import Conflict, Forbidden
from engine.store import AuditEvent
from engine.store.collection_tables import Customer
from engine.store.ladder_tables import BlacklistProposal, CreditLimitChange

from ..conftest import ROOT, SHIPPED, deploy
from .helpers import csv_text, import_rows, pay, row


@pytest.fixture
def debt_app(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn")
    return org_app


def customer(app, key: str) -> Customer:
    return app.read(lambda s: s.scalars(select(Customer).where(Customer.key == key)).one())


def audit_commands(app, prefix: str) -> list[str]:
    return app.read(lambda s: list(s.scalars(
        select(AuditEvent.command).where(AuditEvent.command.like(f"{prefix}%"))
        .order_by(AuditEvent.id))))  # fmt: skip


def test_the_ladder_proposes_at_d_plus_30_and_a_supervisor_approves(debt_app):
    import_rows(
        debt_app,
        row("BL-1", "1000.00", "2026-03-01", customer_key="C-BL", department="collections"),
        row("BL-2", "500.00", "2026-05-01", customer_key="C-BL", department="legal"),
    )
    run_collection_day(debt_app, date(2026, 3, 2))
    assert run_collection_day(debt_app, date(2026, 3, 30)).proposals == []  # D+29
    assert run_collection_day(debt_app, date(2026, 3, 31)).proposals == ["C-BL"]  # D+30
    assert run_collection_day(debt_app, date(2026, 4, 1)).proposals == []  # once
    proposal = debt_app.read(lambda s: s.scalars(select(BlacklistProposal)).one())
    assert (proposal.source, proposal.proposed_by, proposal.reason) == (
        "ladder", "collection", "BL-1 逾期 30 天 (D+30)")  # fmt: skip
    with pytest.raises(Forbidden):  # collectors propose, they do not decide
        debt_app.execute(DecideBlacklist(proposal.id, True), actor="wu")
    debt_app.execute(DecideBlacklist(proposal.id, True, note="多次违约"), actor="sun")
    black = customer(debt_app, "C-BL")
    assert black.blacklisted and black.blacklist_reason == "BL-1 逾期 30 天 (D+30) (#1, sun)"
    # One list for every department: the other department's collector sees it.
    with pytest.raises(Conflict, match="blacklisted already"):
        debt_app.execute(ProposeBlacklist("C-BL", "again", "BL-2"), actor="zheng")
    # A blacklisted customer gets no new proposal from the ladder either.
    assert run_collection_day(debt_app, date(2026, 6, 1)).proposals == []
    assert audit_commands(debt_app, "collection.blacklist") == [
        "collection.blacklist_proposed", "collection.blacklist_decided"]  # fmt: skip


def test_a_collectors_proposal_refused_then_proposed_again(debt_app):
    import_rows(debt_app, row("BL-3", "1000.00", "2026-03-01", department="collections"))
    first = debt_app.execute(ProposeBlacklist("C-BL-3", "拒接电话", "BL-3"), actor="wu")
    with pytest.raises(Conflict):  # one open proposal per customer
        debt_app.execute(ProposeBlacklist("C-BL-3", "again"), actor="zheng")
    with pytest.raises(Forbidden):  # legal neither proposes…
        debt_app.execute(ProposeBlacklist("C-BL-3", "x"), actor="zhou")
    debt_app.execute(DecideBlacklist(first.id, False, note="证据不足"), actor="sun")
    assert not customer(debt_app, "C-BL-3").blacklisted
    second = debt_app.execute(ProposeBlacklist("C-BL-3", "失联"), actor="sun")
    with pytest.raises(Forbidden, match="other than its proposer"):
        debt_app.execute(DecideBlacklist(second.id, True), actor="sun")
    with pytest.raises(Conflict):
        debt_app.execute(DecideBlacklist(first.id, True), actor="sun")


def late_customer_rows(limit: str = "999.99") -> list[dict[str, str]]:
    same = {"customer_key": "C-LATE", "credit_limit": limit}
    return [
        # Two instalments never paid: late from 11 Jan and from 11 Feb.
        row("CR-A", "1000.00", "", schedule="2026-01-10=500.00;2026-02-10=500.00", **same),
        # Grace 5 days, paid on the last day of grace (25 Feb): not late.
        row("CR-B", "100.00", "2026-02-20", grace_days="5", **same),
        # Grace 5 days, paid the day after (26 Feb): late.
        row("CR-C", "100.00", "2026-02-20", grace_days="5", **same),
    ]


def test_months_before_counts_calendar_months():
    assert months_before(date(2026, 3, 2), 3) == date(2025, 12, 2)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 5, 31), 3) == date(2024, 2, 29)


def test_repeated_lateness_reduces_the_credit_limit_once(debt_app):
    import_rows(debt_app, *late_customer_rows())
    pay(debt_app, "CR-B", "100.00", date(2026, 2, 25))
    pay(debt_app, "CR-C", "100.00", date(2026, 2, 26))
    events = debt_app.read(lambda s: lateness_events(
        s, customer(debt_app, "C-LATE").id, date(2025, 12, 2), date(2026, 3, 2)))  # fmt: skip
    assert events == [
        "CR-A #1 due 2026-01-10 unpaid after grace",
        "CR-A #2 due 2026-02-10 unpaid after grace",
        "CR-C #1 due 2026-02-20 unpaid after grace",
    ]
    # The shipped rule (3 in 6 months, 20 %) … but set to 3 in 3 months, 15 %:
    debt_app.execute(SetCreditRule(3, 3, "15"), actor="admin")
    report = run_collection_day(debt_app, date(2026, 3, 2))
    # 99,999 分 × 0.85 = 84,999.15 → 84,999 分 (rounded down).
    assert report.credit_reduced == ["C-LATE:999.99→849.99"]
    assert customer(debt_app, "C-LATE").credit_limit_minor == 84999
    change = debt_app.read(lambda s: s.scalars(select(CreditLimitChange)).one())
    assert (change.applied_on, change.old_minor, change.new_minor, change.breaches) == (
        date(2026, 3, 2), 99999, 84999, 3)  # fmt: skip
    assert change.rule["percent"] == "15" and len(change.rule["events"]) == 3
    # Not again within the window, even though the events still count.
    assert run_collection_day(debt_app, date(2026, 3, 3)).credit_reduced == []
    assert debt_app.execute(ApplyCreditRule(date(2026, 5, 10)), actor="t") == []
    assert audit_commands(debt_app, "collection.credit") == [
        "collection.credit_rule_set", "collection.credit_reduced"]  # fmt: skip


def test_too_few_events_reduce_nothing(debt_app):
    import_rows(debt_app, *late_customer_rows())
    pay(debt_app, "CR-B", "100.00", date(2026, 2, 25))
    pay(debt_app, "CR-C", "100.00", date(2026, 2, 25))  # within grace
    # Shipped rule: 3 events in 6 months; CR-A's two are not enough.
    assert debt_app.execute(ApplyCreditRule(date(2026, 3, 2)), actor="t") == []
    assert customer(debt_app, "C-LATE").credit_limit_minor == 99999


def test_the_default_announcement_list(app):
    import_rows(
        app,
        row("D1", "1000.00", "2026-03-01", customer_key="C-D", customer_name="钱某"),  # 92 days
        row("D3", "200.50", "2026-02-01", customer_key="C-D", customer_name=""),  # 120 days
        row("D2", "300.00", "2026-03-04"),  # 89 days: not yet
        row("D4", "400.00", "2026-01-01"),  # paid in full
        row("D5", "700.00", "2026-03-03", customer_key="C-E", customer_name="孙某"),  # 90 days
    )
    pay(app, "D4", "400.00", date(2026, 1, 1))
    pay(app, "D1", "100.00", date(2026, 5, 1))  # partly paid
    result = app.read(lambda s: [d.to_dict() for d in defaulters(s, date(2026, 6, 1), 90)])
    assert [(d["customer"], d["days_past_due"], d["receivables"], d["outstanding"])
            for d in result] == [("C-D", 120, 2, "1100.50"), ("C-E", 90, 1, "700.00")]  # fmt: skip


def test_blacklist_credit_and_defaulters_from_the_shell(cli, tmp_path):
    cli("org", "import", str(ROOT / "demo" / "org.yaml"))
    path = tmp_path / "r.csv"
    path.write_text(csv_text(row("SH-1", "1000.00", "2026-01-01", credit_limit="5000.00")),
                    "utf-8")  # fmt: skip
    cli("collection", "import", str(path))
    out = cli("collection", "blacklist", "propose", "C-SH-1", "--reason", "失联",
              "--receivable", "SH-1", "--user", "wu").output  # fmt: skip
    assert out.strip() == "blacklist proposal #1: C-SH-1 (失联)"
    assert "approved" in cli("collection", "blacklist", "decide", "1", "--approve",
                             "--user", "sun").output  # fmt: skip
    listed = json.loads(cli("--json", "collection", "blacklist", "list").output)
    assert [(p["customer"], p["state"], p["proposed_by"], p["decided_by"]) for p in listed] == [
        ("C-SH-1", "approved", "wu", "sun")]  # fmt: skip
    out = cli("collection", "credit-rule", "set", "--breaches", "2", "--months", "12",
              "--percent", "25", "--user", "zhao").output  # fmt: skip
    assert out.strip() == "≥ 2 lateness event(s) in 12 month(s) → credit limit reduced by 25%"
    assert "25%" in cli("collection", "credit-rule", "show").output
    csv_out = cli("collection", "defaulters", "--min-days", "90", "--as-of", "2026-06-01",
                  "--format", "csv").output  # fmt: skip
    assert csv_out.splitlines() == [
        "customer,name,days_past_due,receivables,outstanding,currency,blacklisted",
        "C-SH-1,客户SH-1,151,1,1000.00,CNY,True",
    ]
    assert cli("collection", "credit-changes").output.strip() == "-"


def test_a_customer_name_that_looks_like_a_formula_reaches_the_csv_as_text(cli, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(csv_text(row("F-1", "1000.00", "2026-01-01",
                                 customer_name="=cmd|' /C calc'!A0")), "utf-8")  # fmt: skip
    cli("collection", "import", str(path))
    csv_out = cli("collection", "defaulters", "--min-days", "90", "--as-of", "2026-06-01",
                  "--format", "csv").output  # fmt: skip
    assert csv_out.splitlines()[1] == ("C-F-1,'=cmd|' /C calc'!A0,151,1,1000.00,CNY,False")
