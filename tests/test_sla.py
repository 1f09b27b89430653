"""SLA clocks end to end: working-day deadlines with 调休, warnings, traffic lights,
pause (补正), extension (延期), downtime coalescing, and notices in the outbox."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine import queries
from engine.calendars import DefineCalendar
from engine.clock_control import DecideExtension, PauseClock, RequestExtension, ResumeClock
from engine.digests import ComposeDigests
from engine.errors import Conflict, DeploymentError, Forbidden
from engine.org import ImportOrg
from engine.runtime import ClaimTask, CompleteTask, StartInstance
from engine.sla import light as sla_light
from engine.store import Calendar, CalendarOverride, Definition, OutboxMessage, Task
from timers.worker import Worker

from .conftest import SHANGHAI
from .helpers import open_tasks, view
from .test_deploy import HEAD, deploy_bytes

NS = 'xmlns:caseclock="http://caseclock.dev/schema/1.0"'


def sla_process(limit="3 working days", warnings="1 working day before", extra="", case=""):
    head = HEAD.replace("<bpmn:definitions ", f"<bpmn:definitions {NS} ")
    return (
        f'{head}<bpmn:process id="sla" isExecutable="true" {case}>'
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        f'<bpmn:userTask id="t" name="审核" camunda:candidateGroups="reviewers" '
        f'caseclock:limit="{limit}" caseclock:warnings="{warnings}" {extra}/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def started(org_app, clock):
    def start(when="2026-09-30T10:00", **kwargs):
        clock.set(at(when))
        deploy_bytes(org_app, sla_process(**kwargs))
        instance = org_app.execute(StartInstance("sla")).id
        task = open_tasks(org_app, instance)["t"]
        org_app.execute(ClaimTask(task["id"], "yang"))
        return instance, task["id"]

    return start


def clock_of(app, instance, now=None):
    tz = app.services.timezone
    [task] = app.read(lambda s: queries.instance(s, instance, tz, now or app.clock.now()))[
        "open_tasks"
    ]
    return task["sla"]


def test_national_day_and_the_adjusted_saturday(org_app, started):
    """Received Wed 30 Sep 2026, 3 working days: 1–7 Oct are holidays, then Thu 8, Fri 9
    and the 调休 working Saturday 10 Oct. Warning one working day before: end of Fri 9."""
    instance, _ = started()
    sla = clock_of(org_app, instance)
    assert sla["due_at"] == "2026-10-10T17:30:00+08:00"
    assert sla["warn_at"] == "2026-10-09T17:30:00+08:00"
    assert (sla["light"], sla["limit"], sla["calendar"]) == ("green", "3 working days", "default")
    assert sla["policy"] == "basic standard (diagram)"
    timers = {t["kind"]: t["due_at"] for t in view(org_app, instance)["waiting_timers"]}
    assert timers == {"sla warning": "2026-10-09T17:30:00+08:00",
                      "sla deadline": "2026-10-10T17:30:00+08:00"}  # fmt: skip


def test_lights_warnings_and_the_breach_notice(org_app, started, clock):
    instance, task_id = started(warnings="2/3")
    # 27 h of working time from Wed 10:00; 2/3 = 18 h: Wed 6 h, Thu 7 h, Fri 9-12 + 13:30-15:30.
    assert clock_of(org_app, instance)["warn_at"] == "2026-10-09T15:30:00+08:00"
    clock.set(at("2026-10-09T15:29"))
    assert Worker(org_app).run_once().fired == 0
    assert clock_of(org_app, instance)["light"] == "green"
    clock.set(at("2026-10-09T15:31"))
    assert Worker(org_app).run_once().fired == 1
    assert clock_of(org_app, instance)["light"] == "yellow"
    clock.set(at("2026-10-10T17:31"))
    Worker(org_app).run_once()
    sla = clock_of(org_app, instance)
    # Late, but not yet by any working time: the day ended at 17:30.
    assert sla["light"] == "red" and sla["working_seconds_left"] == 0
    clock.set(at("2026-10-12T09:01"))
    assert clock_of(org_app, instance)["working_seconds_left"] == -60
    history = view(org_app, instance)["history"]
    breach = next(e for e in history if e["command"] == "sla_breach")
    [holder] = breach["payload"]["holders"]
    assert (holder["responsible"], holder["superior"]) == ("yang", "liu")
    notices = org_app.read(
        lambda s: s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    )
    subjects = [(n.channel, n.recipient, n.subject) for n in notices]
    assert (
        "email",
        "yang@example.gov.cn",
        "【超期】审核（1）已于 2026-10-10 17:30 超期",
    ) in subjects
    assert [n.channel for n in notices] == ["inapp", "email", "inapp", "email"]
    org_app.execute(CompleteTask(task_id, "yang"))
    [done] = org_app.read(lambda s: queries.tasks(
        s, SHANGHAI, org_app.services.org.snapshot(s), group="reviewers", now=clock.now()
    )) or [None]  # fmt: skip
    assert done is None  # closed tasks leave the inbox
    assert view(org_app, instance)["waiting_timers"] == []


def test_pause_over_a_weekend_alone_moves_nothing(org_app, started, clock):
    instance, task_id = started(when="2026-03-06T17:30", limit="2 working days", warnings="")
    # Fri 6 Mar 17:30 (end of day) -> Mon 9, Tue 10: due Tue 10 Mar 17:30.
    assert clock_of(org_app, instance)["due_at"] == "2026-03-10T17:30:00+08:00"
    org_app.execute(PauseClock(task_id, "yang", "等待申请人补正材料"))
    assert clock_of(org_app, instance)["light"] == "paused"
    clock.set(at("2026-03-09T09:00"))  # Monday morning: only the weekend passed
    org_app.execute(ResumeClock(task_id, "yang"))
    assert clock_of(org_app, instance)["due_at"] == "2026-03-10T17:30:00+08:00"


def test_pause_moves_deadline_and_warnings_by_the_paused_working_time(org_app, started, clock):
    instance, task_id = started(when="2026-03-02T09:00", limit="3 working days",
                                warnings="1 working day before")  # fmt: skip
    assert clock_of(org_app, instance)["due_at"] == "2026-03-05T17:30:00+08:00"
    clock.set(at("2026-03-03T16:00"))  # Tue 16:00
    org_app.execute(PauseClock(task_id, "yang", "补正"))
    clock.set(at("2026-03-09T10:30"))  # following Mon 10:30: Tue 1.5 h + Wed–Fri 21 h + 1.5 h
    assert Worker(org_app).run_once().fired == 0  # nothing fires while paused
    org_app.execute(ResumeClock(task_id, "yang"))
    sla = clock_of(org_app, instance)
    # 24 h of working time paused: Thu 5 Mar 17:30 + Fri, Mon, Tue (21 h) + 3 h = Wed 12:00.
    assert sla["due_at"] == "2026-03-11T12:00:00+08:00"
    assert sla["warn_at"] == "2026-03-10T12:00:00+08:00"
    assert sla["paused_seconds"] == 24 * 3600
    commands = [e["command"] for e in view(org_app, instance)["history"]]
    assert commands[-2:] == ["pause_clock", "resume_clock"]


def test_a_task_completed_while_paused_ends_its_pause_and_is_judged_on_its_running_time(
    org_app, started, clock
):
    """As in the test above, but 杨审核 completes the task on Monday 10:30 without resuming:
    the pause ends with the task, the due time moves by the 24 paused working hours (to Wed
    11 Mar 12:00), so a task whose clock ran 1.5 working days of 3 is on time."""
    instance, task_id = started(when="2026-03-02T09:00", limit="3 working days",
                                warnings="1 working day before")  # fmt: skip
    clock.set(at("2026-03-03T16:00"))
    org_app.execute(PauseClock(task_id, "yang", "补正"))
    clock.set(at("2026-03-09T10:30"))
    org_app.execute(CompleteTask(task_id, "yang"))
    task = org_app.read(lambda s: s.get(Task, task_id))
    assert task.state == "completed" and task.paused_at is None
    assert task.paused_seconds == 24 * 3600
    assert task.due_at == at("2026-03-11T12:00")
    assert sla_light(task, clock.now()) == "met"
    # Not charged as late: judged on the old due time it would have been 2 days late.
    assert "ledger_final" not in [e["command"] for e in view(org_app, instance)["history"]]


def test_extension_needs_the_superior(org_app, started):
    instance, task_id = started()
    request = org_app.execute(RequestExtension(task_id, "yang", "2 working days", "需现场核查"))
    with pytest.raises(Forbidden, match="only the superior of yang"):
        org_app.execute(DecideExtension(request.id, "huang", approve=True))
    org_app.execute(DecideExtension(request.id, "liu", approve=True, note="同意"))
    sla = clock_of(org_app, instance)
    # Sat 10 Oct + 2 working days = Mon 12, Tue 13; the warning moves by the same 14 h.
    assert sla["due_at"] == "2026-10-13T17:30:00+08:00"
    assert sla["warn_at"] == "2026-10-12T17:30:00+08:00"
    with pytest.raises(Conflict, match="already approved"):
        org_app.execute(DecideExtension(request.id, "liu", approve=False))


def test_an_extension_after_the_breach_sets_a_new_deadline(org_app, started, clock):
    instance, task_id = started()
    clock.set(at("2026-10-12T09:00"))
    Worker(org_app).run_once()
    assert clock_of(org_app, instance)["light"] == "red"
    request = org_app.execute(RequestExtension(task_id, "yang", "3 working days", "材料延迟"))
    org_app.execute(DecideExtension(request.id, "liu", approve=True))
    sla = clock_of(org_app, instance)
    # Sat 10 Oct + 3 working days = Mon 12, Tue 13, Wed 14.
    assert sla["due_at"] == "2026-10-14T17:30:00+08:00" and sla["light"] == "green"


def test_after_downtime_a_stale_warning_is_coalesced(org_app, started, clock):
    instance, _ = started()
    clock.set(at("2026-10-20T09:00"))  # the worker was down past warning and deadline
    result = Worker(org_app).run_once()
    assert result.fired == 2
    commands = [e["command"] for e in view(org_app, instance)["history"]]
    assert commands[-3:] == ["sla_warning_coalesced", "sla_breach", "ledger_breach"]
    kinds = org_app.read(lambda s: s.scalars(select(OutboxMessage.payload)).all())
    assert {k["kind"] for k in kinds} == {"sla_breach"}  # no stale warning was sent


def test_case_level_limit(org_app, clock):
    clock.set(at("2026-09-30T10:00"))
    deploy_bytes(org_app, sla_process(case='caseclock:limit="5 working days"'))
    instance = org_app.execute(StartInstance("sla")).id
    assert view(org_app, instance)["due_at"] == "2026-10-13T17:30:00+08:00"
    clock.set(at("2026-10-14T09:00"))
    Worker(org_app).run_once()
    breaches = [e for e in view(org_app, instance)["history"] if e["command"] == "sla_breach"]
    scopes = sorted(e["payload"]["scope"] for e in breaches)
    assert scopes == ["case", "task"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"limit": "3 weeks"}, "unknown unit"),
        ({"warnings": "3/2"}, "strictly between"),
        ({"warnings": "soon"}, "write a fraction"),
        ({"warnings": "2 fortnights"}, "unknown unit"),
        ({"extra": 'caseclock:onDeadline="explode"'}, "onDeadline 'explode'"),
        # A 3-working-day limit: warnings outside the clock would never be given.
        ({"warnings": "5 working days"}, "warning '5 working days' would come at or after"),
        ({"warnings": "4 working days before"}, "would come at or after the deadline of a 3"),
    ],
)
def test_bad_sla_attributes_are_refused_at_deploy(app, kwargs, message):
    with pytest.raises(DeploymentError) as info:
        deploy_bytes(app, sla_process(**kwargs))
    [problem] = info.value.details["problems"]
    assert problem["element_id"] == "t" and message in problem["message"]


def test_a_diagram_names_a_calendar_that_must_exist_at_deploy(org_app, clock):
    """Refused while the court calendar does not exist (naming the element), nothing
    stored; once it is defined, the task's deadline is counted in it: no official
    holidays, so 1 and 2 October are working days there."""
    court = sla_process(extra='caseclock:calendar="court"')
    with pytest.raises(DeploymentError) as info:
        deploy_bytes(org_app, court)
    [problem] = info.value.details["problems"]
    assert problem["element_id"] == "t"
    assert problem["message"] == "no calendar 'court'; known calendars: default"
    assert org_app.read(lambda s: s.scalars(select(Definition.key)).all()) == []

    org_app.execute(DefineCalendar("court", periods=[("09:00", "12:00"), ("13:00", "17:00")],
                                   use_official_holidays=False))  # fmt: skip
    clock.set(at("2026-09-30T10:00"))
    deploy_bytes(org_app, court)
    instance = org_app.execute(StartInstance("sla")).id
    sla = clock_of(org_app, instance)
    assert (sla["calendar"], sla["due_at"]) == ("court", "2026-10-05T17:00:00+08:00")


def test_working_time_boundary_timer(org_app, clock):
    clock.set(at("2026-09-30T10:00"))
    head = HEAD.replace("<bpmn:definitions ", f"<bpmn:definitions {NS} ")
    deploy_bytes(org_app, (
        f'{head}<bpmn:process id="wt" isExecutable="true">'
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:userTask id="t"/><bpmn:boundaryEvent id="late" attachedToRef="t" '
        'cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeDuration>'
        "3个工作日</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode())  # fmt: skip
    instance = org_app.execute(StartInstance("wt")).id
    [timer] = view(org_app, instance)["waiting_timers"]
    assert (timer["element_id"], timer["due_at"]) == ("late", "2026-10-10T17:30:00+08:00")


def test_a_plain_duration_warns_that_long_after_the_start(org_app, started):
    instance, _ = started(when="2026-03-02T09:00", limit="1 working day",
                          warnings="4 working hours")  # fmt: skip
    sla = clock_of(org_app, instance)
    assert (sla["warn_at"], sla["due_at"]) == (
        "2026-03-02T14:30:00+08:00",
        "2026-03-03T17:30:00+08:00",
    )


def test_time_moves_forward_only(org_app, started, clock):
    """Guard: the FrozenClock is never set backwards by these tests."""
    started()
    assert clock.now() >= at("2026-09-30T10:00") - timedelta(seconds=1)


def test_a_calendar_override_moves_open_deadlines(org_app, started):
    from engine.calendars import OverrideDay

    instance, _ = started(when="2026-03-02T09:00", limit="3 working days", warnings="2/3")
    assert clock_of(org_app, instance)["due_at"] == "2026-03-05T17:30:00+08:00"
    org_app.execute(OverrideDay("2026-03-04", "holiday", note="临时停电"), actor="admin")
    sla = clock_of(org_app, instance)
    assert sla["due_at"] == "2026-03-06T17:30:00+08:00"  # Wed no longer counts
    history = [e["command"] for e in view(org_app, instance)["history"]]
    assert history[-1] == "recompute_clock"
    timers = {t["kind"]: t["due_at"] for t in view(org_app, instance)["waiting_timers"]}
    assert timers["sla deadline"] == "2026-03-06T17:30:00+08:00"


def test_reminders_stop_at_the_cap_but_the_breach_is_always_told(org_app, started, clock):
    instance, _ = started(
        when="2026-03-02T09:00", limit="5 working days",
        warnings="1/5; 2/5; 3/5; 4/5; 1 working hour before",
    )  # fmt: skip
    for day in ("03", "04", "05", "06", "09"):  # each warning, then the deadline
        clock.set(at(f"2026-03-{day}T17:29"))
        Worker(org_app).run_once()
    clock.set(at("2026-03-09T17:31"))
    Worker(org_app).run_once()
    history = view(org_app, instance)["history"]
    told = [e["payload"]["notified"] for e in history if e["command"].startswith("sla_")]
    assert told == [True, True, True, False, False, True]  # cap 3, then the breach
    kinds = org_app.read(lambda s: s.scalars(select(OutboxMessage.payload)).all())
    assert [k["kind"] for k in kinds].count("sla_warning") == 6  # 3 reminders x 2 channels


def test_a_person_who_wants_a_digest_gets_one_mail(org_app, started, clock):
    org_app.execute(ImportOrg({"departments": [], "groups": [],
                               "people": [{"key": "yang", "digest": True}]}))  # fmt: skip
    started(when="2026-03-02T09:00", limit="3 working days", warnings="1/3; 2/3")
    clock.set(at("2026-03-05T17:00"))
    Worker(org_app).run_once()
    held = org_app.read(lambda s: s.scalars(
        select(OutboxMessage).where(OutboxMessage.status == "held")).all())  # fmt: skip
    assert [m.channel for m in held] == ["email", "email"]  # the in-app ones went at once
    assert org_app.execute(ComposeDigests()) == 1
    assert org_app.execute(ComposeDigests()) == 0
    [mail] = org_app.read(lambda s: s.scalars(
        select(OutboxMessage).where(OutboxMessage.payload["kind"].as_string() == "digest")
    ).all())  # fmt: skip
    assert mail.subject == "【每日汇总】2 条办件预警（2026-03-05）"
    assert mail.recipient == "yang@example.gov.cn" and mail.status == "pending"
    assert mail.body.count("【预警】") == 2


def subprocess_process() -> bytes:
    head = HEAD.replace("<bpmn:definitions ", f"<bpmn:definitions {NS} ")
    return (
        f'{head}<bpmn:process id="sub_sla" isExecutable="true">'
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="Sub"/>'
        '<bpmn:subProcess id="Sub" name="联合审查" caseclock:limit="2 working days" '
        'caseclock:warnings="1/2">'
        '<bpmn:startEvent id="ss"/><bpmn:sequenceFlow id="g1" sourceRef="ss" targetRef="inner"/>'
        '<bpmn:userTask id="inner" camunda:candidateGroups="reviewers"/>'
        '<bpmn:sequenceFlow id="g2" sourceRef="inner" targetRef="se"/><bpmn:endEvent id="se"/>'
        "</bpmn:subProcess>"
        '<bpmn:sequenceFlow id="f2" sourceRef="Sub" targetRef="after"/>'
        '<bpmn:userTask id="after" camunda:candidateGroups="reviewers"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="e"/><bpmn:endEvent id="e"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def test_a_subprocess_limit_runs_while_the_subprocess_runs(org_app, clock):
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, subprocess_process())
    done = org_app.execute(StartInstance("sub_sla")).id
    late = org_app.execute(StartInstance("sub_sla")).id
    timers = {t["kind"]: t["due_at"] for t in view(org_app, done)["waiting_timers"]}
    assert timers == {"sla warning": "2026-03-03T14:00:00+08:00",  # half of 21 h
                      "sla deadline": "2026-03-04T17:30:00+08:00"}  # fmt: skip
    inner = open_tasks(org_app, done)["inner"]["id"]
    org_app.execute(ClaimTask(inner, "yang"))
    org_app.execute(CompleteTask(inner, "yang"))
    assert view(org_app, done)["waiting_timers"] == []  # the subprocess ended: clock stopped
    clock.set(at("2026-03-04T17:31"))
    Worker(org_app).run_once()
    breaches = [e["payload"] for e in view(org_app, late)["history"]
                if e["command"] == "sla_breach"]  # fmt: skip
    assert [(b["scope"], b["element_id"]) for b in breaches] == [("subprocess", "Sub")]
    assert [e for e in view(org_app, done)["history"] if e["command"] == "sla_breach"] == []


def test_a_deadline_in_a_year_without_official_data_carries_a_note(org_app, started):
    instance, _ = started(when="2099-03-02T09:00", limit="3 working days", warnings="")
    sla = clock_of(org_app, instance)
    assert sla["due_at"] == "2099-03-05T17:30:00+08:00"  # weekends only
    assert "2099" in sla["note"] and "no official calendar" in sla["note"]


def test_recompute_dry_run_shows_then_applies(org_app, started, cli):
    instance, _ = started(when="2026-03-02T09:00", limit="3 working days", warnings="")
    # A holiday added behind the engine's back (e.g. restored from a backup):
    with org_app.sessions.begin() as session:
        calendar = Calendar(name="default", timezone="Asia/Shanghai",
                            periods=[["09:00", "12:00"], ["13:30", "17:30"]],
                            use_official_holidays=True, created_at=org_app.clock.now())  # fmt: skip
        session.add(calendar)
        session.flush()
        session.add(CalendarOverride(
            calendar_id=calendar.id, day=date(2026, 3, 4), kind="holiday", note="",
            created_at=org_app.clock.now(), created_by="x",
        ))  # fmt: skip
    dry = cli("sla", "recompute", "--dry-run").output
    assert "1 open clock(s) would move" in dry and "2026-03-06T17:30:00+08:00" in dry
    assert clock_of(org_app, instance)["due_at"] == "2026-03-05T17:30:00+08:00"  # unchanged
    assert "1 open clock(s) moved" in cli("sla", "recompute").output
    assert clock_of(org_app, instance)["due_at"] == "2026-03-06T17:30:00+08:00"
    history = [e["command"] for e in view(org_app, instance)["history"]]
    assert history[-1] == "recompute_clock"
