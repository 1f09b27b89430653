"""The shipped collection ladder: each rung at its day, payment ends it at any point."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import NotFound
from engine.runtime import CorrelateMessage, StartInstance
from timers.worker import Worker

from .conftest import SHIPPED, deploy
from .helpers import open_tasks, timers, view, work

DEBT = {"debtor_name": "某某贸易有限公司", "amount": 128000, "receivable_id": "AR-1"}


@pytest.fixture
def debt_app(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn")
    return org_app


def start(app, key="AR-1"):
    return app.execute(StartInstance("debt_collection", key, {**DEBT, "receivable_id": key})).id


def advance_and_fire(app, clock, delta):
    clock.advance(delta)
    return Worker(app).run_once()


def test_ladder_climbs_by_days_overdue(debt_app, clock):
    case = start(debt_app)
    assert timers(debt_app, case) == {"Timer_d1": "2026-03-03T09:00:00+08:00"}
    advance_and_fire(debt_app, clock, timedelta(days=1))
    assert view(debt_app, case)["data"]["reminder_sent"] is True  # D+1 SMS script ran
    assert open_tasks(debt_app, case) == {}
    advance_and_fire(debt_app, clock, timedelta(days=2))  # D+3
    call = open_tasks(debt_app, case)["Task_call"]
    assert call["candidate_groups"] == ["collectors"]
    work(debt_app, case, "Task_call", "wu", {"contact_result": "unreachable"})
    advance_and_fire(debt_app, clock, timedelta(days=4))  # D+7
    work(debt_app, case, "Task_formal_notice", "zheng", {"notice_no": "CS-0001"})
    advance_and_fire(debt_app, clock, timedelta(days=8))  # D+15
    review = open_tasks(debt_app, case)["Task_supervisor_review"]
    assert review["candidate_groups"] == ["collection_supervisors"]
    work(debt_app, case, "Task_supervisor_review", "sun", {"review_decision": "legal"})
    work(debt_app, case, "Task_legal_referral", "zhou", {"legal_case_ref": "LAW-7"})
    assert view(debt_app, case)["state"] == "completed"


def test_payment_ends_the_case_at_any_rung(debt_app, clock):
    case = start(debt_app, "AR-2")
    other = start(debt_app, "AR-3")
    advance_and_fire(debt_app, clock, timedelta(days=1))
    advance_and_fire(debt_app, clock, timedelta(days=2))
    assert "Task_call" in open_tasks(debt_app, case)
    delivered = debt_app.execute(CorrelateMessage("payment_received", "AR-2", {"paid": 128000}))
    assert delivered == [case]
    result = view(debt_app, case)
    assert result["state"] == "completed"
    assert result["open_tasks"] == [] and result["waiting_timers"] == []
    assert result["waiting_messages"] == []
    # The other debtor's case is untouched.
    assert view(debt_app, other)["state"] == "running"
    assert "Task_call" in open_tasks(debt_app, other)


def test_payment_for_an_unknown_receivable_is_a_clear_error(debt_app):
    start(debt_app, "AR-4")
    with pytest.raises(NotFound, match="AR-404"):
        debt_app.execute(CorrelateMessage("payment_received", "AR-404"))


def test_overdue_call_task_deadline_is_projected(debt_app, clock):
    case = start(debt_app)
    advance_and_fire(debt_app, clock, timedelta(days=1))
    advance_and_fire(debt_app, clock, timedelta(days=2))
    assert timers(debt_app, case)["Timer_call_deadline"] == "2026-03-06T09:00:00+08:00"
    advance_and_fire(debt_app, clock, timedelta(days=1, minutes=1))
    assert "Task_call" in open_tasks(debt_app, case)  # non-interrupting deadline
    fired = [e["payload"]["timer"] for e in view(debt_app, case)["history"]
             if e["command"] == "timer_fired"]  # fmt: skip
    assert fired == ["Timer_d1", "Timer_d3", "Timer_call_deadline"]
