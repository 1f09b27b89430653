"""Bounds on what people and diagrams write: durations of at most 10 years, dates in
1900-2999, no zero-length 协办 or extension, no booleans as text, no unknown calendar or
step in a standard, no process key that cannot be stored, no circle of deputies.

Each was accepted before (hostile-input probe of 2026-11-29) and either held the
database for a minute, crashed with a 500 or stored nonsense; each is now a clear error
and nothing is written."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.absence import DeclareAbsence
from engine.accountability import parse_period
from engine.assistance import RequestAssist
from engine.calendar import CalendarError, WorkingCalendar, parse_duration
from engine.clock_control import DecideExtension, RequestExtension
from engine.errors import ValidationError
from engine.runtime import ClaimTask, CompleteTask, StartInstance
from engine.standards import SetStandard
from engine.store import AuditEvent, ProcessInstance, Task
from engine.store.models import Absence, SlaExtension, SlaStandard

from .conftest import SHANGHAI
from .helpers import open_tasks
from .test_deploy import HEAD, deploy_bytes, diagram, problems, timer_process
from .test_sla import at, clock_of, sla_process

HUGE = "99999999999999"
FAR = r"reaches the year -?\d+: the calendar covers 1889-3010"


def count(app, model) -> int:
    return app.read(lambda s: s.scalar(select(func.count()).select_from(model)))


def written(app) -> tuple[int, ...]:
    """Rows a refused command must not have added."""
    return tuple(count(app, m) for m in (AuditEvent, Task, SlaExtension, SlaStandard, Absence))


# --- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "longest, unit",
    [
        ("2600 working days", "2,600 working days"),
        ("20800 working hours", "20,800 working hours"),
        ("1248000 working minutes", "1,248,000 working minutes"),
        ("3653 days", "3,653 days"),
        ("87672 hours", "87,672 hours"),
        ("5260320 minutes", "5,260,320 minutes"),
    ],
)
def test_a_duration_is_at_most_ten_years_in_every_unit(longest, unit):
    amount, words = longest.split(" ", 1)
    assert parse_duration(longest).amount == int(amount)
    with pytest.raises(CalendarError, match=f"too long: at most {unit} \\(10 years\\)"):
        parse_duration(f"{int(amount) + 1} {words}")
    with pytest.raises(CalendarError, match="too long"):
        parse_duration(f"{HUGE} {words}")


def test_zero_is_refused_where_asked_and_long_text_always():
    assert parse_duration("0 working days").amount == 0  # "nothing" is a valid limit
    with pytest.raises(CalendarError, match="is zero"):
        parse_duration("0 working days", positive=True)
    with pytest.raises(CalendarError, match="is zero"):
        parse_duration("0.0 working hours", positive=True)
    with pytest.raises(CalendarError, match="at most 100 characters"):
        parse_duration("0" * 200 + "1 working day")


# --- the calendar refuses before it builds ----------------------------------------------


def test_the_calendar_refuses_far_years_before_building_them():
    calendar = WorkingCalendar()
    start = at("2026-03-02T09:00")
    with pytest.raises(CalendarError, match=FAR):
        calendar.add_working_days(start, 10**14)
    with pytest.raises(CalendarError, match=FAR):
        calendar.add_working_days(start, -(10**14))
    with pytest.raises(CalendarError, match=FAR):
        calendar.add_working_time(start, timedelta(days=10**8))
    with pytest.raises(
        CalendarError, match=r"reaches the year 5000: the calendar covers 1889-3010"
    ):
        calendar.is_working_day(date(5000, 1, 1))
    # Only the start's year was ever built: the far target was refused, not walked to.
    assert calendar.loaded_years == range(2026, 2027)


def test_long_walks_jump_ahead_and_still_count_every_working_day():
    calendar, start = WorkingCalendar(), at("2026-03-02T09:00")
    due = calendar.add_working_days(start, 2600)
    assert calendar.count_working_days(date(2026, 3, 3), due.date()) == 2600
    assert calendar.is_working_day(due.date()) and due.time() == datetime(1, 1, 1, 17, 30).time()
    back = calendar.add_working_days(start, -2600)
    assert calendar.count_working_days(back.date(), date(2026, 3, 1)) == 2600
    later = calendar.add_working_time(start, timedelta(hours=20800))
    assert calendar.working_time_between(start, later) == timedelta(hours=20800)
    earlier = calendar.add_working_time(start, -timedelta(hours=20800))
    assert calendar.working_time_between(earlier, start) == timedelta(hours=20800)


# --- 协办 and extensions through the real commands --------------------------------------


@pytest.fixture
def held(org_app, clock):
    """杨审核 holds 审核 (10 working days) from Fri 9 Oct 2026 10:00."""
    clock.set(at("2026-10-09T10:00"))
    deploy_bytes(org_app, sla_process(limit="10 working days", warnings=""))
    instance = org_app.execute(StartInstance("sla", "BJ-B")).id
    task_id = open_tasks(org_app, instance)["t"]["id"]
    org_app.execute(ClaimTask(task_id, "yang"))
    return instance, task_id


@pytest.mark.parametrize(
    "limit, message",
    [
        (f"{HUGE} working days", "too long: at most 2,600 working days"),
        (f"{HUGE} hours", "too long: at most 87,672 hours"),
        ("0 working days", "is zero"),
    ],
)
def test_an_absurd_assist_limit_is_refused_and_nothing_written(org_app, held, limit, message):
    _, task_id = held
    before = written(org_app)
    with pytest.raises(ValidationError, match=message) as info:
        org_app.execute(RequestAssist(task_id, "yang", "法务", "合同条款？", limit))
    assert list(info.value.details["fields"]) == ["limit"]
    assert written(org_app) == before


@pytest.mark.parametrize(
    "amount, message",
    [
        ("999999 days", "too long: at most 3,653 days"),
        (f"{HUGE} working days", "too long: at most 2,600 working days"),
        (f"{HUGE} hours", "too long: at most 87,672 hours"),
        ("0 working days", "is zero"),
    ],
)
def test_an_absurd_extension_is_refused_and_nothing_written(org_app, held, amount, message):
    _, task_id = held
    before = written(org_app)
    with pytest.raises(ValidationError, match=message) as info:
        org_app.execute(RequestExtension(task_id, "yang", amount, "材料延迟"))
    assert list(info.value.details["fields"]) == ["amount"]
    assert written(org_app) == before


def test_an_absurd_extension_stored_earlier_cannot_be_approved(org_app, held):
    instance, task_id = held
    request = org_app.execute(RequestExtension(task_id, "yang", "2 working days", "材料延迟"))
    with org_app.sessions.begin() as session:  # as stored before amounts were bounded
        session.get(SlaExtension, request.id).amount = "999999 days"
    due, before = clock_of(org_app, instance)["due_at"], written(org_app)
    with pytest.raises(ValidationError, match="too long: at most 3,653 days"):
        org_app.execute(DecideExtension(request.id, "liu", approve=True))
    assert clock_of(org_app, instance)["due_at"] == due and written(org_app) == before
    status = org_app.read(lambda s: s.get(SlaExtension, request.id).status)
    assert status == "pending"


# --- standards ----------------------------------------------------------------------------


@pytest.fixture
def deployed(org_app, clock):
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="3 working days", warnings=""))
    return org_app


@pytest.mark.parametrize(
    "args, kwargs, field, message",
    [
        (("sla", "t", f"{HUGE} hours"), {}, None, "too long: at most 87,672 hours"),
        (("sla", "t", "9999 working days"), {}, None, "too long: at most 2,600 working days"),
        (("sla", "t", "1 working day"), {"warnings": [f"{HUGE} hours before"]}, None,
         "too long"),
        (("sla", "t", "1 working day"), {"calendar": "nope"}, "calendar",
         "no calendar 'nope'; known calendars: default"),
        (("sla", "tt", "1 working day"), {}, "step",
         "process 'sla' has no user task 'tt'; its user tasks: t, or \\* for the whole case"),
        (("sla", "t", "1 working day"),
         {"kind": "temporary", "valid_from": datetime(1, 1, 1, tzinfo=SHANGHAI)},
         "valid_from", "the year must be 1900-2999"),
        (("sla", "t", "1 working day"),
         {"kind": "temporary", "valid_to": datetime(9999, 12, 31, tzinfo=SHANGHAI)},
         "valid_to", "the year must be 1900-2999"),
        (("sla", "t", "1 working day"), {"priority": 10**23}, "priority",
         "from -1000000 to 1000000"),
    ],
)  # fmt: skip
def test_a_bad_standard_is_refused_and_nothing_written(deployed, args, kwargs, field, message):
    before = written(deployed)
    with pytest.raises(ValidationError, match=message) as info:
        deployed.execute(SetStandard(*args, **kwargs))
    if field:
        assert list(info.value.details["fields"]) == [field]
    assert written(deployed) == before


def test_a_standard_may_name_a_process_not_deployed_yet_or_the_whole_case(deployed):
    deployed.execute(SetStandard("not_yet", "Task_x", "2 working days"))
    deployed.execute(SetStandard("sla", "*", "5 working days", calendar="default"))
    assert count(deployed, SlaStandard) == 2


def test_a_case_under_an_absurd_stored_standard_is_refused_cleanly(deployed):
    with deployed.sessions.begin() as session:  # saved before limits were bounded
        session.add(SlaStandard(
            process_key="sla", step="t", kind="basic", label="bad", limit=f"{HUGE} hours",
            warnings=[], on_deadline="notify", calendar=None, created_at=deployed.clock.now(),
            created_by="admin",
        ))  # fmt: skip
    before = count(deployed, ProcessInstance), written(deployed)
    with pytest.raises(ValidationError, match="too long: at most 87,672 hours"):
        deployed.execute(StartInstance("sla", "BJ-X"))
    assert (count(deployed, ProcessInstance), written(deployed)) == before


# --- report periods -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, last, field",
    [
        ("2026-01-01", "9999-12-31", "to"),
        ("0001-01-01", "2026-01-01", "from"),
        ("1899-12-31", "2026-01-01", "from"),
        ("2026-01-01", "3000-01-01", "to"),
    ],
)
def test_a_period_lies_in_1900_to_2999(first, last, field):
    with pytest.raises(ValidationError, match="the year must be 1900-2999") as info:
        parse_period(first, last, SHANGHAI)
    assert list(info.value.details["fields"]) == [field]


def test_both_ends_out_of_range_are_both_named():
    with pytest.raises(ValidationError) as info:
        parse_period("0001-01-01", "9999-12-31", SHANGHAI)
    assert info.value.details["fields"] == {
        "from": "--from 0001-01-01: the year must be 1900-2999",
        "to": "--to 9999-12-31: the year must be 1900-2999",
    }


def test_the_period_edges_themselves_are_fine():
    period = parse_period("1900-01-01", "2999-12-31", SHANGHAI)
    assert period.end == datetime(3000, 1, 1, tzinfo=SHANGHAI)


def test_the_ledger_cli_says_so_in_one_line(cli):
    result = cli("report", "ledger", "--from", "2026-01-01", "--to", "9999-12-31", ok=False)
    assert result.output == "error: --to 9999-12-31: the year must be 1900-2999\n"


# --- forms --------------------------------------------------------------------------------


FORM = (
    '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
    '<bpmn:userTask id="t" camunda:candidateGroups="reviewers"><bpmn:extensionElements>'
    '<camunda:formData><camunda:formField id="applicant_name" type="string"/>'
    "</camunda:formData></bpmn:extensionElements></bpmn:userTask>"
    '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
)


def test_a_boolean_is_not_text(org_app):
    deploy_bytes(org_app, diagram(FORM))
    instance = org_app.execute(StartInstance("p")).id
    task_id = open_tasks(org_app, instance)["t"]["id"]
    org_app.execute(ClaimTask(task_id, "yang"))
    before = written(org_app)
    with pytest.raises(ValidationError) as info:
        org_app.execute(CompleteTask(task_id, "yang", {"applicant_name": True}))
    assert info.value.details["fields"] == {"applicant_name": "must be text"}
    assert written(org_app) == before
    org_app.execute(CompleteTask(task_id, "yang", {"applicant_name": "张三"}))


# --- deploy -------------------------------------------------------------------------------


def test_a_process_needs_an_id_that_fits(app):
    found = problems(app, HEAD.encode() + b'<bpmn:process id="" isExecutable="true">'
                     b'<bpmn:startEvent id="s"/></bpmn:process></bpmn:definitions>')  # fmt: skip
    assert any("needs an id" in p["message"] for p in found), found
    found = problems(app, diagram('<bpmn:startEvent id="s"/>', process_id="p" * 5000))
    assert [(p["element_id"], p["message"]) for p in found] == [
        ("p" * 40 + "…", "the id is 5,000 characters long; at most 100 are allowed")
    ]
    assert count(app, AuditEvent) == 0


@pytest.mark.parametrize(
    "kind, text, fragment",
    [
        ("timeCycle", "R3/PT99999999999H", "too long: at most 10 years"),
        ("timeDuration", "P11Y", "too long: at most 10 years"),
        ("timeDuration", "PT99999999999999999999H", "too long: at most 10 years"),
        ("timeDate", "9999-12-31T23:00:00-05:00", "the year must be 1900-2999"),
        ("timeDate", "0001-01-01T00:00:00+08:00", "the year must be 1900-2999"),
        ("timeCycle", "R99999999/P10Y/2026-10-01T09:00", "before the year 1"),
    ],
)
def test_far_timer_text_is_refused_at_deploy(app, kind, text, fragment):
    found = problems(app, timer_process(kind, text))
    assert any(p["element_id"] == "timer" and fragment in p["message"] for p in found), found


def test_ten_years_of_timer_text_deploys(app):
    deploy_bytes(app, timer_process("timeDuration", "P10Y"))


# --- deputies -----------------------------------------------------------------------------


def test_two_people_cannot_be_each_others_deputy(org_app):
    org_app.execute(DeclareAbsence("li", "chen", date(2026, 4, 1), date(2026, 4, 10)))
    before = written(org_app)
    with pytest.raises(ValidationError, match=r"circle \(chen → li → chen\)") as info:
        org_app.execute(DeclareAbsence("chen", "li", date(2026, 4, 10), date(2026, 4, 12)))
    assert list(info.value.details["fields"]) == ["deputy"]
    assert written(org_app) == before
    # After li is back, chen may leave li in charge.
    org_app.execute(DeclareAbsence("chen", "li", date(2026, 4, 11), date(2026, 4, 12)))


@pytest.mark.parametrize(
    "args, message",
    [
        (("sla", "t", f"{HUGE} hours"), "too long: at most 87,672 hours"),
        (("sla", "t", "1 working day", "--temporary", "--from", "0001-01-01"),
         "the year must be 1900-2999"),
    ],
)  # fmt: skip
def test_the_sla_cli_refuses_in_one_line(cli, args, message):
    result = cli("sla", "set", *args, ok=False)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
