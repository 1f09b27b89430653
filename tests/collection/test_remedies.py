"""Remedies: a collector requests a deferral or instalment plan, the collector's superior
(a collection supervisor) decides; approval replaces the schedule, carries the penalty
so far, and moves the case's ladder to the new due dates."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from engine.collection.daily import run_collection_day
from engine.collection.receivables import RecordPayment, load_account
from engine.collection.remedies import DecideRemedy, RequestRemedy
from engine.errors import Conflict, Forbidden, ValidationError
from engine.store import ProcessInstance
from engine.store.collection_tables import Instalment, Receivable
from engine.store.ladder_tables import CollectionCase, CollectionNotice
from timers.worker import Worker

from ..conftest import ROOT, SHANGHAI, SHIPPED, deploy
from ..helpers import open_tasks, timers, work
from .helpers import csv_text, import_rows, row


@pytest.fixture
def debt_app(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn", SHIPPED / "risk_grade.dmn")
    return org_app


def morning(clock, day: date) -> None:
    clock.set(datetime.combine(day, time(9, 0), tzinfo=SHANGHAI))


def drain(app) -> None:
    while Worker(app).run_once().fired:
        pass


def loan(key: str) -> dict[str, str]:
    # 1,000.00 due Sun 1 Mar 2026 at 万分之五 a day: 100,000 分 × 0.0005 = 50 分 a day.
    return row(key, "1000.00", "2026-03-01", phone="13900000009",
               contact_verified_on="2026-01-01", penalty_rate="0.0005", collector="wu")  # fmt: skip


def schedule(app, key: str) -> list[tuple[int, str, int, int]]:
    return app.read(lambda s: [
        (i.seq, i.due_date.isoformat(), i.principal_minor, i.interest_minor)
        for i in s.scalars(select(Instalment).join(Receivable).where(Receivable.key == key)
                           .order_by(Instalment.seq))
    ])  # fmt: skip


def case_of(app, key: str):
    return app.read(lambda s: s.execute(
        select(CollectionCase.instance_id, CollectionCase.due_date)
        .join(Receivable, Receivable.id == CollectionCase.receivable_id)
        .where(Receivable.key == key)).one())  # fmt: skip


def test_an_approved_plan_replaces_the_schedule_and_moves_the_ladder(debt_app, clock):
    import_rows(debt_app, loan("RM-1"))
    morning(clock, date(2026, 3, 2))  # D+1: the case starts, the SMS goes
    assert run_collection_day(debt_app).started == ["RM-1"]
    drain(debt_app)
    instance, due = case_of(debt_app, "RM-1")
    assert due == date(2026, 3, 1)
    assert timers(debt_app, instance)["Timer_call"].startswith("2026-03-04T09:00")
    morning(clock, date(2026, 3, 3))  # D+2
    remedy = debt_app.execute(RequestRemedy(
        "RM-1", "instalments", "失业，申请分期",
        schedule="2026-04-01=400.00;2026-05-01=600.00+10.00"), actor="wu")  # fmt: skip
    assert remedy.state == "requested"
    # Nothing changes before the decision.
    assert schedule(debt_app, "RM-1") == [(1, "2026-03-01", 100000, 0)]
    decided = debt_app.execute(DecideRemedy(remedy.id, approve=True, note="同意"), actor="sun")
    assert (decided.state, decided.decided_on) == ("approved", date(2026, 3, 3))
    # The unpaid instalment is replaced; the plan's interest stays as written.
    assert schedule(debt_app, "RM-1") == [
        (2, "2026-04-01", 40000, 0),
        (3, "2026-05-01", 60000, 1000),
    ]
    account = debt_app.read(lambda s: load_account(s, "RM-1"))
    assert account.receivable.due_date == date(2026, 5, 1)
    # Penalty through 2 Mar (one day, 50 分) is carried; none accrues until 1 Apr.
    assert account.receivable.carried_fees_minor == 50
    assert account.owed(date(2026, 3, 20)).fees == 50
    assert account.days_past_due(date(2026, 3, 20)) == 0
    # 2 and 3 Apr on the 400.00 instalment: 2 × 40,000 × 0.0005 = 40 分, plus 50 carried.
    assert account.owed(date(2026, 4, 3)).fees == 90
    assert account.owed(date(2026, 4, 3)).principal_due == 40000
    # The ladder follows: the case counts from 1 Apr, its call timer waits for D+3.
    instance, due = case_of(debt_app, "RM-1")
    assert due == date(2026, 4, 1)
    assert timers(debt_app, instance)["Timer_call"].startswith("2026-04-04T09:00")
    data = debt_app.read(lambda s: s.get(ProcessInstance, instance).data)
    assert data["ladder_notice_at"] == "2026-04-08T09:00:00+08:00"
    assert data["ladder_due_date"] == "2026-04-01"
    morning(clock, date(2026, 3, 4))  # the old D+3: no call task
    drain(debt_app)
    assert "Task_call" not in open_tasks(debt_app, instance)
    assert run_collection_day(debt_app).notices == []
    morning(clock, date(2026, 3, 29))  # the new D-3: courtesy reminder
    assert run_collection_day(debt_app).notices == ["RM-1:courtesy"]
    morning(clock, date(2026, 4, 4))  # the new D+3: the call task opens
    drain(debt_app)
    assert "Task_call" in open_tasks(debt_app, instance)
    levels = debt_app.read(lambda s: list(s.scalars(select(CollectionNotice.level)
                                                    .order_by(CollectionNotice.id))))  # fmt: skip
    assert levels == ["sms", "remedy-1", "courtesy"]  # remedy-1: the new schedule's notice


def test_a_deferral_after_a_partial_payment(debt_app, clock):
    import_rows(debt_app, loan("RM-2"))
    morning(clock, date(2026, 3, 5))
    # Paid 300.00 on 3 Mar: fees due then were 2 Mar's 50 分, so principal gets 299.50.
    debt_app.execute(RecordPayment("RM-2", "300.00", date(2026, 3, 3)))
    remedy = debt_app.execute(
        RequestRemedy("RM-2", "deferral", "收入延迟", until=date(2026, 4, 15)), actor="zheng"
    )
    assert remedy.schedule == [
        {"due_date": "2026-04-15", "principal_minor": 70050, "interest_minor": 0}
    ]
    debt_app.execute(DecideRemedy(remedy.id, approve=True), actor="sun")
    # The paid part stays as instalment 1; the rest is due on 15 Apr.
    assert schedule(debt_app, "RM-2") == [(1, "2026-03-01", 29950, 0), (2, "2026-04-15", 70050, 0)]
    account = debt_app.read(lambda s: load_account(s, "RM-2"))
    # Accrued through 4 Mar: 50 + 35.025 + 35.025 = 120.05 → 120 分 (half_up); 50 paid.
    assert account.receivable.carried_fees_minor == 120
    owed = account.owed(date(2026, 3, 10))
    assert (owed.fees, owed.principal_due, owed.principal_outstanding) == (70, 0, 70050)
    # 16 Apr: one day on 700.50 = 35.025 → running total 155.025 → 155 分.
    assert account.owed(date(2026, 4, 16)).fees == 155 - 50


def test_who_may_request_and_decide(debt_app, clock):
    import_rows(debt_app, loan("RM-3"))
    morning(clock, date(2026, 3, 5))
    with pytest.raises(Forbidden):  # a supervisor is not a collector
        debt_app.execute(RequestRemedy("RM-3", "deferral", "x", until=date(2026, 4, 1)),
                         actor="sun")  # fmt: skip
    with pytest.raises(ValidationError):  # not after today
        debt_app.execute(RequestRemedy("RM-3", "deferral", "x", until=date(2026, 3, 5)),
                         actor="wu")  # fmt: skip
    with pytest.raises(ValidationError):  # the plan must cover the 1,000.00 outstanding
        debt_app.execute(RequestRemedy("RM-3", "instalments", "x",
                                       schedule="2026-04-01=500.00"), actor="wu")  # fmt: skip
    remedy = debt_app.execute(
        RequestRemedy("RM-3", "deferral", "x", until=date(2026, 4, 1)), actor="wu"
    )
    with pytest.raises(Conflict):  # one request at a time
        debt_app.execute(RequestRemedy("RM-3", "deferral", "y", until=date(2026, 4, 2)),
                         actor="wu")  # fmt: skip
    for other in ("zheng", "zhou", "zhao"):  # a peer, legal, the superior's superior
        with pytest.raises(Forbidden):
            debt_app.execute(DecideRemedy(remedy.id, approve=True), actor=other)
    refused = debt_app.execute(DecideRemedy(remedy.id, approve=False, note="收入证明不足"),
                               actor="sun")  # fmt: skip
    assert refused.state == "refused"
    assert schedule(debt_app, "RM-3") == [(1, "2026-03-01", 100000, 0)]
    with pytest.raises(Conflict):
        debt_app.execute(DecideRemedy(remedy.id, approve=True), actor="sun")


def test_a_payment_between_request_and_approval_voids_the_plan(debt_app, clock):
    import_rows(debt_app, loan("RM-4"))
    morning(clock, date(2026, 3, 1))
    remedy = debt_app.execute(
        RequestRemedy("RM-4", "deferral", "x", until=date(2026, 4, 1)), actor="wu"
    )
    debt_app.execute(RecordPayment("RM-4", "100.00", date(2026, 3, 1)))
    with pytest.raises(Conflict, match=r"900\.00"):
        debt_app.execute(DecideRemedy(remedy.id, approve=True), actor="sun")


def test_remedy_from_the_shell(cli, tmp_path):
    cli("org", "import", str(ROOT / "demo" / "org.yaml"))
    path = tmp_path / "r.csv"
    path.write_text(csv_text(row("RC-1", "1000.00", "2026-01-01", collector="wu")), "utf-8")
    cli("collection", "import", str(path))
    first, second = (date.today() + timedelta(days=n) for n in (30, 60))
    plan = f"{first}=400.00;{second}=600.00"
    out = cli("collection", "remedy", "request", "RC-1", "--kind", "instalments",
              "--schedule", plan, "--reason", "分期", "--user", "wu").output  # fmt: skip
    assert out.strip() == f"remedy #1 requested: RC-1 instalments {first}=400.00; {second}=600.00"
    refused = cli("collection", "remedy", "decide", "1", "--approve", "--user", "zheng", ok=False)
    assert "not a collection supervisor" in refused.output
    assert cli("collection", "remedy", "decide", "1", "--approve", "--note", "同意",
               "--user", "sun").output.strip() == "remedy #1 approved"  # fmt: skip
    listed = json.loads(cli("--json", "collection", "remedy", "list", "RC-1").output)
    assert [(r["state"], r["decided_by"]) for r in listed] == [("approved", "sun")]
    export = cli("collection", "export", "-").output
    assert f"{first}=400.00;{second}=600.00" in export


def test_a_plan_approved_while_a_ladder_task_is_open(debt_app, clock):
    import_rows(debt_app, loan("RM-5"))
    morning(clock, date(2026, 3, 4))  # D+3: the case starts and its call task opens
    run_collection_day(debt_app)
    drain(debt_app)
    instance, _ = case_of(debt_app, "RM-5")
    assert "Task_call" in open_tasks(debt_app, instance)
    remedy = debt_app.execute(
        RequestRemedy("RM-5", "deferral", "x", until=date(2026, 4, 20)), actor="wu"
    )
    debt_app.execute(DecideRemedy(remedy.id, approve=True), actor="sun")
    # The open task stays; the steps after it wait for the new dates (D+7 = 27 Apr).
    work(debt_app, instance, "Task_call", "wu", {"contact_result": "reached"})
    assert timers(debt_app, instance)["Timer_notice"].startswith("2026-04-27T09:00")
