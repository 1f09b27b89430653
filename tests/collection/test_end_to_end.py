"""A receivable goes 95 days overdue with a broken promise on the way: every morning the
daily collection job runs and the worker fires what is due (moved clock, no sleeps).
The ladder's steps, the notices, the fees, the grades (关注 → 次级 on day 91) and the
chase of a late collector must all happen on their days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from engine.collection.daily import run_collection_day
from engine.collection.ladder import ResetLadder
from engine.collection.promises import RecordPromise, broken_promises
from engine.collection.receivables import RecordPayment, load_account
from engine.runtime import ClaimTask, CompleteTask
from engine.store import AuditEvent
from engine.store.collection_tables import Customer
from engine.store.ladder_tables import CollectionNotice
from timers.worker import Worker

from ..conftest import SHANGHAI, SHIPPED, deploy
from ..helpers import view
from .helpers import import_rows, row

DUE = date(2026, 3, 5)  # Thursday; the clock starts on Mon 2 Mar 09:00 (D-3)


def day(n: int) -> date:
    return DUE + timedelta(days=n)


def drain(app) -> None:
    while Worker(app).run_once().fired:
        pass


def test_ninety_five_days_overdue(org_app, clock):
    app = org_app
    deploy(app, SHIPPED / "debt_collection.bpmn", SHIPPED / "risk_grade.dmn")
    app.execute(ResetLadder(), actor="admin")
    import_rows(app, row(
        "L-95", "10000.00", DUE.isoformat(), customer_name="张三", phone="13900000001",
        email="zhangsan@example.com", contact_verified_on="2026-01-10", penalty_rate="0.0005",
        collector="wu",
    ))  # fmt: skip
    seen: dict[str, object] = {}
    case = None
    for n in range(-3, 96):
        today = day(n)
        clock.set(datetime.combine(today, time(9, 0), tzinfo=SHANGHAI))
        report = run_collection_day(app)
        drain(app)
        if n == -3:
            assert report.started == ["L-95"]
            case = app.read(lambda s: s.scalar(_INSTANCE))
        elif n != -3:
            assert report.started == []
        tasks = open_tasks(app, case)
        if n == 3:  # Sunday 8 Mar: the call task opens; 吴催收 takes it and lets it slide
            assert "Task_call" in tasks and tasks["Task_call"]["candidate_groups"] == ["collectors"]
            app.execute(ClaimTask(tasks["Task_call"]["id"], "wu"), actor="wu")
        if n < 3:
            assert "Task_call" not in tasks
        if n == 4:  # the 1-working-day limit ends Mon 9 Mar 17:30: 孙经理 is chased
            clock.set(datetime.combine(today, time(17, 29), tzinfo=SHANGHAI))
            drain(app)
            assert _chases(app, case) == []
            clock.set(datetime.combine(today, time(17, 31), tzinfo=SHANGHAI))
            drain(app)
            assert _chases(app, case) == [("催办：电话催收", "sun")]
        if n == 5:  # the call is made: a promise of 500.00 by Sun 15 Mar
            work(app, case, "Task_call", "wu", {"contact_result": "promised"})
            assert _chases(app, case) == []
            app.execute(RecordPromise("L-95", "500.00", day(10)), actor="wu")
        if n == 7:
            work(app, case, "Task_formal_notice", "wu", {"notice_no": "CS-2026-001"})
        if n == 10:
            assert report.broken == []  # the promise still stands today
        if n == 11:  # Mon 16 Mar: nothing was paid, the promise is broken
            assert len(report.broken) == 1
            assert "Task_broken_promise" in open_tasks(app, case)
            seen["broken"] = app.read(lambda s: broken_promises(s, _customer_id(s)))
            work(app, case, "Task_broken_promise", "wu", {"contact_result": "reached"})
        if n == 15:  # a partial payment: what is owed is recomputed, the ladder goes on
            app.execute(RecordPayment("L-95", "3000.00", today), actor="cashier")
            data = view(app, case)["data"]
            seen["owed_after_payment"] = data["amount"]
            work(app, case, "Task_supervisor_review", "sun", {"review_decision": "continue"})
        if n == 30:
            work(app, case, "Task_credit_restriction", "sun", {"restriction_decision": "restrict"})
        if n == 60:
            assert set(open_tasks(app, case)) >= {"Task_legal_referral"}
        if n in (90, 91):
            seen[f"grades_{n}"] = report.regraded

    # The ladder's notices: once per level, on the level's day, worded by days overdue;
    # the formal notice waited for the promise (D+7) and went when it was broken (D+11).
    notices = app.read(lambda s: [
        (r.level, r.created_at.astimezone(SHANGHAI).date(), r.kind, r.channel, r.recipient)
        for r in s.scalars(select(CollectionNotice).order_by(CollectionNotice.id))
    ])  # fmt: skip
    assert notices == [
        ("courtesy", day(-3), "courtesy", "sms", "13900000001"),
        ("sms", day(1), "reminder", "sms", "13900000001"),
        ("notice", day(11), "formal", "letter", "zhangsan@example.com"),
        ("review", day(15), "formal", "email", "zhangsan@example.com"),
        ("restriction", day(30), "final", "letter", "zhangsan@example.com"),
        ("legal", day(60), "final", "letter", "zhangsan@example.com"),
    ]
    assert seen["broken"] == 1
    # The letter of D+11 states the fees of that day: 6–16 Mar = 11 × 5.00 = 55.00.
    formal = select(CollectionNotice).where(CollectionNotice.level == "notice")
    letter = app.read(lambda s: s.scalars(formal).one().filled_with)
    assert (letter["days_overdue"], letter["penalty"], letter["amount"]) == (
        11,
        "55.00",
        "10055.00",
    )
    # Fees: 6–19 Mar on 10,000.00 at 0.05 %/day = 14 × 5.00 = 70.00; the 3,000.00 paid
    # on 20 Mar pays those fees first and 2,930.00 of principal; 20 Mar – 8 Jun (81 days)
    # on 7,070.00 = 81 × 3.535 = 286.335, total 356.335 → 356.34 (half up).
    account = app.read(lambda s: load_account(s, "L-95"))
    assert account.accrual(day(95)).total_minor == 35634
    assert account.owed(day(95)).payoff == 707000 + 35634 - 7000
    # Owed at the end of 20 Mar: 7,070.00 and that day's penalty, 73.535 - 70.00 → 3.54.
    assert seen["owed_after_payment"] == "7073.54"
    # Grades: 正常 at the start, 关注 the day after the due date, 次级 on day 91.
    changes = select(AuditEvent).where(AuditEvent.command == "collection.grade_changed")
    grades = app.read(lambda s: [
        (e.payload["as_of"], e.payload["from"], e.payload["to"])
        for e in s.scalars(changes.order_by(AuditEvent.id))
    ])  # fmt: skip
    assert grades == [
        (day(-3).isoformat(), None, "正常"),
        (day(1).isoformat(), "正常", "关注"),
        (day(91).isoformat(), "关注", "次级"),
    ]
    assert seen["grades_90"] == [] and seen["grades_91"] == ["L-95:关注→次级"]
    assert view(app, case)["state"] == "running"


_INSTANCE = select(AuditEvent.instance_id).where(AuditEvent.command == "collection.case_started")


def _customer_id(session) -> int:
    return session.scalar(select(Customer.id).where(Customer.key == "C-L-95"))


def open_tasks(app, case) -> dict[str, dict]:
    """Open user tasks by element id (a chase task carries its late task's element id)."""
    return {t["element_id"]: t for t in view(app, case)["open_tasks"] if t["kind"] == "user"}


def work(app, case, element_id: str, user: str, data: dict) -> None:
    task = open_tasks(app, case)[element_id]
    if task["assignee"] != user:
        app.execute(ClaimTask(task["id"], user), actor=user)
    app.execute(CompleteTask(task["id"], user, data), actor=user)


def _chases(app, case) -> list[tuple[str, str]]:
    return [
        (t["name"], t["assignee"]) for t in view(app, case)["open_tasks"] if t["kind"] == "chase"
    ]
