"""Risk warning: regrading in the daily job and on payments, grade history, a warning
report task on a downgrade, the grade summary (distribution and migration matrix) and
its monthly run by the worker."""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.collection.daily import run_collection_day
from engine.collection.risk import ACTIONS, grade_summary, previous_month
from engine.store import AuditEvent, OutboxMessage, ProcessInstance
from engine.store.ladder_tables import CollectionCase, GradeChange
from timers.worker import Worker

from ..conftest import SHANGHAI, SHIPPED, deploy
from ..helpers import open_tasks
from .helpers import import_rows, pay, row


@pytest.fixture
def risk_app(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn", SHIPPED / "risk_grade.dmn",
           SHIPPED / "risk_warning.bpmn")  # fmt: skip
    return org_app


def history(app) -> list[tuple[str, str | None, str, int]]:
    return app.read(lambda s: [
        (c.graded_on.isoformat(), c.old_grade, c.new_grade, c.days_past_due)
        for c in s.scalars(select(GradeChange).order_by(GradeChange.id))
    ])  # fmt: skip


def warnings(app) -> list[ProcessInstance]:
    query = (
        select(ProcessInstance)
        .join(GradeChange, GradeChange.warning_instance_id == ProcessInstance.id)
        .order_by(ProcessInstance.id)
    )
    return app.read(lambda s: list(s.scalars(query)))


def test_downgrades_open_warning_reports_and_a_payment_regrades(risk_app):
    import_rows(risk_app, row("W-1", "1000.00", "2026-03-01"))
    assert run_collection_day(risk_app, date(2026, 3, 2)).regraded == ["W-1:-→关注"]
    assert run_collection_day(risk_app, date(2026, 3, 3)).regraded == []
    assert run_collection_day(risk_app, date(2026, 5, 30)).regraded == []  # day 90: 关注
    assert run_collection_day(risk_app, date(2026, 5, 31)).regraded == ["W-1:关注→次级"]  # 91
    # The first grade (when the case starts) is no downgrade: one report, for 次级.
    (second,) = warnings(risk_app)
    assert second.business_key == "W-1"
    assert (second.data["old_grade"], second.data["new_grade"]) == ("关注", "次级")
    assert second.data["recommended_actions"] == ACTIONS["次级"]
    assert second.data["days_past_due"] == 91 and second.data["amount"] == "1000.00"
    task = open_tasks(risk_app, second.id)["Task_warning_report"]
    assert task["candidate_groups"] == ["collection_supervisors"]
    # A payment regrades at once: paid in full on 1 Jun, back to 正常 (no report).
    pay(risk_app, "W-1", "1000.00", date(2026, 6, 1))
    assert history(risk_app) == [
        ("2026-03-02", None, "关注", 1),
        ("2026-05-31", "关注", "次级", 91),
        ("2026-06-01", "次级", "正常", 0),
    ]
    assert len(warnings(risk_app)) == 1
    state = risk_app.read(lambda s: s.scalars(select(CollectionCase.state)).one())
    assert state == "settled"


def test_without_the_warning_diagram_the_change_is_still_recorded(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn", SHIPPED / "risk_grade.dmn")
    import_rows(org_app, row("W-2", "1000.00", "2026-03-01"))
    run_collection_day(org_app, date(2026, 3, 2))
    assert history(org_app) == [("2026-03-02", None, "关注", 1)]
    assert warnings(org_app) == []


def portfolio(app) -> None:
    import_rows(
        app,
        row("G1", "100.00", "2026-01-01"),
        row("G2", "200.00", "2026-03-01"),
        row("G3", "300.00", "2025-12-01", product="credit_card"),
        row("G4", "400.00", "2026-04-10"),
    )
    # 2 Mar: G1 60 days → 关注, G2 1 → 关注, card G3 91 → 次级; G4 has no case yet.
    run_collection_day(app, date(2026, 3, 2))
    # 15 Apr: G1 104 → 次级, G2 45 (关注 still), card G3 135 → 可疑, G4 5 → 关注.
    run_collection_day(app, date(2026, 4, 15))
    pay(app, "G2", "200.00", date(2026, 4, 20))  # G2 → 正常


def test_distribution_and_migration_matrix(risk_app):
    portfolio(risk_app)
    summary = risk_app.read(lambda s: grade_summary(s, date(2026, 3, 31), date(2026, 4, 30)))
    assert summary.distribution == {
        "from": {"正常": 0, "关注": 2, "次级": 1, "可疑": 0, "损失": 0},
        "to": {"正常": 1, "关注": 1, "次级": 1, "可疑": 1, "损失": 0},
    }
    nonzero = {(f, t): n for f, row_ in summary.matrix.items() for t, n in row_.items() if n}
    assert nonzero == {("未评级", "关注"): 1, ("关注", "次级"): 1, ("关注", "正常"): 1,
                       ("次级", "可疑"): 1}  # fmt: skip
    # Before anything was graded, nothing is counted.
    empty = risk_app.read(lambda s: grade_summary(s, date(2026, 1, 1), date(2026, 3, 1)))
    assert sum(empty.distribution["to"].values()) == 0


def test_report_grades_from_the_shell(risk_app, cli, tmp_path):
    portfolio(risk_app)
    args = ("report", "grades", "--from", "2026-03-31", "--to", "2026-04-30")
    data = json.loads(cli(*args, "--format", "json").output)
    assert data["distribution"][1] == {"grade": "关注", "from": 2, "to": 1}
    assert data["migration"][2] == {"from": "关注", "正常": 1, "关注": 0, "次级": 1, "可疑": 0,
                                    "损失": 0}  # fmt: skip
    text = cli(*args, "--format", "csv").output
    assert text.splitlines()[:3] == ["# distribution", "grade,from,to", "正常,0,1"]
    assert "次级,0,0,0,1,0" in text.splitlines()  # 次级 on 31 Mar → 可疑 on 30 Apr
    out = tmp_path / "grades.xlsx"
    cli(*args, "--format", "xlsx", "--out", str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["distribution", "migration"]
    assert [c.value for c in book["migration"][1]] == [
        "from",
        "正常",
        "关注",
        "次级",
        "可疑",
        "损失",
    ]
    assert [c.value for c in book["migration"][2]] == ["未评级", 0, 1, 0, 0, 0]
    assert "迁徙" not in cli(*args).output and "migration" in cli(*args).output


def test_the_worker_sends_the_monthly_summary(risk_app, clock):
    assert previous_month(date(2026, 5, 1)) == (date(2026, 3, 31), date(2026, 4, 30))
    assert previous_month(date(2026, 3, 1)) == (date(2026, 1, 31), date(2026, 2, 28))
    portfolio(risk_app)
    clock.set(datetime.combine(date(2026, 5, 1), time(10, 0), tzinfo=SHANGHAI))
    worker = Worker(risk_app)
    worker._grade_summary()
    worker._grade_summary()  # once per month and recipient
    mails = risk_app.read(lambda s: s.execute(
        select(OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body)
        .where(OutboxMessage.subject.like("五级分类月报%"))).all())  # fmt: skip
    assert [(m.recipient, m.subject) for m in mails] == [
        ("sun@example.com", "五级分类月报 2026-04")
    ]
    assert "关注: 2 → 1" in mails[0].body
    summary = select(AuditEvent.payload).where(AuditEvent.command == "collection.grade_summary")
    events = risk_app.read(lambda s: list(s.scalars(summary)))
    assert events[0]["from"] == "2026-03-31" and events[0]["to"] == "2026-04-30"
