"""One BPMN feature per test diagram, driven end to end through CaseClock's commands.

Every test deploys a diagram from ``tests/diagrams``, moves instances only with the
engine's commands (start, claim, complete, message, the timer worker) and asserts what a
user would see through the read views: open tasks, candidate groups and assignees,
waiting timers with their due times, message subscriptions, case data, audit history.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import queries
from engine.app import CaseClock
from engine.boundary_events import RearmingBoundaryEvent
from engine.clock import FrozenClock
from engine.definitions import DeployDiagrams
from engine.errors import Conflict, DeploymentError, Forbidden, NotFound, ValidationError
from engine.runtime import ClaimTask, CompleteTask, CorrelateMessage, StartInstance
from engine.scripting import Sandbox
from engine.serialization import WorkflowSerializer
from engine.services import Settings
from engine.store import Definition, Timer
from timers.worker import Worker

from .conftest import DIAGRAMS, SHANGHAI, deploy

# --- helpers ---------------------------------------------------------------------------------


def start(app: CaseClock, key: str, **kwargs: Any) -> int:
    return app.execute(StartInstance(key, **kwargs), actor="tester").id


def view(app: CaseClock, instance_id: int) -> dict[str, Any]:
    return app.read(lambda s: queries.instance(s, instance_id, app.services.timezone))


def open_tasks(app: CaseClock, instance_id: int) -> dict[str, dict[str, Any]]:
    return {t["element_id"]: t for t in view(app, instance_id)["open_tasks"]}


def waiting_timers(app: CaseClock, instance_id: int) -> dict[str, dict[str, Any]]:
    return {t["element_id"]: t for t in view(app, instance_id)["waiting_timers"]}


def inbox(app: CaseClock, user: str) -> list[dict[str, Any]]:
    return app.read(
        lambda s: queries.tasks(s, app.services.timezone, app.services.org.snapshot(s), user=user)
    )


def claim_and_complete(
    app: CaseClock, task_id: int, user: str, data: dict[str, Any] | None = None
) -> None:
    app.execute(ClaimTask(task_id, user), actor=user)
    app.execute(CompleteTask(task_id, user, data), actor=user)


def do(
    app: CaseClock,
    instance_id: int,
    element_id: str,
    user: str = "li",
    data: dict[str, Any] | None = None,
) -> None:
    """Claim and complete the open task ``element_id`` of an instance."""
    tasks = open_tasks(app, instance_id)
    assert element_id in tasks, f"{element_id} is not open; open: {sorted(tasks)}"
    claim_and_complete(app, tasks[element_id]["id"], user, data)


def timer_rows(app: CaseClock, instance_id: int) -> dict[str, tuple[str, datetime]]:
    def query(session: Any) -> dict[str, tuple[str, datetime]]:
        rows = session.scalars(select(Timer).where(Timer.instance_id == instance_id))
        return {row.element_id: (row.status, row.due_at) for row in rows}

    return app.read(query)


def local_iso(year: int, month: int, day: int, hour: int, minute: int = 0) -> str:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).isoformat()


# --- parallel gateway --------------------------------------------------------------------------


def test_parallel_opens_both_branches_and_join_waits_for_both(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "parallel.bpmn")
    iid = start(org_app, "parallel")

    tasks = open_tasks(org_app, iid)
    assert set(tasks) == {"Task_a", "Task_b"}
    assert tasks["Task_a"]["name"] == "会签A"
    assert tasks["Task_b"]["name"] == "会签B"
    assert tasks["Task_a"]["candidate_groups"] == ["reviewers"]
    assert tasks["Task_b"]["candidate_groups"] == ["reviewers"]
    assert tasks["Task_a"]["assignee"] is None
    # Both are in every reviewer's inbox, in nobody else's.
    assert {t["element_id"] for t in inbox(org_app, "yang")} == {"Task_a", "Task_b"}
    assert inbox(org_app, "li") == []
    with pytest.raises(Forbidden):
        org_app.execute(ClaimTask(tasks["Task_a"]["id"], "li"), actor="li")

    do(org_app, iid, "Task_a", user="yang")
    assert set(open_tasks(org_app, iid)) == {"Task_b"}, "the join must wait for Task_b"
    assert view(org_app, iid)["state"] == "running"

    do(org_app, iid, "Task_b", user="huang")
    tasks = open_tasks(org_app, iid)
    assert set(tasks) == {"Task_c"}
    assert tasks["Task_c"]["name"] == "汇总"
    assert tasks["Task_c"]["candidate_groups"] == []

    do(org_app, iid, "Task_c", user="liu")
    result = view(org_app, iid)
    assert result["state"] == "completed"
    assert result["open_tasks"] == []
    assert result["ended_at"] == local_iso(2026, 3, 2, 9)
    completed = [h for h in result["history"] if h["command"] == "complete"]
    assert [h["actor"] for h in completed] == ["yang", "huang", "liu"]


# --- inclusive gateway -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("want_a", "want_b", "expected"),
    [
        (True, True, {"Task_a", "Task_b"}),
        (True, False, {"Task_a"}),
        (False, True, {"Task_b"}),
        (False, False, {"Task_none"}),
    ],
)
def test_inclusive_takes_the_branches_whose_conditions_hold(
    org_app: CaseClock, want_a: bool, want_b: bool, expected: set[str]
) -> None:
    deploy(org_app, DIAGRAMS / "inclusive.bpmn")
    iid = start(org_app, "inclusive")
    assert set(open_tasks(org_app, iid)) == {"Task_choose"}

    do(org_app, iid, "Task_choose", data={"want_a": want_a, "want_b": want_b})
    assert set(open_tasks(org_app, iid)) == expected

    remaining = sorted(expected)
    for element_id in remaining[:-1]:
        do(org_app, iid, element_id)
        assert view(org_app, iid)["state"] == "running", "the inclusive join must wait"
    do(org_app, iid, remaining[-1])
    result = view(org_app, iid)
    assert result["state"] == "completed"
    assert result["data"]["want_a"] is want_a
    assert result["data"]["want_b"] is want_b


def test_inclusive_form_data_is_validated_as_declared(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "inclusive.bpmn")
    iid = start(org_app, "inclusive")
    task_id = open_tasks(org_app, iid)["Task_choose"]["id"]
    org_app.execute(ClaimTask(task_id, "li"), actor="li")
    with pytest.raises(ValidationError) as excinfo:
        org_app.execute(CompleteTask(task_id, "li", {"want_a": "maybe"}), actor="li")
    assert "want_a" in excinfo.value.details["fields"]
    # Form words are converted: "是" is true, "否" is false.
    org_app.execute(CompleteTask(task_id, "li", {"want_a": "是", "want_b": "否"}), actor="li")
    assert set(open_tasks(org_app, iid)) == {"Task_a"}


# --- embedded subprocess with an error boundary ------------------------------------------------


def test_subprocess_normal_end_continues_to_task_after(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "subprocess.bpmn")
    iid = start(org_app, "subprocess")
    tasks = open_tasks(org_app, iid)
    assert set(tasks) == {"Task_inner"}
    assert tasks["Task_inner"]["name"] == "内部办理"

    do(org_app, iid, "Task_inner", data={"inner_ok": True})
    assert set(open_tasks(org_app, iid)) == {"Task_after"}

    do(org_app, iid, "Task_after")
    result = view(org_app, iid)
    assert result["state"] == "completed"
    assert result["data"]["inner_ok"] is True


def test_subprocess_error_end_is_caught_by_the_boundary(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "subprocess.bpmn")
    iid = start(org_app, "subprocess")

    do(org_app, iid, "Task_inner", data={"inner_ok": False})
    tasks = open_tasks(org_app, iid)
    assert set(tasks) == {"Task_handle_error"}
    assert tasks["Task_handle_error"]["name"] == "处理驳回"

    do(org_app, iid, "Task_handle_error")
    assert view(org_app, iid)["state"] == "completed"


# --- call activity -----------------------------------------------------------------------------


def _run_call_parent(app: CaseClock) -> None:
    iid = start(app, "call_parent", business_key="CASE-7")
    tasks = open_tasks(app, iid)
    assert set(tasks) == {"Task_child"}, "the child's task is listed under the parent instance"
    assert tasks["Task_child"]["name"] == "子流程任务"
    listed = app.read(
        lambda s: queries.tasks(s, app.services.timezone, app.services.org.snapshot(s))
    )
    assert [(t["element_id"], t["instance_id"]) for t in listed] == [("Task_child", iid)]

    do(app, iid, "Task_child", data={"child_note": "done"})
    tasks = open_tasks(app, iid)
    assert set(tasks) == {"Task_parent_after"}

    do(app, iid, "Task_parent_after")
    result = view(app, iid)
    assert result["state"] == "completed"
    assert result["business_key"] == "CASE-7"
    assert result["data"]["child_note"] == "done"


def test_call_activity_resolves_a_child_deployed_earlier(org_app: CaseClock) -> None:
    [child] = deploy(org_app, DIAGRAMS / "call_child.bpmn")
    [parent] = deploy(org_app, DIAGRAMS / "call_activity.bpmn")
    assert (child.key, child.version) == ("call_child", 1)
    assert (parent.key, parent.version, parent.created) == ("call_parent", 1, True)
    _run_call_parent(org_app)


def test_call_activity_with_child_in_the_same_deploy(org_app: CaseClock) -> None:
    results = deploy(org_app, DIAGRAMS / "call_activity.bpmn", DIAGRAMS / "call_child.bpmn")
    assert {(r.key, r.version) for r in results} == {("call_parent", 1), ("call_child", 1)}
    _run_call_parent(org_app)


def test_call_activity_without_its_child_is_refused(org_app: CaseClock) -> None:
    with pytest.raises(DeploymentError) as excinfo:
        deploy(org_app, DIAGRAMS / "call_activity.bpmn")
    assert "call_child" in excinfo.value.message
    assert org_app.read(queries.definitions) == []


def test_call_activity_without_its_child_names_file_and_element(org_app: CaseClock) -> None:
    with pytest.raises(DeploymentError) as excinfo:
        deploy(org_app, DIAGRAMS / "call_activity.bpmn")
    problems = excinfo.value.details.get("problems")
    assert problems, "DeploymentError must list its problems in details['problems']"
    assert problems[0]["file"] == "call_activity.bpmn"
    assert problems[0]["element_id"] == "Call_child"


# --- messages ----------------------------------------------------------------------------------


def test_message_start_creates_an_instance_with_the_business_key(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "messages.bpmn")
    with pytest.raises(ValidationError) as excinfo:
        start(org_app, "messages")
    assert "order_placed" in excinfo.value.message

    ids = org_app.execute(CorrelateMessage("order_placed", "ORD-1", {"quantity": 3}), actor="shop")
    assert len(ids) == 1
    result = view(org_app, ids[0])
    assert result["business_key"] == "ORD-1"
    assert result["definition"] == "messages:1"
    assert result["state"] == "running"
    assert result["data"]["quantity"] == 3
    assert [t["element_id"] for t in result["open_tasks"]] == ["Task_pack"]
    assert result["waiting_messages"] == [
        {"element_id": "Boundary_order_changed", "message": "order_changed"}
    ]
    # A second order is a second instance.
    [other] = org_app.execute(CorrelateMessage("order_placed", "ORD-2"), actor="shop")
    assert other != ids[0]
    assert view(org_app, other)["business_key"] == "ORD-2"


def test_messages_boundary_and_catch_by_business_key(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "messages.bpmn")
    [iid] = org_app.execute(CorrelateMessage("order_placed", "ORD-1"), actor="shop")
    [other] = org_app.execute(CorrelateMessage("order_placed", "ORD-2"), actor="shop")

    # Non-interrupting boundary: a second task opens, Task_pack stays open.
    assert org_app.execute(CorrelateMessage("order_changed", "ORD-1"), actor="shop") == [iid]
    tasks = open_tasks(org_app, iid)
    assert set(tasks) == {"Task_pack", "Task_review_change"}
    assert tasks["Task_review_change"]["name"] == "审核变更"
    assert set(open_tasks(org_app, other)) == {"Task_pack"}, "only ORD-1 got the message"

    do(org_app, iid, "Task_pack")
    result = view(org_app, iid)
    assert {t["element_id"] for t in result["open_tasks"]} == {"Task_review_change"}
    assert result["waiting_messages"] == [
        {"element_id": "Catch_order_paid", "message": "order_paid"}
    ]
    # The boundary left with Task_pack: order_changed no longer reaches ORD-1.
    with pytest.raises(NotFound):
        org_app.execute(CorrelateMessage("order_changed", "ORD-1"), actor="shop")
    # A message for an unknown business key reaches nobody.
    with pytest.raises(NotFound):
        org_app.execute(CorrelateMessage("order_paid", "ORD-404"), actor="shop")

    delivered = org_app.execute(
        CorrelateMessage("order_paid", "ORD-1", {"quantity": 3, "price": 2.5}), actor="bank"
    )
    assert delivered == [iid]
    result = view(org_app, iid)
    assert result["data"]["total"] == 7.5
    assert result["waiting_messages"] == []
    assert result["state"] == "running", "Task_review_change is still open"

    do(org_app, iid, "Task_review_change")
    result = view(org_app, iid)
    assert result["state"] == "completed"
    assert result["data"]["total"] == 7.5
    assert [h["command"] for h in result["history"] if h["command"] == "message"] == [
        "message",
        "message",
    ]
    assert view(org_app, other)["state"] == "running"


BOUNDARY_CHANGED = {"element_id": "Boundary_order_changed", "message": "order_changed"}


def review_tasks(app: CaseClock, instance_id: int) -> list[int]:
    return [
        t["id"]
        for t in view(app, instance_id)["open_tasks"]
        if t["element_id"] == "Task_review_change"
    ]


def test_non_interrupting_message_boundary_fires_again(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "messages.bpmn")
    [iid] = org_app.execute(CorrelateMessage("order_placed", "ORD-1"), actor="shop")
    for fired in (1, 2, 3):
        assert org_app.execute(CorrelateMessage("order_changed", "ORD-1"), actor="shop") == [iid]
        result = view(org_app, iid)
        names = sorted(t["element_id"] for t in result["open_tasks"])
        assert names == ["Task_pack"] + ["Task_review_change"] * fired
        # Re-armed, listed once: not once per copy that already fired.
        assert result["waiting_messages"] == [BOUNDARY_CHANGED], (
            "Task_pack is still open, so its non-interrupting boundary still listens"
        )
    assert len(set(review_tasks(org_app, iid))) == 3


def test_rearmed_boundary_leaves_with_its_activity(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "messages.bpmn")
    [iid] = org_app.execute(CorrelateMessage("order_placed", "ORD-1"), actor="shop")
    for _ in range(2):
        org_app.execute(CorrelateMessage("order_changed", "ORD-1"), actor="shop")

    do(org_app, iid, "Task_pack")
    before = view(org_app, iid)
    assert before["waiting_messages"] == [
        {"element_id": "Catch_order_paid", "message": "order_paid"}
    ]
    assert len(review_tasks(org_app, iid)) == 2
    # As before re-arming: a message nobody waits for is refused and changes nothing.
    with pytest.raises(NotFound):
        org_app.execute(CorrelateMessage("order_changed", "ORD-1", {"x": 1}), actor="shop")
    after = view(org_app, iid)
    assert after["open_tasks"] == before["open_tasks"]
    assert after["data"] == before["data"]
    assert after["history"] == before["history"]

    org_app.execute(
        CorrelateMessage("order_paid", "ORD-1", {"quantity": 2, "price": 4}), actor="bank"
    )
    for task_id in review_tasks(org_app, iid):
        claim_and_complete(org_app, task_id, "li")
    result = view(org_app, iid)
    assert result["state"] == "completed"
    assert result["open_tasks"] == [] and result["waiting_messages"] == []
    assert result["data"]["total"] == 8
    commands = [h["command"] for h in result["history"]]
    assert commands.count("message") == 3, "order_changed twice, order_paid; the refused one not"


def test_rearmed_boundary_survives_a_restart(
    org_app: CaseClock, database_url: str, clock: FrozenClock, sandbox: Sandbox
) -> None:
    deploy(org_app, DIAGRAMS / "messages.bpmn")
    [iid] = org_app.execute(CorrelateMessage("order_placed", "ORD-1"), actor="shop")
    org_app.execute(CorrelateMessage("order_changed", "ORD-1"), actor="shop")

    restarted = CaseClock(Settings(database_url=database_url), clock=clock, sandbox=sandbox)
    try:
        assert view(restarted, iid)["waiting_messages"] == [BOUNDARY_CHANGED]
        assert restarted.execute(CorrelateMessage("order_changed", "ORD-1"), actor="shop") == [iid]
        assert len(review_tasks(restarted, iid)) == 2
        assert view(restarted, iid)["waiting_messages"] == [BOUNDARY_CHANGED]
    finally:
        restarted.close()
    # And back on the first engine, whose cached workflow is now stale.
    org_app.execute(CorrelateMessage("order_changed", "ORD-1"), actor="shop")
    assert len(review_tasks(org_app, iid)) == 3


def test_boundary_specs_keep_the_typename_stored_specs_use(org_app: CaseClock) -> None:
    """Versions deployed before re-arming stored ``BoundaryEvent``; they load as re-arming."""
    deploy(org_app, DIAGRAMS / "messages.bpmn")
    serializer = WorkflowSerializer()
    spec_json = org_app.read(
        lambda s: s.scalars(select(Definition.spec_json).where(Definition.key == "messages")).one()
    )
    stored = json.loads(spec_json)["spec"]["task_specs"]["Boundary_order_changed"]
    assert stored["typename"] == "BoundaryEvent"
    spec, _ = serializer.spec_from_json(spec_json)
    assert isinstance(spec.task_specs["Boundary_order_changed"], RearmingBoundaryEvent)


def test_interrupting_message_boundary_still_cancels_its_activity(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "message_boundaries.bpmn")
    [iid] = org_app.execute(CorrelateMessage("claim_filed", "CL-1"), actor="portal")
    assert sorted(m["message"] for m in view(org_app, iid)["waiting_messages"]) == [
        "claim_withdrawn",
        "note_added",
    ]
    for _ in range(2):
        org_app.execute(CorrelateMessage("note_added", "CL-1"), actor="portal")
    names = sorted(t["element_id"] for t in view(org_app, iid)["open_tasks"])
    assert names == ["Task_assess", "Task_read_note", "Task_read_note"]

    org_app.execute(CorrelateMessage("claim_withdrawn", "CL-1"), actor="portal")
    result = view(org_app, iid)
    assert [t["element_id"] for t in result["open_tasks"]] == ["Task_read_note"] * 2
    assert result["waiting_messages"] == [], "the interrupting boundary disarmed the other"
    for message in ("claim_withdrawn", "note_added"):
        with pytest.raises(NotFound):
            org_app.execute(CorrelateMessage(message, "CL-1"), actor="portal")
    for task in result["open_tasks"]:
        claim_and_complete(org_app, task["id"], "li")
    assert view(org_app, iid)["state"] == "completed"


# --- escalation --------------------------------------------------------------------------------


def test_escalation_boundary_opens_task_while_inside_continues(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "escalation.bpmn")
    iid = start(org_app, "escalation")
    tasks = open_tasks(org_app, iid)
    assert set(tasks) == {"Task_inside", "Task_escalated"}
    assert tasks["Task_inside"]["name"] == "继续办理"
    assert tasks["Task_escalated"]["name"] == "升级处理"

    do(org_app, iid, "Task_inside")
    assert set(open_tasks(org_app, iid)) == {"Task_escalated"}
    assert view(org_app, iid)["state"] == "running"

    do(org_app, iid, "Task_escalated")
    assert view(org_app, iid)["state"] == "completed"


def test_escalation_handled_first_then_inside(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "escalation.bpmn")
    iid = start(org_app, "escalation")
    do(org_app, iid, "Task_escalated")
    assert set(open_tasks(org_app, iid)) == {"Task_inside"}
    assert view(org_app, iid)["state"] == "running"
    do(org_app, iid, "Task_inside")
    assert view(org_app, iid)["state"] == "completed"


def test_non_interrupting_signal_boundary_fires_for_every_signal(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "rearming_events.bpmn")
    iid = start(org_app, "rearming_signal")
    assert set(open_tasks(org_app, iid)) == {"Task_work", "Task_first"}

    do(org_app, iid, "Task_first")
    assert sorted(t["element_id"] for t in view(org_app, iid)["open_tasks"]) == [
        "Task_second", "Task_signalled", "Task_work",
    ]  # fmt: skip
    do(org_app, iid, "Task_second")
    names = sorted(t["element_id"] for t in view(org_app, iid)["open_tasks"])
    assert names == ["Task_signalled", "Task_signalled", "Task_work"], (
        "Task_work is still open, so its boundary catches the second signal too"
    )

    do(org_app, iid, "Task_work")
    for task in view(org_app, iid)["open_tasks"]:
        claim_and_complete(org_app, task["id"], "li")
    assert view(org_app, iid)["state"] == "completed"


def test_non_interrupting_escalation_boundary_fires_for_every_throw(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "rearming_events.bpmn")
    iid = start(org_app, "rearming_escalation")
    assert set(open_tasks(org_app, iid)) == {"Task_one", "Task_escalated"}

    do(org_app, iid, "Task_one")
    names = sorted(t["element_id"] for t in view(org_app, iid)["open_tasks"])
    assert names == ["Task_escalated", "Task_escalated", "Task_two"]

    # The subprocess ends: its boundary stops listening; the escalated work goes on.
    do(org_app, iid, "Task_two")
    result = view(org_app, iid)
    assert sorted(t["element_id"] for t in result["open_tasks"]) == ["Task_escalated"] * 2
    assert result["state"] == "running"
    for task in result["open_tasks"]:
        claim_and_complete(org_app, task["id"], "li")
    assert view(org_app, iid)["state"] == "completed"


# --- assignee and candidate-group expressions ---------------------------------------------------


def test_assignee_and_candidate_groups_from_variables(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "assignee.bpmn")
    iid = start(org_app, "assignee", data={"owner": "chen", "team": "reviewers, approvers"})

    tasks = open_tasks(org_app, iid)
    assert set(tasks) == {"Task_owned"}
    assert tasks["Task_owned"]["assignee"] == "chen"
    assert tasks["Task_owned"]["name"] == "本人办理"
    assert [t["element_id"] for t in inbox(org_app, "chen")] == ["Task_owned"]
    assert inbox(org_app, "li") == [], "an assigned task is not in the pool"
    with pytest.raises(Forbidden):
        org_app.execute(CompleteTask(tasks["Task_owned"]["id"], "li"), actor="li")
    org_app.execute(CompleteTask(tasks["Task_owned"]["id"], "chen"), actor="chen")

    tasks = open_tasks(org_app, iid)
    assert set(tasks) == {"Task_grouped"}
    assert tasks["Task_grouped"]["assignee"] is None
    assert sorted(tasks["Task_grouped"]["candidate_groups"]) == ["approvers", "reviewers"]
    assert [t["element_id"] for t in inbox(org_app, "yang")] == ["Task_grouped"]
    assert [t["element_id"] for t in inbox(org_app, "zhao")] == ["Task_grouped"]
    assert inbox(org_app, "chen") == []

    do(org_app, iid, "Task_grouped", user="qian")
    assert view(org_app, iid)["state"] == "completed"


def test_candidate_group_from_lane_name(org_app: CaseClock) -> None:
    """A lane named like a group (by key or by display name) makes its tasks that group's."""
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="Definitions_lanes" targetNamespace="http://caseclock.dev/bpmn">
  <bpmn:process id="lanes" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_window" name="受理窗口">
        <bpmn:flowNodeRef>Start_lanes</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_receive</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_review" name="reviewers">
        <bpmn:flowNodeRef>Task_review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_lanes</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_lanes" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start_lanes" targetRef="Task_receive" />
    <bpmn:userTask id="Task_receive" name="受理" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_receive" targetRef="Task_review" />
    <bpmn:userTask id="Task_review" name="审核" />
    <bpmn:sequenceFlow id="F3" sourceRef="Task_review" targetRef="End_lanes" />
    <bpmn:endEvent id="End_lanes" />
  </bpmn:process>
