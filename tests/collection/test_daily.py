"""The daily collection job: cases start once (D-3 or when overdue), promises are checked
the day after their day, and a standing promise holds the debtor's notices."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from engine.collection.daily import run_collection_day
from engine.collection.promises import RecordPromise, broken_promises
from engine.errors import ValidationError
from engine.store import ProcessInstance
from engine.store.collection_tables import Customer
from engine.store.ladder_tables import CollectionCase, CollectionNotice, PromiseToPay
from timers.worker import Worker

from ..conftest import SHANGHAI, SHIPPED, deploy
from ..helpers import open_tasks
from .helpers import import_rows, pay, row


@pytest.fixture
def debt_app(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn")
    return org_app


def morning(clock, day: date) -> None:
    clock.set(datetime.combine(day, time(9, 0), tzinfo=SHANGHAI))


def verified(key: str, due: str, principal: str = "1000.00", **extra: str) -> dict[str, str]:
    return row(key, principal, due, phone="13900000009", contact_verified_on="2026-01-01",
               **extra)  # fmt: skip


def cases(app) -> dict[str, str]:
    return dict(app.read(lambda s: s.execute(
        select(ProcessInstance.business_key, ProcessInstance.state)
        .join(CollectionCase, CollectionCase.instance_id == ProcessInstance.id)
    ).all()))  # fmt: skip


def levels_sent(app, key: str) -> list[str]:
    return app.read(lambda s: list(s.scalars(
        select(CollectionNotice.level).join(CollectionCase, CollectionCase.receivable_id
                                            == CollectionNotice.receivable_id)
        .where(CollectionCase.instance_id.in_(
            select(ProcessInstance.id).where(ProcessInstance.business_key == key)))
        .order_by(CollectionNotice.id)
    )))  # fmt: skip


def test_cases_start_at_d_minus_3_or_when_overdue_and_only_once(debt_app, clock):
    import_rows(
        debt_app,
        verified("S-EARLY", "2026-03-06"),  # D-4 on Mon 2 Mar: not yet
        verified("S-D3", "2026-03-05"),  # D-3: the courtesy window opens
        verified("S-LATE", "2026-01-15"),  # imported long overdue
        verified("S-PAID", "2026-02-20"),
    )
    pay(debt_app, "S-PAID", "1000.00", date(2026, 2, 20))
    report = run_collection_day(debt_app, date(2026, 3, 2))
    assert report.started == ["S-D3", "S-LATE"]
    assert cases(debt_app) == {"S-D3": "running", "S-LATE": "running"}
    again = run_collection_day(debt_app, date(2026, 3, 2))  # idempotent
    assert (again.started, again.notices) == ([], [])
    assert run_collection_day(debt_app, date(2026, 3, 3)).started == ["S-EARLY"]
    # Notices: the courtesy reminder at D-3; a case started late gets the notice of the
    # level it is at (D+46: the restriction letter), not every level it passed.
    assert levels_sent(debt_app, "S-D3") == ["courtesy"]
    assert levels_sent(debt_app, "S-LATE") == ["restriction"]


def test_the_cli_scan_runs_the_same_job(debt_app, cli):
    import_rows(debt_app, verified("S-CLI", "2026-03-05"))
    out = cli("collection", "scan", "--as-of", "2026-03-02").output
    assert "1 case(s) started" in out and "started S-CLI" in out
    assert "0 case(s) started" in cli("collection", "scan", "--as-of", "2026-03-02").output


def test_a_kept_promise_changes_nothing_and_holds_the_notices(debt_app, clock):
    import_rows(debt_app, verified("P-1", "2026-03-01"))
    morning(clock, date(2026, 3, 2))  # D+1
    run_collection_day(debt_app)
    assert levels_sent(debt_app, "P-1") == ["sms"]
    debt_app.execute(RecordPromise("P-1", "400.00", date(2026, 3, 9)))
    for day in (3, 8, 9):  # D+7 (formal notice) passes while the promise stands
        morning(clock, date(2026, 3, day))
        report = run_collection_day(debt_app)
        assert report.notices == [] and report.broken == []
    pay(debt_app, "P-1", "250.00", date(2026, 3, 9))
    pay(debt_app, "P-1", "150.00", date(2026, 3, 9))
    morning(clock, date(2026, 3, 10))
    report = run_collection_day(debt_app)
    assert (len(report.kept), report.broken) == (1, [])
    assert report.notices == ["P-1:notice"]  # the ladder resumes: still owed 600.00+
    customer = debt_app.read(lambda s: s.scalar(select(Customer.id)))
    assert debt_app.read(lambda s: broken_promises(s, customer)) == 0


def test_a_broken_promise_counts_on_the_customer_and_opens_a_follow_up(debt_app, clock):
    import_rows(
        debt_app,
        verified("P-2", "2026-03-01", customer_key="C-WU", customer_name="吴某"),
        verified("P-3", "2026-03-01", customer_key="C-WU", customer_name=""),
    )
    morning(clock, date(2026, 3, 2))
    run_collection_day(debt_app)
    debt_app.execute(RecordPromise("P-2", "400.00", date(2026, 3, 3)))
    debt_app.execute(RecordPromise("P-3", "100.00", date(2026, 3, 3)))
    pay(debt_app, "P-2", "399.99", date(2026, 3, 3))  # a cent short
    morning(clock, date(2026, 3, 4))
    report = run_collection_day(debt_app)
    Worker(debt_app).run_once()
    assert len(report.broken) == 2
    customer = debt_app.read(lambda s: s.scalar(select(Customer.id)))
    assert debt_app.read(lambda s: broken_promises(s, customer)) == 2
    outcomes = debt_app.read(lambda s: list(s.scalars(
        select(PromiseToPay.outcome).order_by(PromiseToPay.id))))  # fmt: skip
    assert outcomes == ["broken", "broken"]
    instance = debt_app.read(lambda s: s.scalar(
        select(ProcessInstance.id).where(ProcessInstance.business_key == "P-2")))  # fmt: skip
    follow_up = open_tasks(debt_app, instance)["Task_broken_promise"]
    assert follow_up["candidate_groups"] == ["collectors"]


def test_a_promise_must_be_for_a_positive_amount_and_a_coming_day(debt_app, clock):
    import_rows(debt_app, verified("P-4", "2026-03-01"))
    with pytest.raises(ValidationError, match="past"):
        debt_app.execute(RecordPromise("P-4", "10.00", date(2026, 3, 1)))
    with pytest.raises(ValidationError, match="positive"):
        debt_app.execute(RecordPromise("P-4", "0", date(2026, 3, 5)))


def test_the_promise_cli(debt_app, cli):
    import_rows(debt_app, verified("P-5", "2026-03-01"))
    # The command line runs on the real clock: a month from today is within a promise's reach.
    on = (date.today() + timedelta(days=30)).isoformat()
    out = cli("collection", "promise", "P-5", "--amount", "300.00", "--on", on).output
    assert f"P-5 pays 300.00 by {on}" in out


def test_the_recorded_letter_prints_as_a_pdf(debt_app, cli, tmp_path):
    import_rows(debt_app, verified("LT-1", "2026-02-20", customer_name="赵六"))
    run_collection_day(debt_app, date(2026, 3, 2))  # D+10: the formal notice level
    out = tmp_path / "letter.pdf"
    cli("collection", "letter", "LT-1", "notice", "--out", str(out))
    text = "".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True,
                                  text=True).stdout.split())  # fmt: skip
    for heading in ("一、欠款提醒", "二、逾期后果", "三、还款方式", "四、补救措施", "五、法律风险",
                    "六、征信影响"):  # fmt: skip
        assert heading in text
    assert "赵六" in text and "已逾期10天" in text
    cli("collection", "letter", "LT-1", "legal", "--out", str(out), ok=False)


def test_the_workers_daily_job_runs_the_collection_day(debt_app, clock):
    import_rows(debt_app, verified("W-1", "2026-03-05"))
    morning(clock, date(2026, 3, 2))
    Worker(debt_app)._collection_day()  # what the 09:00 cron calls
    assert cases(debt_app) == {"W-1": "running"}
    assert levels_sent(debt_app, "W-1") == ["courtesy"]
