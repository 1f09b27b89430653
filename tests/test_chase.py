"""Chase tasks up the org chart: a case goes overdue over a weekend with 调休 and the
right people are chased, level by level, until the work is done."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import queries
from engine.chase import HandleChase, UrgeChase
from engine.clock_control import DecideExtension, RequestExtension
from engine.errors import Conflict, Forbidden
from engine.org_edit import SavePerson
from engine.runtime import ClaimTask, CompleteTask, ReassignTask, StartInstance
from engine.store import OutboxMessage
from timers.worker import Worker

from .helpers import open_tasks, view
from .test_deploy import deploy_bytes
from .test_sla import at, sla_process


@pytest.fixture
def late(org_app, clock):
    """审核 held by 杨审核 (superior 刘科长, then 钱副主任, then 赵主任), 2 working days
    from Fri 9 Oct 2026 10:00: Sat 10 Oct is a 调休 working day, so it is due Mon 12 Oct
    17:30 — not Tue 13 as a weekend-only calendar would say."""
    clock.set(at("2026-10-09T10:00"))
    deploy_bytes(org_app, sla_process(limit="2 working days", warnings="",
                                      extra='caseclock:onDeadline="chase"'))  # fmt: skip
    instance = org_app.execute(StartInstance("sla", "BJ-C")).id
    task_id = open_tasks(org_app, instance)["t"]["id"]
    org_app.execute(ClaimTask(task_id, "yang"))
    return instance, task_id


def inbox(app, user):
    return app.read(lambda s: queries.tasks(
        s, app.services.timezone, app.services.org.snapshot(s), user=user, now=app.clock.now()
    ))  # fmt: skip


def fire_at(app, clock, when):
    clock.set(at(when))
    Worker(app).run_once()


def test_the_chase_climbs_level_by_level_and_closes_when_the_work_is_done(org_app, clock, late):
    instance, task_id = late
    fire_at(org_app, clock, "2026-10-12T17:29")
    assert inbox(org_app, "liu") == []
    fire_at(org_app, clock, "2026-10-12T17:31")
    [chase] = inbox(org_app, "liu")
    assert (chase["name"], chase["kind"], chase["chase_of"], chase["chase_level"]) == (
        "催办：审核", "chase", task_id, 1,
    )  # fmt: skip
    assert chase["due_at"] == "2026-10-13T17:30:00+08:00"  # a grace of 1 working day
    fire_at(org_app, clock, "2026-10-13T17:31")  # 刘科长 did nothing
    assert inbox(org_app, "liu") == []
    [second] = inbox(org_app, "qian")
    assert second["chase_level"] == 2 and second["due_at"] == "2026-10-14T17:30:00+08:00"
    org_app.execute(UrgeChase(second["id"], "qian", "今天必须办结"))
    with pytest.raises(Conflict, match="already urged this hour"):
        org_app.execute(UrgeChase(second["id"], "qian"))
    urged = org_app.read(lambda s: s.scalars(
        select(OutboxMessage).where(OutboxMessage.payload["kind"].as_string() == "urge")
    ).all())  # fmt: skip
    assert {(m.channel, m.recipient) for m in urged} == {
        ("inapp", "yang"),
        ("email", "yang@example.gov.cn"),
    }
    assert "钱副主任 催办您" in urged[0].body and "今天必须办结" in urged[0].body  # by name
    org_app.execute(CompleteTask(task_id, "yang"))
    assert inbox(org_app, "qian") == []
    commands = [
        (e["command"], e["payload"].get("outcome") or e["payload"].get("to"))
        for e in view(org_app, instance)["history"]
        if e["command"].startswith("chase")
    ]
    assert commands == [
        ("chase_opened", "liu"),
        ("chase_closed", "escalated to qian"),
        ("chase_opened", "qian"),
        ("chase_urge", "yang"),
        ("chase_closed", "completed"),
    ]  # fmt: skip


def test_the_chase_stops_at_the_cap(org_app, clock, late):
    fire_at(org_app, clock, "2026-10-12T17:31")  # level 1: liu
    fire_at(org_app, clock, "2026-10-13T17:31")  # level 2: qian
    fire_at(org_app, clock, "2026-10-14T17:31")  # level 3: zhao
    fire_at(org_app, clock, "2026-10-15T17:31")  # the cap: zhao keeps it
    [top] = inbox(org_app, "zhao")
    assert top["chase_level"] == 3
    history = [e["command"] for e in view(org_app, late[0])["history"]]
    assert history[-1] == "chase_cap_reached"


def test_only_the_holder_handles_a_chase_and_an_extension_settles_it(org_app, clock, late):
    instance, task_id = late
    fire_at(org_app, clock, "2026-10-12T17:31")
    [chase] = inbox(org_app, "liu")
    with pytest.raises(Forbidden):
        org_app.execute(HandleChase(chase["id"], "qian", "不是我的"))
    with pytest.raises(Conflict, match="is a chase task"):
        org_app.execute(CompleteTask(chase["id"], "liu"))
    request = org_app.execute(RequestExtension(task_id, "yang", "1 working day", "需补充调查"))
    org_app.execute(DecideExtension(request.id, "liu", approve=True))
    assert inbox(org_app, "liu") == []
    closed = [e["payload"]["outcome"] for e in view(org_app, instance)["history"]
              if e["command"] == "chase_closed"]  # fmt: skip
    assert closed == ["extended by 1 working day"]


def test_handled_with_a_note(org_app, clock, late):
    fire_at(org_app, clock, "2026-10-12T17:31")
    [chase] = inbox(org_app, "liu")
    org_app.execute(HandleChase(chase["id"], "liu", "已当面督促，明日办结"))
    with pytest.raises(Conflict, match="already closed"):
        org_app.execute(HandleChase(chase["id"], "liu", "again"))


def test_chase_from_the_command_line(org_app, clock, late, cli):
    fire_at(org_app, clock, "2026-10-12T17:31")
    [chase] = inbox(org_app, "liu")
    assert "催办：审核" in cli("tasks", "--user", "liu").output
    assert "holder urged" in cli("chase", "urge", str(chase["id"]), "--user", "liu").output
    bad = cli("complete", str(chase["id"]), "--user", "liu", ok=False)
    assert bad.output.startswith(f"error: task {chase['id']} is a chase task")
    out = cli("chase", "handle", str(chase["id"]), "--user", "liu", "--note", "已督促").output
    assert "handled" in out


def test_the_supervisor_board(org_app, clock, late):
    _, task_id = late
    fire_at(org_app, clock, "2026-10-12T17:31")
    board = org_app.read(lambda s: queries.board(s, org_app.services.timezone, "liu",
                                                 org_app.clock.now()))  # fmt: skip
    assert board["team"] == ["huang", "yang"]
    assert [t["id"] for t in board["late_or_warned"]] == [task_id]
    assert board["late_or_warned"][0]["sla"]["light"] == "red"
    assert [t["chase_of"] for t in board["my_chase_tasks"]] == [task_id]
    org_app.execute(CompleteTask(task_id, "yang"))
    board = org_app.read(lambda s: queries.board(s, org_app.services.timezone, "liu",
                                                 org_app.clock.now()))  # fmt: skip
    assert board["on_time"] == {"yang": {"met": 0, "closed": 1, "rate": 0.0}}
    top = org_app.read(lambda s: queries.below(s, "zhao"))
    assert "yang" in top and "liu" in top and "zhao" not in top


def test_unclaimed_late_work_shows_on_the_board_of_the_department_head_above(org_app, clock):
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="1 working day", warnings=""))
    org_app.execute(StartInstance("sla"))  # offered to reviewers (审核科, head 刘科长)
    clock.set(at("2026-03-04T09:00"))
    for supervisor in ("liu", "qian"):
        board = org_app.read(lambda s, who=supervisor: queries.board(
            s, org_app.services.timezone, who, org_app.clock.now()))  # fmt: skip
        assert [t["name"] for t in board["late_or_warned"]] == ["审核"], supervisor


def test_reassigned_before_the_breach_the_new_holder_answers_and_their_superior_chases(
    org_app, clock, late
):
    """杨审核 (superior 刘科长) held it from Fri 10:00; 王科长's 陈窗口 took it over on the 调休
    Saturday at 10:00, so at the breach (Mon 17:31) 陈窗口 is responsible and the chase
    goes to 王科长, not 刘科长; both holding times are in the ledger."""
    instance, task_id = late
    clock.set(at("2026-10-10T10:00"))
    org_app.execute(ReassignTask(task_id, "chen"), actor="liu")
    fire_at(org_app, clock, "2026-10-12T17:31")
    [breach] = [e["payload"] for e in view(org_app, instance)["history"]
                if e["command"] == "ledger_breach"]  # fmt: skip
    assert (breach["responsible"], breach["superior"]) == ("chen", "wang")
    held = [(h["holder"], h["working_seconds"] // 3600) for h in breach["holders"]]
    # yang: Fri 10–12 + 13:30–17:30 + Sat 9–10 = 7 h; chen: Sat 10–12 + 13:30–17:30 +
    # Mon 9–12 + 13:30–17:30 = 13 h (working time, lunch excluded).
    assert held == [("yang", 7), ("chen", 13)]
    assert [t["chase_level"] for t in inbox(org_app, "wang")] == [1]
    assert inbox(org_app, "liu") == []


def test_an_unclaimed_late_task_is_the_department_heads_and_chased_above_them(org_app, clock):
    """审核 offered to 审核科 and never claimed: its head 刘科长 answers for it, and the
    chase goes to his superior 钱副主任."""
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="1 working day", warnings="",
                                      extra='caseclock:onDeadline="chase"'))  # fmt: skip
    instance = org_app.execute(StartInstance("sla", "BJ-U")).id
    fire_at(org_app, clock, "2026-03-03T17:31")
    [breach] = [e["payload"] for e in view(org_app, instance)["history"]
                if e["command"] == "ledger_breach"]  # fmt: skip
    assert (breach["responsible"], breach["superior"]) == ("liu", "qian")
    assert [t["kind"] for t in inbox(org_app, "qian")] == ["chase"]


@pytest.mark.parametrize("locale, says", [
    ("zh-CN", "“审核”（办件 BJ-U，办理人：尚未认领）已超过办理时限"),
    ("en", '"审核" of case BJ-U, held by nobody yet (unclaimed), passed its deadline'),
])  # fmt: skip
def test_the_chase_notice_of_an_unclaimed_task_says_nobody_holds_it(org_app, clock, locale, says):
    """The notice to 钱副主任 names no holder "-": the late task waits in its pool."""
    org_app.execute(SavePerson("qian", "钱副主任", "leaders", "zhao", ["approvers"],
                               "qian@example.gov.cn", locale=locale))  # fmt: skip
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="1 working day", warnings="",
                                      extra='caseclock:onDeadline="chase"'))  # fmt: skip
    org_app.execute(StartInstance("sla", "BJ-U"))
    fire_at(org_app, clock, "2026-03-03T17:31")
    [body] = org_app.read(lambda s: s.scalars(select(OutboxMessage.body).where(
        OutboxMessage.recipient == "qian@example.gov.cn",
        OutboxMessage.payload["kind"].as_string() == "chase_task",
    )).all())  # fmt: skip
    assert says in body and "- " not in body
