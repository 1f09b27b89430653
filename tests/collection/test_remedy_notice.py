"""The notice after a remedy: approval withdraws the notices still held for the old
schedule and tells the debtor the new due dates and amounts, once."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from engine.collection.daily import run_collection_day
from engine.collection.remedies import DecideRemedy, RequestRemedy
from engine.collection.remedy_notices import confirm_schedule
from engine.delivery import AcquireOutbox
from engine.store import AuditEvent, OutboxMessage
from engine.store.ladder_tables import CollectionNotice, Remedy

from ..conftest import SHANGHAI, SHIPPED, deploy
from .helpers import import_rows, row


@pytest.fixture
def debt_app(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn", SHIPPED / "risk_grade.dmn")
    return org_app


def at(clock, day: date, hour: int, minute: int = 0) -> None:
    clock.set(datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI))


def loan(key: str, **extra: str) -> dict[str, str]:
    # 1,000.00 due Sun 1 Mar 2026 at 万分之五 a day (50 分 a day).
    values = {
        "customer_name": "张三",
        "phone": "13900000009",
        "email": "zhang@example.com",
        "contact_verified_on": "2026-01-01",
        "penalty_rate": "0.0005",
        "collector": "wu",
    }
    return row(key, "1000.00", "2026-03-01", **{**values, **extra})


def notices(app) -> list[tuple[str, str, str | None, str]]:
    """(level, kind, held/withdrawn reason, outbox status) in order."""
    return app.read(lambda s: [
        (n.level, n.kind, n.held_reason, status) for n, status in s.execute(
            select(CollectionNotice, OutboxMessage.status)
            .join(OutboxMessage, OutboxMessage.id == CollectionNotice.outbox_id)
            .order_by(CollectionNotice.id))])  # fmt: skip


def test_approval_withdraws_held_notices_and_confirms_the_new_schedule(debt_app, clock):
    import_rows(debt_app, loan("RN-1"))
    at(clock, date(2026, 3, 2), 9)
    run_collection_day(debt_app)  # D+1: the SMS leaves at once
    # D+7 at 22:30: the formal letter is held until the contact hours open at 08:00.
    at(clock, date(2026, 3, 8), 22, 30)
    assert run_collection_day(debt_app, date(2026, 3, 8)).notices == ["RN-1:notice"]
    assert notices(debt_app)[-1][2] == "outside contact hours 08:00–21:00"
    remedy = debt_app.execute(RequestRemedy(
        "RN-1", "instalments", "失业，申请分期",
        schedule="2026-04-01=400.00;2026-05-01=600.00+10.00"), actor="wu")  # fmt: skip
    at(clock, date(2026, 3, 8), 23)
    debt_app.execute(DecideRemedy(remedy.id, approve=True), actor="sun")
    sms, letter, confirmation = notices(debt_app)
    assert sms == ("sms", "reminder", None, "pending")  # left at 09:00 on 2 Mar already
    assert letter == (
        "notice", "formal", "withdrawn: the schedule was replaced by remedy #1 "
        "(it was to leave at 2026-03-09 08:00)", "dead")  # fmt: skip
    # The confirmation is held as well (23:00), but it leaves at 08:00.
    assert confirmation == ("remedy-1", "remedy", "outside contact hours 08:00–21:00", "pending")
    row_ = debt_app.read(lambda s: s.scalars(
        select(CollectionNotice).where(CollectionNotice.level == "remedy-1")).one())  # fmt: skip
    assert row_.send_at == datetime(2026, 3, 9, 8, 0, tzinfo=SHANGHAI)
    assert row_.channel == "letter" and row_.recipient == "zhang@example.com"
    message = debt_app.read(lambda s: s.get_one(OutboxMessage, row_.outbox_id))
    assert message.subject == "【还款计划确认】账款 RN-1 的新还款计划"
    # The new due dates and amounts (interest unpaid on the old schedule: none), the
    # penalty carried (2–7 Mar: 6 days × 50 分 = 3.00), the ways to repay.
    assert "1. 2026-04-01 应还 400.00 CNY；2. 2026-05-01 应还 610.00 CNY" in message.body
    assert "您的分期还款申请已于 2026-03-08 获批准" in message.body
    assert "3.00 CNY" in message.body and "还款方式" in message.body
    # The next morning the sender takes the confirmation, never the withdrawn letter.
    at(clock, date(2026, 3, 9), 8)
    leased = debt_app.execute(AcquireOutbox("test-sender"))
    assert [m.idempotency_key for m in leased] == [
        "collection:RN-1:sms", "collection:RN-1:remedy-1"]  # fmt: skip
    withdrawn = debt_app.read(lambda s: s.scalars(select(AuditEvent).where(
        AuditEvent.command == "collection.notices_withdrawn")).one())  # fmt: skip
    assert withdrawn.payload["levels"] == ["notice"] and withdrawn.actor == "sun"


def test_the_confirmation_is_sent_once_and_counts_for_the_daily_cap(debt_app, clock):
    import_rows(debt_app, loan("RN-2"), loan("RN-3", customer_key="C-RN-2"))
    at(clock, date(2026, 3, 9), 10)
    # Two notices to the same debtor today (RN-2's and RN-3's): the cap of two is reached.
    assert sorted(run_collection_day(debt_app, date(2026, 3, 9)).notices) == [
        "RN-2:notice", "RN-3:notice"]  # fmt: skip
    remedy = debt_app.execute(RequestRemedy("RN-2", "deferral", "收入延迟",
                                            until=date(2026, 4, 15)), actor="zheng")  # fmt: skip
    debt_app.execute(DecideRemedy(remedy.id, approve=True), actor="sun")
    confirmation = notices(debt_app)[-1]
    assert confirmation[:3] == (
        "remedy-1",
        "remedy",
        "daily cap of 2 contacts reached on 2026-03-09",
    )

    # Once: calling it again (a retried job, a second approval path) changes nothing.
    def again(ctx):
        row_ = ctx.session.get_one(Remedy, remedy.id)
        return confirm_schedule(ctx, "RN-2", row_, date(2026, 3, 9)).id

    first = debt_app.read(lambda s: s.scalars(
        select(CollectionNotice.id).where(CollectionNotice.level == "remedy-1")).one())  # fmt: skip
    assert debt_app.execute(again) == first
    count = debt_app.read(lambda s: len(s.scalars(select(OutboxMessage).where(
        OutboxMessage.idempotency_key == "collection:RN-2:remedy-1")).all()))  # fmt: skip
    assert count == 1
    body = debt_app.read(lambda s: s.get_one(OutboxMessage, s.scalars(
        select(CollectionNotice.outbox_id).where(CollectionNotice.level == "remedy-1")).one()
    ).body)  # fmt: skip
    assert "您的延期还款申请" in body and "1. 2026-04-15 应还 1000.00 CNY" in body


def test_a_refused_remedy_sends_nothing_and_withdraws_nothing(debt_app, clock):
    import_rows(debt_app, loan("RN-4"))
    at(clock, date(2026, 3, 8), 22, 30)
    run_collection_day(debt_app, date(2026, 3, 8))
    remedy = debt_app.execute(RequestRemedy("RN-4", "deferral", "x", until=date(2026, 4, 15)),
                              actor="wu")  # fmt: skip
    debt_app.execute(DecideRemedy(remedy.id, approve=False), actor="sun")
    assert [(level, status) for level, _, _, status in notices(debt_app)] == [
        ("notice", "pending")]  # fmt: skip


def test_an_english_debtor_gets_the_schedule_in_english_and_as_a_letter(
    debt_app, clock, cli, tmp_path
):
    import_rows(debt_app, loan("RN-5", locale="en", customer_name="John Smith"))
    at(clock, date(2026, 3, 3), 10)
    remedy = debt_app.execute(RequestRemedy(
        "RN-5", "instalments", "lost job",
        schedule="2026-04-01=400.00;2026-05-01=600.00+10.00"), actor="wu")  # fmt: skip
    debt_app.execute(DecideRemedy(remedy.id, approve=True), actor="sun")
    listed = json.loads(cli("--json", "collection", "notices", "RN-5").output)
    assert [(n["level"], n["kind"]) for n in listed] == [("remedy-1", "remedy")]
    out = tmp_path / "plan.pdf"
    cli("collection", "letter", "RN-5", "remedy-1", "--out", str(out))
    extracted = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"],
                               capture_output=True, check=True, text=True).stdout  # fmt: skip
    text = " ".join(extracted.split())
    for phrase in (
        "[Repayment plan] New schedule for account RN-5", "John Smith: your request for an "
        "instalment plan was approved on 2026-03-03", "1. 2026-04-01: 400.00 CNY; "
        "2. 2026-05-01: 610.00 CNY", "Overdue interest of 0.50 CNY", "3. Ways to repay",
    ):  # fmt: skip
        assert phrase in text, phrase
