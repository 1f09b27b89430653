"""休假委托 and handing over work: while someone is away their deputy gets their tasks,
notices and chases, the ledger names both; when someone leaves, their work moves in bulk."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.absence import CancelAbsence, DeclareAbsence, ReassignAll
from engine.chase import HandleChase, UrgeChase
from engine.erasure import ErasePerson
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.runtime import ClaimTask, CompleteTask, StartInstance
from engine.store import AuditEvent

from .helpers import open_tasks, view
from .test_chase import fire_at, inbox, late  # noqa: F401  (fixture)
from .test_deploy import deploy_bytes
from .test_sla import at, sla_process


def away(app, person, deputy, first, last):
    return app.execute(DeclareAbsence(person, deputy, date.fromisoformat(first),
                                      date.fromisoformat(last), "年假"), actor="admin")  # fmt: skip


def events(app, instance, command):
    return [e for e in view(app, instance)["history"] if e["command"] == command]


def test_the_deputy_works_the_task_and_is_charged_on_behalf(org_app, clock, late):  # noqa: F811
    """杨审核 holds 审核 (due Mon 12 Oct 17:30) and is away 12–14 Oct; 黄审核 stands in.
    刘科长 is away on the 12th too and 孙经理 stands in for him: the chase goes to 孙经理
    for 刘科长, and climbs from 刘科长 (to 钱副主任), not from 孙经理 (to 赵主任)."""
    instance, task_id = late
    away(org_app, "yang", "huang", "2026-10-12", "2026-10-14")
    away(org_app, "liu", "sun", "2026-10-12", "2026-10-12")
    fire_at(org_app, clock, "2026-10-12T09:00")
    assert [t["id"] for t in inbox(org_app, "huang") if t["assignee"] == "yang"] == [task_id]

    fire_at(org_app, clock, "2026-10-12T17:31")
    [breach] = events(org_app, instance, "ledger_breach")
    assert breach["payload"]["responsible"] == "huang"
    assert breach["payload"]["on_behalf_of"] == "yang"
    assert breach["payload"]["superior"] == "liu"
    [chase] = inbox(org_app, "sun")
    assert chase["chase_of"] == task_id and chase["owner"] == "liu"
    assert inbox(org_app, "liu") == []

    fire_at(org_app, clock, "2026-10-13T17:31")  # the grace passed: one level above 刘科长
    [second] = inbox(org_app, "qian")
    assert second["chase_level"] == 2
    assert [t for t in inbox(org_app, "zhao") if t["kind"] == "chase"] == []

    org_app.execute(CompleteTask(task_id, "huang", {}), actor="huang")
    [done] = events(org_app, instance, "complete")
    assert done["payload"] == {"user": "huang", "on_behalf_of": "yang",
                               "private_sha256": done["payload"]["private_sha256"]}  # fmt: skip
    assert [t for t in inbox(org_app, "qian") if t["kind"] == "chase"] == []


def test_the_deputy_has_no_power_outside_the_absence(org_app, clock, late):  # noqa: F811
    _, task_id = late
    away(org_app, "yang", "huang", "2026-10-12", "2026-10-12")
    fire_at(org_app, clock, "2026-10-13T09:00")
    assert [t for t in inbox(org_app, "huang") if t["assignee"] == "yang"] == []
    with pytest.raises(Forbidden, match="only they complete it"):
        org_app.execute(CompleteTask(task_id, "huang", {}))


def test_a_cancelled_absence_routes_nothing(org_app, clock, late):  # noqa: F811
    _, task_id = late
    absence = away(org_app, "yang", "huang", "2026-10-09", "2026-10-20")
    assert [t["id"] for t in inbox(org_app, "huang") if t["assignee"] == "yang"] == [task_id]
    org_app.execute(CancelAbsence(absence.id))
    assert [t for t in inbox(org_app, "huang") if t["assignee"] == "yang"] == []
    with pytest.raises(Conflict, match="already cancelled"):
        org_app.execute(CancelAbsence(absence.id))


def test_deputies_chain_and_loops_stop(org_app):
    away(org_app, "yang", "huang", "2026-03-02", "2026-03-06")
    away(org_app, "huang", "liu", "2026-03-02", "2026-03-03")
    snapshot = org_app.read(org_app.services.org.snapshot)
    assert snapshot.stand_in("yang", date(2026, 3, 2)) == "liu"  # huang is away too
    assert snapshot.stand_in("yang", date(2026, 3, 4)) == "huang"
    assert snapshot.stand_in("yang", date(2026, 3, 9)) is None
    # A circle of deputies is refused when declared: on 2 March nobody would be left.
    with pytest.raises(ValidationError, match=r"circle \(liu → yang → huang → liu\)"):
        away(org_app, "liu", "yang", "2026-03-02", "2026-03-02")
    # On 4 March huang is back, so liu may hand over to yang then: no circle that day.
    away(org_app, "liu", "yang", "2026-03-04", "2026-03-04")
    snapshot = org_app.read(org_app.services.org.snapshot)
    assert snapshot.stand_in("liu", date(2026, 3, 2)) is None
    assert snapshot.stand_in("liu", date(2026, 3, 4)) == "huang"  # yang is away: huang


def test_bad_absences_are_refused(org_app):
    with pytest.raises(ValidationError, match="own deputy"):
        away(org_app, "yang", "yang", "2026-03-02", "2026-03-03")
    with pytest.raises(ValidationError, match="before it starts"):
        away(org_app, "yang", "huang", "2026-03-05", "2026-03-03")
    with pytest.raises(NotFound, match="unknown user 'nobody'"):
        away(org_app, "yang", "nobody", "2026-03-02", "2026-03-03")
    away(org_app, "yang", "huang", "2026-03-02", "2026-03-06")
    with pytest.raises(Conflict, match="already away"):
        away(org_app, "yang", "liu", "2026-03-06", "2026-03-09")


def test_reassign_all_hands_over_every_task_and_chase(org_app, clock, late):  # noqa: F811
    instance, task_id = late
    other = org_app.execute(StartInstance("sla", "BJ-D")).id
    other_task = open_tasks(org_app, other)["t"]["id"]
    org_app.execute(ClaimTask(other_task, "yang"))
    fire_at(org_app, clock, "2026-10-12T17:31")  # liu now holds a chase for task_id
    moved = org_app.execute(ReassignAll("yang", "huang"), actor="liu")
    assert sorted(moved) == sorted([task_id, other_task])
    assert {t["id"] for t in inbox(org_app, "huang") if t["assignee"] == "huang"} == {
        task_id, other_task}  # fmt: skip
    [reassigned] = events(org_app, instance, "reassign")
    assert reassigned["payload"] == {"from": "yang", "to": "huang", "bulk": True}
    assert inbox(org_app, "liu") == []  # the reassignment settled the chase
    [chase] = [t for t in view(org_app, instance)["history"] if t["command"] == "chase_closed"]
    assert chase["payload"]["outcome"] == "reassigned to huang"
    org_app.execute(ErasePerson("yang"))  # nothing open is left with yang
    with pytest.raises(ValidationError, match="unknown user 'yang', and no open task is held"):
        org_app.execute(ReassignAll("yang", "huang"))


def test_reassign_all_of_chases_needs_a_person(org_app, clock, late):  # noqa: F811
    fire_at(org_app, clock, "2026-10-12T17:31")
    with pytest.raises(ValidationError, match="give --to"):
        org_app.execute(ReassignAll("liu", None))
    assert len(inbox(org_app, "liu")) == 1


def test_reassigning_from_an_unknown_key_that_holds_nothing_is_refused(org_app):
    with pytest.raises(ValidationError, match="unknown user 'ghost'") as refused:
        org_app.execute(ReassignAll("ghost", "huang"), actor="zhao")
    assert refused.value.details["fields"] == {"holder": refused.value.message}
    commands = org_app.read(lambda s: list(s.scalars(select(AuditEvent.command))))
    assert "reassign" not in commands and "reassign_all" not in commands


def test_absence_cli(cli, org_app):
    out = cli("absence", "add", "yang", "--deputy", "huang", "--from", "2026-03-02",
              "--to", "2026-03-04").output  # fmt: skip
    assert "yang away 2026-03-02 – 2026-03-04, huang stands in" in out
    listed = cli("--json", "absence", "list").output
    assert '"deputy": "huang"' in listed
    assert "absence 1 cancelled" in cli("absence", "cancel", "1").output
    assert "(none)" in cli("absence", "list").output
    bad = cli("absence", "add", "yang", "--deputy", "huang", "--from", "2026-03-05",
              "--to", "2026-03-01", ok=False)  # fmt: skip
    assert "error: the absence ends (2026-03-01) before it starts (2026-03-05)" in bad.output
    assert "0 task(s) of yang now with huang" in cli("reassign-all", "yang", "--to", "huang").output


def test_reassign_all_cli_puts_tasks_back_in_the_pool(org_app, cli):
    deploy_bytes(org_app, sla_process())
    instance = org_app.execute(StartInstance("sla", "BJ-E")).id
    org_app.execute(ClaimTask(open_tasks(org_app, instance)["t"]["id"], "yang"))
    assert "1 task(s) of yang now with their group pools" in cli("reassign-all", "yang").output
    assert open_tasks(org_app, instance)["t"]["assignee"] is None


def test_a_chase_is_worked_by_the_holders_deputy(org_app, clock, late):  # noqa: F811
    """The chase opens for 刘科长 at work; the next day he is away and 黄审核 stands in."""
    fire_at(org_app, clock, "2026-10-12T17:31")
    [chase] = inbox(org_app, "liu")
    with pytest.raises(Forbidden, match="liu's, not huang's"):
        org_app.execute(UrgeChase(chase["id"], "huang"))
    away(org_app, "liu", "huang", "2026-10-13", "2026-10-13")
    clock.set(at("2026-10-13T09:00"))
    org_app.execute(HandleChase(chase["id"], "huang", "已协调"))
    assert inbox(org_app, "liu") == []


def test_the_superior_takes_back_a_chase_their_deputy_held(org_app, clock, late):  # noqa: F811
    """Opened while 刘科长 was away (so 孙经理 holds it for him); back the next day, he
    handles it himself."""
    away(org_app, "liu", "sun", "2026-10-12", "2026-10-12")
    fire_at(org_app, clock, "2026-10-12T17:31")
    [chase] = inbox(org_app, "sun")
    clock.set(at("2026-10-13T09:00"))
    with pytest.raises(Forbidden, match="sun's, not huang's"):
        org_app.execute(HandleChase(chase["id"], "huang", "x"))
    org_app.execute(HandleChase(chase["id"], "liu", "我回来了，已处理"))
    assert inbox(org_app, "sun") == []
