"""Timer acquisition with leases, idempotent firing, failures recorded and retried."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.due_timers import AcquireDueTimers, FireTimer
from engine.runtime import StartInstance
from engine.store import Timer
from timers.worker import Worker

from .helpers import open_tasks, view
from .test_deploy import HEAD, deploy_bytes

FAILING = (
    f'{HEAD}<bpmn:process id="failing" isExecutable="true">'
    '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
    '<bpmn:userTask id="t" name="Wait"/>'
    '<bpmn:boundaryEvent id="timer" attachedToRef="t">'
    "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
    "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    '<bpmn:sequenceFlow id="f2" sourceRef="timer" targetRef="boom"/>'
    '<bpmn:scriptTask id="boom" scriptFormat="python"><bpmn:script>x = 1 / zero</bpmn:script>'
    '</bpmn:scriptTask><bpmn:sequenceFlow id="f3" sourceRef="boom" targetRef="e"/>'
    '<bpmn:sequenceFlow id="f4" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
    "</bpmn:process></bpmn:definitions>"
).encode()


def timer_rows(app):
    return app.read(lambda s: s.scalars(select(Timer).order_by(Timer.id)).all())


def started(app, data=None):
    deploy_bytes(app, FAILING)
    return app.execute(StartInstance("failing", data=data or {"zero": 0})).id


def test_nothing_is_acquired_before_it_is_due(app, clock):
    started(app)
    clock.advance(timedelta(minutes=59))
    assert app.execute(AcquireDueTimers("w1")) == []


def test_a_leased_timer_is_not_taken_by_another_worker_until_the_lease_expires(app, clock):
    started(app)
    clock.advance(timedelta(hours=1))
    [timer_id] = app.execute(AcquireDueTimers("w1", lease=timedelta(minutes=5)))
    assert app.execute(AcquireDueTimers("w2")) == []
    assert app.execute(FireTimer(timer_id, "w2")) is False  # not w2's lease
    clock.advance(timedelta(minutes=6))  # w1 died holding it
    assert app.execute(AcquireDueTimers("w2")) == [timer_id]


def test_firing_twice_fires_once(app, clock):
    instance = started(app, {"zero": 1})
    clock.advance(timedelta(hours=1))
    [timer_id] = app.execute(AcquireDueTimers("w1"))
    assert app.execute(FireTimer(timer_id, "w1")) is True
    assert app.execute(FireTimer(timer_id, "w1")) is False
    assert view(app, instance)["state"] == "completed"
    assert [e["command"] for e in view(app, instance)["history"]].count("timer_fired") == 1


def test_a_failing_firing_is_recorded_and_retried_with_backoff(app, clock):
    instance = started(app)
    clock.advance(timedelta(hours=1))
    result = Worker(app, owner="w1").run_once()
    assert (result.fired, result.failed) == (0, 1)
    [row] = timer_rows(app)
    assert row.status == "waiting" and row.attempts == 1
    assert "ZeroDivisionError" in row.last_error
    assert "t" in open_tasks(app, instance)  # the failed command changed nothing
    assert Worker(app, owner="w1").run_once().failed == 0  # backing off
    clock.advance(timedelta(seconds=31))
    assert Worker(app, owner="w1").run_once().failed == 1
    assert timer_rows(app)[0].attempts == 2
    history = [e["command"] for e in view(app, instance)["history"]]
    assert history == ["start", "timer_failed", "timer_failed"]


def test_stopping_a_worker_releases_its_leases(app, clock):
    started(app)
    clock.advance(timedelta(hours=1))
    worker = Worker(app, owner="w1")
    assert app.execute(AcquireDueTimers("w1")) != []
    worker.stop()
    assert timer_rows(app)[0].lease_owner is None
    assert app.execute(AcquireDueTimers("w2")) != []  # no need to wait for expiry


def test_metrics_show_the_due_backlog(app, clock):
    from webapp import create_app

    started(app)
    client = create_app({"TESTING": True}, engine=app).test_client()
    text = client.get("/metrics").get_data(as_text=True)
    assert "caseclock_timers_waiting 1" in text and "caseclock_timers_due 0" in text
    clock.advance(timedelta(hours=1, minutes=30))
    text = client.get("/metrics").get_data(as_text=True)
    assert "caseclock_timers_due 1" in text
    assert "caseclock_oldest_due_timer_lateness_seconds 1800.0" in text