</bpmn:definitions>
"""
    org_app.execute(DeployDiagrams([("lanes.bpmn", xml.encode())]), actor="tester")
    iid = start(org_app, "lanes")
    tasks = open_tasks(org_app, iid)
    assert tasks["Task_receive"]["candidate_groups"] == ["reception"]
    with pytest.raises(Forbidden):
        org_app.execute(ClaimTask(tasks["Task_receive"]["id"], "yang"), actor="yang")
    do(org_app, iid, "Task_receive", user="wang")
    tasks = open_tasks(org_app, iid)
    assert tasks["Task_review"]["candidate_groups"] == ["reviewers"]
    do(org_app, iid, "Task_review", user="huang")
    assert view(org_app, iid)["state"] == "completed"


RESERVED_ID_XML = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="Definitions_reserved" targetNamespace="http://caseclock.dev/bpmn">
  <bpmn:process id="reserved" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_one" />
    <bpmn:userTask id="Task_one" name="办理" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_one" targetRef="Finish" />
    <bpmn:endEvent id="Finish" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_start_event_with_id_start_is_refused_or_works(org_app: CaseClock) -> None:
    try:
        org_app.execute(
            DeployDiagrams([("reserved.bpmn", RESERVED_ID_XML.encode())]), actor="tester"
        )
    except DeploymentError as exc:
        assert any(p["element_id"] == "Start" for p in exc.details["problems"])
        return
    iid = start(org_app, "reserved")
    assert set(open_tasks(org_app, iid)) == {"Task_one"}


# --- business rule task (DMN) ------------------------------------------------------------------

GRADES = [
    (0, "正常"),
    (1, "关注"),
    (90, "关注"),
    (91, "次级"),
    (270, "次级"),
    (271, "可疑"),
    (360, "可疑"),
    (361, "损失"),
    (1000, "损失"),
]


def test_business_rule_grades_days_overdue_at_exact_boundaries(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "business_rule.bpmn", DIAGRAMS / "risk_demo.dmn")
    graded = {}
    for days, _ in GRADES:
        iid = start(org_app, "business_rule", data={"days_overdue": days})
        tasks = open_tasks(org_app, iid)
        assert set(tasks) == {"Task_show"}
        do(org_app, iid, "Task_show")
        result = view(org_app, iid)
        assert result["state"] == "completed"
        graded[days] = result["data"]["grade"]
    assert graded == dict(GRADES)


def test_business_rule_without_its_decision_is_refused(org_app: CaseClock) -> None:
    with pytest.raises(DeploymentError) as excinfo:
        deploy(org_app, DIAGRAMS / "business_rule.bpmn")
    assert "risk_demo" in excinfo.value.message
    assert org_app.read(queries.definitions) == []


def test_business_rule_finds_a_decision_deployed_earlier(org_app: CaseClock) -> None:
    assert deploy(org_app, DIAGRAMS / "risk_demo.dmn") == []
    deploy(org_app, DIAGRAMS / "business_rule.bpmn")
    iid = start(org_app, "business_rule", data={"days_overdue": 91})
    assert set(open_tasks(org_app, iid)) == {"Task_show"}
    assert view(org_app, iid)["data"]["grade"] == "次级"


# --- timers ------------------------------------------------------------------------------------


def test_timers_are_projected_with_exact_due_times(org_app: CaseClock) -> None:
    deploy(org_app, DIAGRAMS / "timers.bpmn")
    iid = start(org_app, "timers")
    result = view(org_app, iid)
    assert [t["element_id"] for t in result["open_tasks"]] == ["Task_wait"]
    assert result["open_tasks"][0]["created_at"] == local_iso(2026, 3, 2, 9)
    timers = {t["element_id"]: t for t in result["waiting_timers"]}
    assert set(timers) == {"Timer_interrupt", "Timer_cycle"}
    assert timers["Timer_interrupt"]["due_at"] == local_iso(2026, 3, 2, 13)
    assert timers["Timer_interrupt"]["kind"] == "duration"
    assert timers["Timer_interrupt"]["interrupting"] is True
    assert timers["Timer_interrupt"]["attached_to"] == "Task_wait"
    assert timers["Timer_interrupt"]["name"] == "4小时超时"
    assert timers["Timer_cycle"]["due_at"] == local_iso(2026, 3, 2, 10)
    assert timers["Timer_cycle"]["kind"] == "cycle"
    assert timers["Timer_cycle"]["interrupting"] is False
    assert timers["Timer_cycle"]["attached_to"] == "Task_wait"


def test_interrupting_timer_fires_after_four_hours(org_app: CaseClock, clock: FrozenClock) -> None:
    deploy(org_app, DIAGRAMS / "timers.bpmn")
    iid = start(org_app, "timers")
    worker = Worker(org_app, owner="test-worker")
    wait_id = open_tasks(org_app, iid)["Task_wait"]["id"]

    # The R3/PT1H reminder fires once each hour, three times; Task_wait stays open.
    for hour in (10, 11, 12):
        clock.set(datetime(2026, 3, 2, hour, 0, tzinfo=SHANGHAI))
        assert worker.run_once().fired == 1
        assert set(open_tasks(org_app, iid)) == {"Task_wait"}
        timers = waiting_timers(org_app, iid)
        if hour < 12:
            assert timers["Timer_cycle"]["due_at"] == local_iso(2026, 3, 2, hour + 1)
        else:
            assert "Timer_cycle" not in timers, "R3 means three reminders, no more"

    clock.set(datetime(2026, 3, 2, 12, 59, tzinfo=SHANGHAI))
    assert worker.run_once().fired == 0
    assert set(open_tasks(org_app, iid)) == {"Task_wait"}
    assert set(waiting_timers(org_app, iid)) == {"Timer_interrupt"}

    clock.set(datetime(2026, 3, 2, 13, 1, tzinfo=SHANGHAI))
    assert worker.run_once().fired == 1
    result = view(org_app, iid)
    assert [t["element_id"] for t in result["open_tasks"]] == ["Task_late"]
    assert result["open_tasks"][0]["name"] == "超时处理"
    assert result["waiting_timers"] == []
    status, due = timer_rows(org_app, iid)["Timer_interrupt"]
    assert status == "fired"
    assert due == datetime(2026, 3, 2, 13, 0, tzinfo=SHANGHAI)
    fired = [h for h in result["history"] if h["command"] == "timer_fired"]
    assert [h["payload"]["timer"] for h in fired] == [
        "Timer_cycle",
        "Timer_cycle",
        "Timer_cycle",
        "Timer_interrupt",
    ]
    assert fired[-1]["payload"]["late_seconds"] == 60
    with pytest.raises(Conflict, match="already cancelled"):
        org_app.execute(ClaimTask(wait_id, "li"), actor="li")

    # Nothing left to fire; Task_late finishes the instance.
    assert worker.run_once().fired == 0
    do(org_app, iid, "Task_late")
    assert view(org_app, iid)["state"] == "completed"


def test_interrupting_timer_jumped_to_directly(org_app: CaseClock, clock: FrozenClock) -> None:
    """A worker that was down for hours: no interrupt before 4 h, then it fires."""
    deploy(org_app, DIAGRAMS / "timers.bpmn")
    iid = start(org_app, "timers")
    worker = Worker(org_app, owner="late-worker")
    clock.advance(timedelta(hours=3, minutes=59))
    worker.run_once()
    assert set(open_tasks(org_app, iid)) == {"Task_wait"}
    assert "Timer_interrupt" in waiting_timers(org_app, iid)
    clock.advance(timedelta(minutes=2))
    worker.run_once()
    assert set(open_tasks(org_app, iid)) == {"Task_late"}
    assert timer_rows(org_app, iid)["Timer_interrupt"][0] == "fired"


def test_completing_the_task_cancels_its_timers_and_waits_for_date(
    org_app: CaseClock, clock: FrozenClock
) -> None:
    deploy(org_app, DIAGRAMS / "timers.bpmn")
    iid = start(org_app, "timers")
    clock.advance(timedelta(minutes=30))
    do(org_app, iid, "Task_wait")

    result = view(org_app, iid)
    assert result["open_tasks"] == []
    timers = {t["element_id"]: t for t in result["waiting_timers"]}
    assert set(timers) == {"Timer_date"}
    # 2030-01-01T09:00:00 without offset is read in Asia/Shanghai: 01:00 UTC.
    assert timers["Timer_date"]["due_at"] == "2030-01-01T09:00:00+08:00"
    assert timers["Timer_date"]["kind"] == "date"
    rows = timer_rows(org_app, iid)
    assert rows["Timer_date"] == ("waiting", datetime.fromisoformat("2030-01-01T01:00:00+00:00"))
    assert rows["Timer_interrupt"][0] == "cancelled"
    assert rows["Timer_cycle"][0] == "cancelled"

    worker = Worker(org_app, owner="test-worker")
    clock.set(datetime(2030, 1, 1, 8, 59, tzinfo=SHANGHAI))
    assert worker.run_once().fired == 0
    assert view(org_app, iid)["state"] == "running"
    clock.set(datetime(2030, 1, 1, 9, 0, tzinfo=SHANGHAI))
    assert worker.run_once().fired == 1
    result = view(org_app, iid)
    assert result["state"] == "completed"
    assert result["waiting_timers"] == []
    assert timer_rows(org_app, iid)["Timer_date"][0] == "fired"


# --- versions ----------------------------------------------------------------------------------


def test_instance_keeps_its_version_after_redeploy(org_app: CaseClock) -> None:
    original = (DIAGRAMS / "parallel.bpmn").read_bytes()
    [v1] = deploy(org_app, DIAGRAMS / "parallel.bpmn")
    assert (v1.key, v1.version, v1.created) == ("parallel", 1, True)
    old = start(org_app, "parallel")

    changed = original.replace('name="会签A"'.encode(), 'name="会签甲"'.encode())
    assert changed != original
    [v2] = org_app.execute(DeployDiagrams([("parallel.bpmn", changed)]), actor="tester")
    assert (v2.key, v2.version, v2.created) == ("parallel", 2, True)
    # The same bytes again create nothing new.
    [again] = org_app.execute(DeployDiagrams([("parallel.bpmn", changed)]), actor="tester")
    assert (again.version, again.created) == (2, False)

    new = start(org_app, "parallel")
    assert view(org_app, old)["definition"] == "parallel:1"
    assert view(org_app, new)["definition"] == "parallel:2"
    assert open_tasks(org_app, old)["Task_a"]["name"] == "会签A"
    assert open_tasks(org_app, new)["Task_a"]["name"] == "会签甲"

    listed = org_app.read(queries.definitions)
    assert [(d["key"], d["version"], d["running_instances"]) for d in listed] == [
        ("parallel", 1, 1),
        ("parallel", 2, 1),
    ]

    for element_id in ("Task_a", "Task_b", "Task_c"):
        do(org_app, old, element_id, user="yang")
    assert view(org_app, old)["state"] == "completed"
    assert view(org_app, old)["definition"] == "parallel:1"
    listed = org_app.read(queries.definitions)
    assert [(d["version"], d["running_instances"]) for d in listed] == [(1, 0), (2, 1)]
