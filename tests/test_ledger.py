"""The accountability ledger: at a breach, who held the task for how long, in working
time; at completion, the final lateness. Entries are part of the verified chain."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.audit_verify import verify
from engine.errors import Conflict, Forbidden
from engine.ledger import DecideExemption, RequestExemption
from engine.runtime import ClaimTask, CompleteTask, ReassignTask, StartInstance
from timers.worker import Worker

from .helpers import open_tasks, view
from .test_deploy import deploy_bytes
from .test_sla import at, sla_process


def entries(app, instance, command):
    return [e["payload"] for e in view(app, instance)["history"] if e["command"] == command]


def test_breach_snapshot_and_final_lateness(org_app, clock):
    # Mon 2 Mar 2026 09:00, 1 working day: due Tue 3 Mar 17:30.
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="1 working day", warnings=""))
    instance = org_app.execute(StartInstance("sla", "BJ-L")).id
    task_id = open_tasks(org_app, instance)["t"]["id"]
    clock.set(at("2026-03-02T11:00"))  # 2 working hours in the reviewers' pool
    org_app.execute(ClaimTask(task_id, "yang"))
    clock.set(at("2026-03-03T10:00"))  # yang held it Mon 11:00-17:30 + Tue 9:00-10:00
    org_app.execute(ReassignTask(task_id, "huang"), actor="liu")
    clock.set(at("2026-03-03T17:31"))
    Worker(org_app).run_once()
    [breach] = entries(org_app, instance, "ledger_breach")
    assert breach["deadline"] == "2026-03-03T09:30:00+00:00"
    assert (breach["responsible"], breach["superior"]) == ("huang", "liu")
    assert (breach["standard"], breach["calendar"]) == ("basic standard (diagram)", "default")
    holders = [(h["holder"], h["working_seconds"] // 60) for h in breach["holders"]]
    assert holders == [(None, 120), ("yang", 300 + 60), ("huang", 360)]
    clock.set(at("2026-03-04T10:30"))  # 1.5 working hours late
    org_app.execute(CompleteTask(task_id, "huang"))
    [final] = entries(org_app, instance, "ledger_final")
    assert final["late_working_seconds"] == 90 * 60 and final["completed_by"] == "huang"
    assert org_app.read(lambda s: verify(s)) == []


def test_no_final_entry_for_work_done_in_time(org_app, clock):
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="1 working day", warnings=""))
    instance = org_app.execute(StartInstance("sla")).id
    task_id = open_tasks(org_app, instance)["t"]["id"]
    org_app.execute(ClaimTask(task_id, "yang"))
    clock.advance(timedelta(hours=3))
    org_app.execute(CompleteTask(task_id, "yang"))
    assert entries(org_app, instance, "ledger_breach") == []
    assert entries(org_app, instance, "ledger_final") == []


def test_exemption_is_requested_and_decided_one_level_up(org_app, clock):
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="1 working day", warnings=""))
    instance = org_app.execute(StartInstance("sla", "BJ-X")).id
    task_id = open_tasks(org_app, instance)["t"]["id"]
    org_app.execute(ClaimTask(task_id, "yang"))
    with pytest.raises(Conflict, match="has not breached"):
        org_app.execute(RequestExemption(task_id, "yang", "系统故障"))
    clock.set(at("2026-03-03T17:31"))
    Worker(org_app).run_once()
    with pytest.raises(Forbidden, match="responsible person or their superior"):
        org_app.execute(RequestExemption(task_id, "huang", "不相干"))
    request = org_app.execute(RequestExemption(task_id, "yang", "省政务网停机一天（有公告）"))
    with pytest.raises(Forbidden, match="only the superior of yang"):
        org_app.execute(DecideExemption(request.id, "qian", approve=True))
    org_app.execute(DecideExemption(request.id, "liu", approve=True, note="附停机公告"))
    with pytest.raises(Conflict, match="already approved"):
        org_app.execute(DecideExemption(request.id, "liu", approve=False))
    [decided] = [e for e in view(org_app, instance)["history"]
                 if e["command"] == "ledger_exemption_decided"]  # fmt: skip
    assert decided["payload"]["exemption_id"] == request.id
    assert decided["payload"]["approved"] is True
    # The free-text note may name people: it lives in the erasable private part.
    assert decided["private"] == {"note": "附停机公告"}
    assert "附停机公告" not in str(decided["payload"])
    [breach] = entries(org_app, instance, "ledger_breach")  # never edited
    assert breach["responsible"] == "yang"


def test_a_case_breach_names_everyone_holding_an_open_step_and_its_final_lateness(org_app, clock):
    """整体时限 5 working days from Wed 30 Sep 2026 10:00: due Tue 13 Oct 17:30 (National
    Day holidays, 调休 Saturday 10 Oct). At the breach 杨审核 holds the only open step; the
    case ends Thu 15 Oct 10:30: Wed 14 is a full working day (09:00–12:00, 13:30–17:30:
    7 h) and Thu 09:00–10:30 adds 1.5 h, so it ended 8.5 working hours late."""
    clock.set(at("2026-09-30T10:00"))
    deploy_bytes(org_app, sla_process(limit="20 working days", warnings="",
                                      case='caseclock:limit="5 working days"'))  # fmt: skip
    instance = org_app.execute(StartInstance("sla", "BJ-K")).id
    task_id = open_tasks(org_app, instance)["t"]["id"]
    org_app.execute(ClaimTask(task_id, "yang"))
    clock.set(at("2026-10-14T09:00"))
    Worker(org_app).run_once()
    [breach] = entries(org_app, instance, "ledger_scope_breach")
    assert (breach["scope"], breach["deadline"]) == ("case", "2026-10-13T09:30:00+00:00")
    [holder] = breach["responsible"]
    assert (holder["task_id"], holder["responsible"], holder["superior"]) == (task_id, "yang",
                                                                              "liu")  # fmt: skip
    clock.set(at("2026-10-15T10:30"))
    org_app.execute(CompleteTask(task_id, "yang"))
    [final] = entries(org_app, instance, "ledger_case_final")
    assert final["late_working_seconds"] == int(8.5 * 3600)
    assert org_app.read(lambda s: verify(s)) == []
