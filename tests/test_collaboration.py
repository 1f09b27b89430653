"""协办 and comments: a step asks another department for input, that request is chased
in the other department's own chain, and remarks on a case are kept (and erasable)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.assistance import AnswerAssist, RequestAssist
from engine.comments import AddComment
from engine.erasure import EraseCase
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.runtime import ClaimTask, CompleteTask, CorrelateMessage, StartInstance
from engine.store import OutboxMessage

from .helpers import open_tasks, timers, view
from .test_chase import fire_at, inbox
from .test_deploy import HEAD, deploy_bytes
from .test_sla import at, sla_process


@pytest.fixture
def asking(org_app, clock):
    """杨审核 holds 审核 (10 working days, plenty) from Fri 9 Oct 2026 10:00 and asks 法务
    (department head 周律师, whose superior is 赵主任) for input within 2 working days:
    Sat 10 Oct is a 调休 working day, so the request is due Mon 12 Oct 17:30."""
    clock.set(at("2026-10-09T10:00"))
    deploy_bytes(org_app, sla_process(limit="10 working days", warnings="",
                                      extra='caseclock:onDeadline="chase"'))  # fmt: skip
    instance = org_app.execute(StartInstance("sla", "BJ-A")).id
    task_id = open_tasks(org_app, instance)["t"]["id"]
    org_app.execute(ClaimTask(task_id, "yang"))
    request = org_app.execute(RequestAssist(task_id, "yang", "法务", "合同条款是否合规？"))
    return instance, task_id, request.id


def mail_to(app, recipient):
    return app.read(lambda s: s.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.recipient == recipient, OutboxMessage.channel == "inapp")).all())  # fmt: skip


def test_a_late_request_is_chased_in_the_other_departments_chain(org_app, clock, asking):
    instance, task_id, request_id = asking
    [pooled] = inbox(org_app, "zhou")
    assert (pooled["id"], pooled["kind"], pooled["assists"]) == (request_id, "assist", task_id)
    assert pooled["due_at"] == "2026-10-12T17:30:00+08:00"
    assert mail_to(org_app, "zhou") == ["【协办】审核（BJ-A）请求协助"]

    fire_at(org_app, clock, "2026-10-12T17:31")
    [breach] = [e for e in view(org_app, instance)["history"] if e["command"] == "ledger_breach"]
    assert breach["task_id"] == request_id
    assert breach["payload"]["responsible"] == "zhou"  # unclaimed: the department head
    [chase] = [t for t in inbox(org_app, "zhao") if t["kind"] == "chase"]
    assert chase["chase_of"] == request_id
    assert [t for t in inbox(org_app, "liu") if t["kind"] == "chase"] == []  # not 审核's chain

    org_app.execute(ClaimTask(request_id, "zhou"))
    org_app.execute(AnswerAssist(request_id, "zhou", "第5条需修改"))
    assert [t for t in inbox(org_app, "zhao") if t["kind"] == "chase"] == []
    assert mail_to(org_app, "yang") == ["【协办答复】审核（BJ-A）"]
    [final] = [e for e in view(org_app, instance)["history"] if e["command"] == "ledger_final"]
    assert final["task_id"] == request_id
    [answered] = [e for e in view(org_app, instance)["history"]
                  if e["command"] == "assist_answer"]  # fmt: skip
    assert answered["private"] == {"answer": "第5条需修改"}


def test_completing_the_asking_step_withdraws_the_request(org_app, asking):
    instance, task_id, request_id = asking
    org_app.execute(CompleteTask(task_id, "yang", {}))
    assert inbox(org_app, "zhou") == []
    [withdrawn] = [e for e in view(org_app, instance)["history"]
                   if e["command"] == "assist_withdrawn"]  # fmt: skip
    assert withdrawn["task_id"] == request_id
    assert timers(org_app, instance) == {}  # the request's clock stopped too


def test_a_step_cancelled_by_a_boundary_event_withdraws_its_request(org_app, clock):
    """The applicant withdraws the case (a message on 审核's interrupting boundary): 审核
    is cancelled without a CompleteTask, and 法务's request goes with it."""
    clock.set(at("2026-10-09T10:00"))
    deploy_bytes(org_app, (
        f'{HEAD}<bpmn:process id="w" isExecutable="true"><bpmn:startEvent id="s"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:userTask id="t" name="审核" camunda:candidateGroups="reviewers"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>'
        '<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:messageEventDefinition '
        'messageRef="m"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="f3" sourceRef="b" '
        'targetRef="x"/><bpmn:endEvent id="x"/></bpmn:process>'
        '<bpmn:message id="m" name="withdrawn"/></bpmn:definitions>'
    ).encode())  # fmt: skip
    instance = org_app.execute(StartInstance("w", "BJ-W")).id
    task_id = open_tasks(org_app, instance)["t"]["id"]
    org_app.execute(ClaimTask(task_id, "yang"))
    request = org_app.execute(RequestAssist(task_id, "yang", "法务", "合同条款是否合规？"))
    assert [t["id"] for t in inbox(org_app, "zhou")] == [request.id]

    org_app.execute(CorrelateMessage("withdrawn", "BJ-W"))
    assert inbox(org_app, "zhou") == []
    [withdrawn] = [e for e in view(org_app, instance)["history"]
                   if e["command"] == "assist_withdrawn"]  # fmt: skip
    assert withdrawn["task_id"] == request.id
    assert withdrawn["payload"] == {"assists": task_id}


def test_bad_requests_and_answers_are_refused(org_app, asking):
    _, task_id, request_id = asking
    with pytest.raises(Forbidden, match="only the holder"):
        org_app.execute(RequestAssist(task_id, "huang", "法务", "?"))
    with pytest.raises(NotFound, match="unknown group 'nobody'"):
        org_app.execute(RequestAssist(task_id, "yang", "nobody", "?"))
    # The step's own group has the step already: 协办 is another department's.
    with pytest.raises(ValidationError, match="already offered to 'reviewers'") as own:
        org_app.execute(RequestAssist(task_id, "yang", "reviewers", "?"))
    assert list(own.value.details["fields"]) == ["group"]
    # Answering what is not a 协办 request says what it is not.
    with pytest.raises(Conflict, match=f"task {task_id} is not a 协办 request"):
        org_app.execute(AnswerAssist(task_id, "yang", "ok"))
    with pytest.raises(ValidationError, match="what input"):
        RequestAssist(task_id, "yang", "法务", "  ")
    with pytest.raises(Forbidden, match="claim 协办 request"):
        org_app.execute(AnswerAssist(request_id, "zhou", "ok"))
    with pytest.raises(Conflict, match="is a 协办 request"):
        org_app.execute(CompleteTask(request_id, "zhou", {}, claim=True))
    org_app.execute(ClaimTask(request_id, "zhou"))
    with pytest.raises(Forbidden, match="zhou's, not yang's"):
        org_app.execute(AnswerAssist(request_id, "yang", "ok"))
    with pytest.raises(Conflict, match="is a 协办 request: answer it"):
        org_app.execute(RequestAssist(request_id, "zhou", "reviewers", "?"))
    assert len(inbox(org_app, "zhou")) == 1  # still open, nothing half-done


def test_comments_are_kept_and_erased_with_the_case(org_app, asking):
    instance, task_id, _ = asking
    org_app.execute(AddComment(instance, "liu", "请优先办理", task_id))
    [shown] = view(org_app, instance)["comments"]
    assert (shown["author"], shown["text"], shown["task_id"]) == ("liu", "请优先办理", task_id)
    with pytest.raises(ValidationError) as empty:
        AddComment(instance, "liu", "  ")
    assert empty.value.details == {"fields": {"text": "empty"}}
    with pytest.raises(NotFound, match="has no task 999"):
        org_app.execute(AddComment(instance, "liu", "x", 999))
    with pytest.raises(NotFound, match="unknown user"):
        org_app.execute(AddComment(instance, "nobody", "x"))
    org_app.execute(CompleteTask(task_id, "yang", {}))
    org_app.execute(EraseCase(instance))
    assert [c["text"] for c in view(org_app, instance)["comments"]] == ["(erased)"]


def test_cli(cli, org_app, asking):
    instance, task_id, request_id = asking
    assert f"comment 1 on case {instance}" in cli("comment", str(instance), "看过了",
                                                  "--user", "liu").output  # fmt: skip
    out = cli("assist", "request", str(task_id), "--user", "yang", "--group", "approvers",
              "--question", "请领导把关", "--limit", "1 working day").output  # fmt: skip
    assert out.startswith(f"协办 request {request_id + 1} to approvers, due ")  # CLI: real clock
    cli("claim", str(request_id), "--user", "zhou")
    assert (
        f"协办 request {request_id} answered"
        in cli("assist", "answer", str(request_id), "--user", "zhou", "--answer", "可以").output
    )
    bad = cli("assist", "answer", str(request_id), "--user", "zhou", "--answer", "x", ok=False)
    assert "error: task" in bad.output and "already completed" in bad.output
