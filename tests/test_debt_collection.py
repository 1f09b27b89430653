"""The shipped collection ladder: each level on its day counted from the due date,
payments into the case, and the configuration changed without code."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from engine.collection import ladder
from engine.collection.cases import StartCollectionCase
from engine.errors import NotFound
from engine.runtime import ClaimTask, CorrelateMessage, StartInstance
from timers.worker import Worker

from .collection.helpers import import_rows, pay, row
from .conftest import SHANGHAI, SHIPPED, deploy
from .helpers import open_tasks, timers, view, work


@pytest.fixture
def debt_app(org_app):
    deploy(org_app, SHIPPED / "debt_collection.bpmn")
    return org_app


def start(app, key="AR-1", due="2026-03-05", principal="1280.00", as_of=date(2026, 3, 2)):
    import_rows(app, row(key, principal, due, collector="wu"))
    return app.execute(StartCollectionCase(key, as_of))


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def fire_at(app, clock, text):
    """Move the clock and run the worker until nothing more is due (a timer that comes
    due while a pass runs fires in the next pass, a second later in production)."""
    clock.set(at(text))
    while Worker(app).run_once().fired:
        pass


def test_the_ladder_waits_on_days_counted_from_the_due_date(debt_app, clock):
    case = start(debt_app)  # due Thu 5 Mar; today Mon 2 Mar is D-3
    assert timers(debt_app, case) == {"Timer_courtesy": "2026-03-02T09:00:00+08:00"}
    data = view(debt_app, case)["data"]
    assert data["ladder_due_date"] == "2026-03-05" and data["amount"] == "1280.00"
    assert data["ladder_call_at"] == "2026-03-08T09:00:00+08:00"
    fire_at(debt_app, clock, "2026-03-02T09:01")
    assert timers(debt_app, case) == {"Timer_sms": "2026-03-06T09:00:00+08:00"}  # D+1
    fire_at(debt_app, clock, "2026-03-06T09:01")
    assert timers(debt_app, case) == {"Timer_call": "2026-03-08T09:00:00+08:00"}  # D+3
    fire_at(debt_app, clock, "2026-03-08T08:59")
    assert open_tasks(debt_app, case) == {}
    fire_at(debt_app, clock, "2026-03-08T09:00")
    call = open_tasks(debt_app, case)["Task_call"]
    assert call["candidate_groups"] == ["collectors"]
    work(debt_app, case, "Task_call", "wu", {"contact_result": "unreachable"})
    assert timers(debt_app, case)["Timer_notice"] == "2026-03-12T09:00:00+08:00"  # D+7
    fire_at(debt_app, clock, "2026-03-12T09:00")
    work(debt_app, case, "Task_formal_notice", "wu", {"notice_no": "CS-0001"})
    assert timers(debt_app, case)["Timer_review"] == "2026-03-20T09:00:00+08:00"  # D+15
    fire_at(debt_app, clock, "2026-03-20T09:00")
    review = open_tasks(debt_app, case)["Task_supervisor_review"]
    assert review["candidate_groups"] == ["collection_supervisors"]
    work(debt_app, case, "Task_supervisor_review", "sun", {"review_decision": "continue"})
    assert timers(debt_app, case)["Timer_restriction"] == "2026-04-04T09:00:00+08:00"  # D+30
    fire_at(debt_app, clock, "2026-04-04T09:00")
    work(debt_app, case, "Task_credit_restriction", "sun", {"restriction_decision": "restrict"})
    assert timers(debt_app, case)["Timer_legal"] == "2026-05-04T09:00:00+08:00"  # D+60
    fire_at(debt_app, clock, "2026-05-04T09:00")
    assert open_tasks(debt_app, case)["Task_legal_referral"]["candidate_groups"] == ["legal"]
    work(debt_app, case, "Task_legal_referral", "zhou", {"legal_case_ref": "LAW-7"})
    assert view(debt_app, case)["state"] == "completed"


def test_a_case_started_late_catches_up_at_once(debt_app, clock):
    case = start(debt_app, due="2026-02-20", as_of=date(2026, 3, 2))  # D+10
    fire_at(debt_app, clock, "2026-03-02T09:00")
    assert set(open_tasks(debt_app, case)) == {"Task_call"}  # courtesy, sms, call: all past


def test_the_case_starts_once_and_not_before_the_courtesy_window(debt_app):
    import_rows(debt_app, row("AR-9", "100.00", "2026-03-06"))
    assert debt_app.execute(StartCollectionCase("AR-9", date(2026, 3, 2))) is None  # D-4
    first = debt_app.execute(StartCollectionCase("AR-9", date(2026, 3, 3)))
    assert first is not None
    assert debt_app.execute(StartCollectionCase("AR-9", date(2026, 3, 3))) is None


def test_a_partial_payment_updates_what_is_owed_and_the_ladder_goes_on(debt_app, clock):
    case = start(debt_app, "AR-2")
    other = start(debt_app, "AR-3")
    fire_at(debt_app, clock, "2026-03-08T09:00")
    pay(debt_app, "AR-2", "280.00", date(2026, 3, 8))
    result = view(debt_app, case)
    assert result["state"] == "running"
    assert (result["data"]["amount"], result["data"]["owed_minor"]) == ("1000.00", 100000)
    assert "Task_call" in open_tasks(debt_app, case)
    pay(debt_app, "AR-2", "1000.00", date(2026, 3, 9))
    result = view(debt_app, case)
    assert result["state"] == "completed"
    assert result["open_tasks"] == [] and result["waiting_timers"] == []
    assert result["waiting_messages"] == []
    # The other debtor's case is untouched.
    assert view(debt_app, other)["state"] == "running"
    assert "Task_call" in open_tasks(debt_app, other)


def test_a_payment_for_an_unknown_receivable_is_a_clear_error(debt_app):
    start(debt_app, "AR-4")
    with pytest.raises(NotFound, match="AR-404"):
        debt_app.execute(CorrelateMessage("payment_received", "AR-404"))


def test_a_late_call_task_is_chased(debt_app, clock):
    case = start(debt_app)
    fire_at(debt_app, clock, "2026-03-08T09:00")  # Sunday: the limit counts working days
    task_id = open_tasks(debt_app, case)["Task_call"]["id"]
    debt_app.execute(ClaimTask(task_id, "wu"), actor="wu")
    assert timers(debt_app, case)["Task_call:sla deadline"] == "2026-03-09T17:30:00+08:00"
    fire_at(debt_app, clock, "2026-03-09T17:31")
    chase = [t for t in view(debt_app, case)["open_tasks"] if t["kind"] == "chase"]
    assert [(c["name"], c["assignee"]) for c in chase] == [("催办：电话催收", "sun")]


def test_changing_the_call_day_through_the_cli_moves_the_next_case(debt_app, cli, clock):
    cli("collection", "ladder", "reset")
    out = cli("collection", "ladder", "set", "call", "--day", "5").output
    assert "call" in out and "D+5" in out
    listing = cli("collection", "ladder", "list").output
    assert "D+5" in listing and "D-3" in listing
    case = start(debt_app)
    assert view(debt_app, case)["data"]["ladder_call_at"] == "2026-03-10T09:00:00+08:00"
    fire_at(debt_app, clock, "2026-03-08T09:01")  # D+3: nothing yet
    assert open_tasks(debt_app, case) == {}
    fire_at(debt_app, clock, "2026-03-10T09:00")  # D+5
    assert "Task_call" in open_tasks(debt_app, case)


def test_a_case_started_by_hand_gets_the_shipped_ladder_from_today(debt_app):
    """The diagram's own fallback plan must stay the shipped ladder."""
    data = {"debtor_name": "某某贸易有限公司", "amount": 128000, "receivable_id": "AR-H"}
    case = debt_app.execute(StartInstance("debt_collection", "AR-H", data)).id
    today = datetime.now().date()  # the script runs on the host's clock
    got = view(debt_app, case)["data"]
    assert "due" not in got and got["ladder_due_date"] == today.isoformat()
    for level in ladder.DEFAULT_LEVELS:
        assert got[f"ladder_{level.level}_at"] == f"{today + timedelta(days=level.day)}T09:00:00"
        assert got[f"ladder_{level.level}_role"] == level.role
