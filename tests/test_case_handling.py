"""The shipped 办件 diagram, end to end, as staff would live it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import Forbidden, ValidationError
from engine.runtime import ClaimTask, CompleteTask, CorrelateMessage, StartInstance
from engine.store import OutboxMessage
from timers.worker import Worker

from .conftest import SHIPPED, deploy
from .helpers import open_tasks, timers, view, work

RECEIVE = {"applicant_name": "张三", "matter": "食品经营许可证", "documents_complete": True}


@pytest.fixture
def case_app(org_app):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    return org_app


def start(app, key="BJ-1"):
    return app.execute(StartInstance("case_handling", key), actor="li").id


def test_happy_path_through_four_departments(case_app):
    case = start(case_app)
    receive = open_tasks(case_app, case)["Task_receive"]
    assert receive["candidate_groups"] == ["reception"]  # from the lane 受理窗口
    work(case_app, case, "Task_receive", "li", RECEIVE)
    review = open_tasks(case_app, case)["Task_review"]
    assert review["candidate_groups"] == ["reviewers"]
    work(case_app, case, "Task_review", "yang", {"review_opinion": "pass"})
    work(case_app, case, "Task_approve", "qian", {"decision": "approve"})
    work(case_app, case, "Task_conclude", "li", {"certificate_no": "JY-1"})
    result = view(case_app, case)
    assert result["state"] == "completed"
    assert result["data"]["certificate_no"] == "JY-1"
    assert result["waiting_timers"] == []  # the case-deadline timer went with the case
    commands = [e["command"] for e in result["history"]]
    assert commands == ["start"] + ["claim", "complete"] * 4


def test_step_timers_are_projected_with_due_times(case_app, clock):
    case = start(case_app)
    due = timers(case_app, case)
    # Opened Mon 2026-03-02 09:00 Shanghai. Warning after 4 working hours (09-12, then
    # 13:30-14:30); deadline 1 working day: counting starts Tuesday, ends 17:30; the case
    # limit of 20 working days ends Mon 30 Mar. SLA clocks agree with the boundary timers.
    assert due["Timer_receive_warning"] == "2026-03-02T14:30:00+08:00"
    assert due["Task_receive:sla warning"] == "2026-03-02T14:30:00+08:00"
    assert due["Timer_receive_deadline"] == "2026-03-03T17:30:00+08:00"
    assert due["Task_receive:sla deadline"] == "2026-03-03T17:30:00+08:00"
    assert due["Timer_case_deadline"] == "2026-03-30T17:30:00+08:00"
    assert due["case:sla deadline"] == "2026-03-30T17:30:00+08:00"
    clock.advance(timedelta(hours=2))
    work(case_app, case, "Task_receive", "li", RECEIVE)
    due = timers(case_app, case)
    assert "Timer_receive_warning" not in due and "Task_receive:sla warning" not in due
    assert due["Timer_review_deadline"] == "2026-03-05T17:30:00+08:00"  # Tue, Wed, Thu


def test_warning_fires_without_interrupting_the_step(case_app, clock):
    case = start(case_app)
    clock.advance(timedelta(hours=5, minutes=29))
    assert Worker(case_app).run_once().fired == 0
    clock.advance(timedelta(minutes=2))
    assert Worker(case_app).run_once().fired == 2  # the boundary timer and the SLA warning
    assert "Task_receive" in open_tasks(case_app, case)  # non-interrupting
    assert "Timer_receive_warning" not in timers(case_app, case)
    history = view(case_app, case)["history"]
    fired = [e for e in history if e["command"] == "timer_fired"]
    assert fired[0]["payload"]["timer"] == "Timer_receive_warning"
    assert fired[0]["payload"]["late_seconds"] == 60.0


def test_incomplete_documents_wait_for_the_applicant(case_app):
    case = start(case_app, "BJ-2")
    work(case_app, case, "Task_receive", "li", {**RECEIVE, "documents_complete": False})
    assert open_tasks(case_app, case) == {}
    assert [m["message"] for m in view(case_app, case)["waiting_messages"]] == [
        "documents_supplied"
    ]
    assert "Timer_documents_timeout" in timers(case_app, case)  # the P15D withdrawal
    case_app.execute(CorrelateMessage("documents_supplied", "BJ-2", {"note": "补齐"}))
    tasks = open_tasks(case_app, case)
    assert list(tasks) == ["Task_receive"]
    assert "Timer_documents_timeout" not in timers(case_app, case)
    assert view(case_app, case)["data"]["note"] == "补齐"


def test_applicant_who_never_answers_is_withdrawn(case_app, clock):
    case = start(case_app, "BJ-3")
    work(case_app, case, "Task_receive", "li", {**RECEIVE, "documents_complete": False})
    clock.advance(timedelta(days=15, minutes=1))
    Worker(case_app).run_once()
    assert view(case_app, case)["state"] == "completed"


def test_unchecked_box_means_false_and_required_fields_are_enforced(case_app):
    case = start(case_app)
    task_id = open_tasks(case_app, case)["Task_receive"]["id"]
    case_app.execute(ClaimTask(task_id, "li"))
    with pytest.raises(ValidationError) as info:
        case_app.execute(CompleteTask(task_id, "li", {"matter": "x" * 5}))
    assert info.value.details["fields"] == {"applicant_name": "is required"}
    assert "Task_receive" in open_tasks(case_app, case)  # nothing applied
    case_app.execute(CompleteTask(task_id, "li", {"applicant_name": "王五", "matter": "x"}))
    assert view(case_app, case)["data"]["documents_complete"] is False


def test_reviewer_cannot_take_reception_work(case_app):
    case = start(case_app)
    task_id = open_tasks(case_app, case)["Task_receive"]["id"]
    with pytest.raises(Forbidden, match="not in a candidate group"):
        case_app.execute(ClaimTask(task_id, "yang"))


def test_case_deadline_marks_the_case_overdue(case_app, clock):
    case = start(case_app)
    clock.advance(timedelta(days=28, hours=8, minutes=31))  # Mon 30 Mar 17:31
    Worker(case_app).run_once()
    result = view(case_app, case)
    assert "Timer_case_deadline" not in timers(case_app, case)
    assert "Task_receive" in open_tasks(case_app, case)  # non-interrupting
    fired = {e["payload"]["timer"] for e in result["history"] if e["command"] == "timer_fired"}
    assert "Timer_case_deadline" in fired


def test_the_applicant_is_told_at_补正_and_at_办结(case_app):
    contact = {"applicant_email": "zhangsan@example.com", "applicant_mobile": "13900000000"}
    case = start(case_app, "BJ-N")
    work(case_app, case, "Task_receive", "li", {**RECEIVE, **contact, "documents_complete": False})
    case_app.execute(CorrelateMessage("documents_supplied", "BJ-N"))
    work(case_app, case, "Task_receive", "li", {**RECEIVE, **contact})
    work(case_app, case, "Task_review", "yang", {"review_opinion": "pass"})
    work(case_app, case, "Task_approve", "qian", {"decision": "approve"})
    work(case_app, case, "Task_conclude", "li", {"certificate_no": "JY-9"})
    sent = case_app.read(
        lambda s: [(m.channel, m.recipient, m.subject)
                   for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    )  # fmt: skip
    needed = "【补正通知】您申请的“食品经营许可证”（BJ-N）需要补充材料"
    done = "【办结通知】您申请的“食品经营许可证”（BJ-N）已办结"
    assert sent == [
        ("email", "zhangsan@example.com", needed),
        ("sms", "13900000000", needed),
        ("email", "zhangsan@example.com", done),
        ("sms", "13900000000", done),
    ]
