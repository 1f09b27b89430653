"""Incidents through the engine: failed timers listed, retried now, or skipped."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.due_timers import RecordTimerFailure
from engine.errors import Conflict, NotFound
from engine.incidents import RetryTimer, SkipTimer, incidents
from engine.runtime import StartInstance
from engine.store import AuditEvent, Timer

from .conftest import SHIPPED, deploy


@pytest.fixture
def failed(org_app):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    case = org_app.execute(StartInstance("case_handling", "BJ-9"), actor="zhao").id
    timer_id = org_app.read(
        lambda s: s.scalars(
            select(Timer.id)
            .where(Timer.instance_id == case, Timer.status == "waiting")
            .order_by(Timer.id)
        ).first()
    )
    assert timer_id is not None
    org_app.execute(RecordTimerFailure(timer_id, "ConnectionError: service down"))
    return org_app, case, timer_id


def _events(app, name):
    return app.read(
        lambda s: list(s.scalars(select(AuditEvent.payload).where(AuditEvent.command == name)))
    )


def test_a_failed_timer_is_an_incident(failed):
    app, case, timer_id = failed
    [row] = app.read(incidents)
    assert row["id"] == timer_id and row["instance_id"] == case
    assert row["business_key"] == "BJ-9" and row["attempts"] == 1
    assert row["last_error"] == "ConnectionError: service down"
    assert row["retry_at"] is not None  # held back by the backoff lease


def test_retry_makes_it_due_now_and_clears_the_lease(failed):
    app, _, timer_id = failed
    before = app.read(lambda s: s.get(Timer, timer_id).due_at)
    app.execute(RetryTimer(timer_id), actor="zhao")
    timer = app.read(lambda s: s.get(Timer, timer_id))
    assert timer.lease_owner is None and timer.lease_until is None
    assert timer.status == "waiting"
    assert timer.due_at == min(before, app.clock.now().replace(tzinfo=before.tzinfo))
    [event] = _events(app, "timer_retry")
    assert event["timer_id"] == timer_id and event["error"].startswith("ConnectionError")


def test_skip_cancels_it_and_it_leaves_the_list(failed):
    app, _, timer_id = failed
    app.execute(SkipTimer(timer_id, "service retired"), actor="zhao")
    assert app.read(incidents) == []
    timer = app.read(lambda s: s.get(Timer, timer_id))
    assert timer.status == "cancelled" and timer.lease_owner is None
    [event] = _events(app, "timer_skip")
    assert event["note"] == "service retired" and event["attempts"] == 1


def test_only_failed_waiting_timers(failed):
    app, _, timer_id = failed
    app.execute(SkipTimer(timer_id), actor="zhao")
    with pytest.raises(Conflict):
        app.execute(SkipTimer(timer_id), actor="zhao")
    with pytest.raises(Conflict):
        app.execute(RetryTimer(timer_id), actor="zhao")
    with pytest.raises(NotFound):
        app.execute(RetryTimer(999999), actor="zhao")
    assert len(_events(app, "timer_skip")) == 1


def test_a_timer_that_never_failed_is_no_incident(org_app):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    org_app.execute(StartInstance("case_handling", "BJ-10"), actor="zhao")
    timer_id = org_app.read(lambda s: s.scalars(select(Timer.id)).first())
    assert org_app.read(incidents) == []
    with pytest.raises(Conflict):
        org_app.execute(RetryTimer(timer_id), actor="zhao")
