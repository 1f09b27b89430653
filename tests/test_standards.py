"""Basic and temporary SLA standards: which limit is in force, recorded on the task."""

from __future__ import annotations

import pytest

from engine import queries
from engine.clock_control import RecomputeClocks
from engine.errors import ScriptError, ValidationError
from engine.runtime import StartInstance
from engine.standards import RetireStandard, SetStandard, standards

from .helpers import open_tasks
from .test_deploy import deploy_bytes
from .test_sla import at, sla_process


@pytest.fixture
def sla_app(org_app, clock):
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="3 working days", warnings=""))
    return org_app


def opened(app, data=None):
    instance = app.execute(StartInstance("sla", data=data or {})).id
    return instance, open_tasks(app, instance)["t"]


def test_the_diagram_limit_applies_without_standards(sla_app):
    _, task = opened(sla_app)
    assert task["due_at"] == "2026-03-05T17:30:00+08:00"


def test_a_basic_standard_overrides_the_diagram_and_is_recorded(sla_app):
    sla_app.execute(SetStandard("sla", "t", "5 working days", label="2026 办事指南"))
    _, task = opened(sla_app)
    assert task["due_at"] == "2026-03-09T17:30:00+08:00"
    replacing = sla_app.execute(SetStandard("sla", "t", "2 working days"))
    _, later = opened(sla_app)
    assert later["due_at"] == "2026-03-04T17:30:00+08:00"
    sla_app.execute(RetireStandard(replacing.id))
    _, back = opened(sla_app)
    assert back["due_at"] == "2026-03-05T17:30:00+08:00"


def test_temporary_standards_by_window_and_condition(sla_app, clock):
    sla_app.execute(SetStandard(
        "sla", "t", "1 working day", kind="temporary", label="加急件",
        condition="priority == 'urgent'", priority=10,
    ))  # fmt: skip
    sla_app.execute(SetStandard(
        "sla", "t", "10 working days", kind="temporary", label="两会期间",
        valid_from=at("2026-03-04T00:00"), valid_to=at("2026-03-12T00:00"),
    ))  # fmt: skip
    _, normal = opened(sla_app)
    _, urgent = opened(sla_app, {"priority": "urgent"})
    assert normal["due_at"] == "2026-03-05T17:30:00+08:00"  # window not yet open: diagram
    assert urgent["due_at"] == "2026-03-03T17:30:00+08:00"
    clock.set(at("2026-03-04T09:00"))
    _, in_window = opened(sla_app)
    _, urgent_in_window = opened(sla_app, {"priority": "urgent"})
    assert in_window["due_at"] == "2026-03-18T17:30:00+08:00"  # 10 working days from Wed
    assert urgent_in_window["due_at"] == "2026-03-05T17:30:00+08:00"  # higher priority wins
    clock.set(at("2026-03-12T09:00"))
    _, after = opened(sla_app)
    assert after["due_at"] == "2026-03-17T17:30:00+08:00"  # window closed: the diagram again


def test_the_policy_in_force_is_shown_with_the_clock(sla_app):
    sla_app.execute(SetStandard("sla", "t", "4 working days", label="基本标准2026"))
    instance, _ = opened(sla_app)
    tz = sla_app.services.timezone
    shown = sla_app.read(lambda s: queries.instance(s, instance, tz, sla_app.clock.now()))
    assert shown["open_tasks"][0]["sla"]["policy"] == "basic standard #1: 基本标准2026"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"limit": "soon"}, ValidationError, "cannot read duration"),
        ({"kind": "temporary"}, ValidationError, "needs a date window or a condition"),
        ({"condition": "x == 1"}, ValidationError, "has no window or condition"),
        ({"kind": "temporary", "condition": "__import__('os')"}, ScriptError, "invalid"),
        ({"warnings": ["4/3"]}, ValidationError, "strictly between"),
    ],
)
def test_bad_standards_are_refused(kwargs, error, message):
    values = {"process_key": "sla", "step": "t", "limit": "1 working day"} | kwargs
    with pytest.raises(error, match=message):
        SetStandard(values.pop("process_key"), values.pop("step"), values.pop("limit"), **values)


@pytest.mark.parametrize(
    "warnings", [["5 working days"], ["3 working days before"], ["50%", "2 working days"]]
)
def test_a_warning_that_would_never_be_given_is_refused(sla_app, warnings):
    """A 2-working-day limit: a warning 5 working days after the start or 3 before the
    deadline falls outside the clock, and used to be dropped without a word."""
    with pytest.raises(ValidationError, match=f"warning {warnings[-1]!r} would come") as refused:
        sla_app.execute(SetStandard("sla", "t", "2 working days", warnings=warnings))
    assert list(refused.value.details["fields"]) == ["warnings"]
    assert sla_app.read(standards) == []
    kept = sla_app.execute(
        SetStandard("sla", "t", "2 working days", warnings=["50%", "1 working day before"])
    )
    assert kept.warnings == ["50%", "1 working day before"]


def test_recompute_applies_a_new_standard_to_open_tasks(sla_app, clock):
    instance, task = opened(sla_app)
    assert task["due_at"] == "2026-03-05T17:30:00+08:00"
    sla_app.execute(SetStandard("sla", "t", "5 working days", label="新办事指南"))
    [moved] = sla_app.execute(RecomputeClocks(dry_run=True))
    assert moved["task_id"] == task["id"]
    assert open_tasks(sla_app, instance)["t"]["due_at"] == "2026-03-05T17:30:00+08:00"
    sla_app.execute(RecomputeClocks())
    assert open_tasks(sla_app, instance)["t"]["due_at"] == "2026-03-09T17:30:00+08:00"
    tz = sla_app.services.timezone
    shown = sla_app.read(lambda s: queries.instance(s, instance, tz, sla_app.clock.now()))
    assert shown["open_tasks"][0]["sla"]["policy"] == "basic standard #1: 新办事指南"
