"""Claim, unclaim, delegate, resolve, reassign, complete: Camunda Tasklist semantics."""

from __future__ import annotations

import pytest

from engine import queries
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.runtime import (
    ClaimTask,
    CompleteTask,
    DelegateTask,
    ReassignTask,
    ResolveTask,
    StartInstance,
    UnclaimTask,
    parse_data,
)

from .conftest import SHIPPED, deploy
from .helpers import open_tasks, view

RECEIVE = {"applicant_name": "张三", "matter": "许可", "documents_complete": True}


@pytest.fixture
def task_id(org_app):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    case = org_app.execute(StartInstance("case_handling", "BJ-9")).id
    return open_tasks(org_app, case)["Task_receive"]["id"]


def inbox(app, user=None, group=None):
    return app.read(
        lambda s: queries.tasks(s, app.services.timezone, app.services.org.snapshot(s), user, group)
    )


def test_group_task_is_in_every_candidate_inbox_until_claimed(org_app, task_id):
    assert [t["id"] for t in inbox(org_app, user="li")] == [task_id]
    assert [t["id"] for t in inbox(org_app, user="chen")] == [task_id]
    assert inbox(org_app, user="yang") == []
    assert [t["id"] for t in inbox(org_app, group="reception")] == [task_id]
    org_app.execute(ClaimTask(task_id, "li"))
    assert inbox(org_app, user="chen") == []
    assert inbox(org_app, user="li")[0]["assignee"] == "li"


def test_claim_is_idempotent_for_the_holder_and_a_conflict_for_others(org_app, task_id):
    org_app.execute(ClaimTask(task_id, "li"))
    org_app.execute(ClaimTask(task_id, "li"))  # no-op
    with pytest.raises(Conflict, match="already claimed by li"):
        org_app.execute(ClaimTask(task_id, "chen"))


def test_only_the_assignee_completes(org_app, task_id):
    with pytest.raises(Conflict, match="not claimed"):
        org_app.execute(CompleteTask(task_id, "li", RECEIVE))
    org_app.execute(ClaimTask(task_id, "li"))
    with pytest.raises(Forbidden, match="assigned to li"):
        org_app.execute(CompleteTask(task_id, "chen", RECEIVE))
    org_app.execute(CompleteTask(task_id, "li", RECEIVE))
    with pytest.raises(Conflict, match="already completed"):
        org_app.execute(CompleteTask(task_id, "li", RECEIVE))


def test_complete_with_claim_takes_a_group_task_in_one_command(org_app, task_id):
    with pytest.raises(Forbidden, match="not in a candidate group"):
        org_app.execute(CompleteTask(task_id, "yang", RECEIVE, claim=True))
    org_app.execute(CompleteTask(task_id, "chen", RECEIVE, claim=True))
    history = [(e["command"], e["payload"].get("user")) for e in view(org_app, 1)["history"]]
    assert history == [("start", None), ("claim", "chen"), ("complete", "chen")]
    assert "Task_review" in open_tasks(org_app, 1)


def test_unclaim_returns_the_task_to_the_pool(org_app, task_id):
    org_app.execute(ClaimTask(task_id, "li"))
    with pytest.raises(Forbidden):
        org_app.execute(UnclaimTask(task_id, "chen"))
    org_app.execute(UnclaimTask(task_id, "li"))
    assert [t["id"] for t in inbox(org_app, user="chen")] == [task_id]
    with pytest.raises(Conflict, match="not claimed"):
        org_app.execute(UnclaimTask(task_id, "li"))


def test_delegation_goes_back_to_the_owner(org_app, task_id):
    org_app.execute(ClaimTask(task_id, "li"))
    org_app.execute(DelegateTask(task_id, "li", "wang"))
    task = inbox(org_app, user="wang")[0]
    assert (task["assignee"], task["owner"], task["delegation_state"]) == ("wang", "li", "pending")
    with pytest.raises(Conflict, match="delegated"):
        org_app.execute(CompleteTask(task_id, "wang", RECEIVE))
    org_app.execute(ResolveTask(task_id, "wang", {"matter": "核对过"}))
    task = inbox(org_app, user="li")[0]
    assert (task["assignee"], task["delegation_state"]) == ("li", "resolved")
    org_app.execute(CompleteTask(task_id, "li", {**RECEIVE, "matter": "核对过"}))


def test_reassign_by_a_supervisor_and_back_to_the_pool(org_app, task_id):
    org_app.execute(ClaimTask(task_id, "li"))
    org_app.execute(ReassignTask(task_id, "chen"), actor="wang")
    assert inbox(org_app, user="chen")[0]["assignee"] == "chen"
    org_app.execute(ReassignTask(task_id, None), actor="wang")
    assert inbox(org_app, user="li")[0]["assignee"] is None
    history = [e["command"] for e in view(org_app, 1)["history"]]
    assert history == ["start", "claim", "reassign", "reassign"]


def test_unknown_users_and_tasks_are_clear_errors(org_app, task_id):
    with pytest.raises(NotFound, match="unknown user 'nobody'"):
        org_app.execute(ClaimTask(task_id, "nobody"))
    with pytest.raises(NotFound, match="no task 999"):
        org_app.execute(ClaimTask(999, "li"))
    with pytest.raises(NotFound, match="unknown user"):
        org_app.execute(DelegateTask(task_id, "li", "ghost"))


def test_a_task_is_not_delegated_to_its_own_assignee(org_app, task_id):
    org_app.execute(ClaimTask(task_id, "li"))
    with pytest.raises(ValidationError, match="is yours already") as refused:
        org_app.execute(DelegateTask(task_id, "li", "li"))
    assert refused.value.details["fields"] == {"to": refused.value.message}
    task = open_tasks(org_app, 1)["Task_receive"]
    assert (task["assignee"], task["delegation_state"]) == ("li", None)


def test_bad_form_data_is_refused_field_by_field(org_app, task_id):
    org_app.execute(ClaimTask(task_id, "li"))
    bad = {"applicant_name": "x" * 101, "documents_complete": "maybe", "colour": "red"}
    with pytest.raises(ValidationError) as info:
        org_app.execute(CompleteTask(task_id, "li", bad))
    fields = info.value.details["fields"]
    assert fields["applicant_name"] == "must be at most 100 characters"
    assert fields["documents_complete"] == "'maybe' is not true or false"
    assert fields["matter"] == "is required"
    assert fields["colour"].startswith("unknown field")
    assert open_tasks(org_app, 1)["Task_receive"]["assignee"] == "li"


@pytest.mark.parametrize(
    "text, message",
    [("{", "not valid JSON"), ("[1]", "must be a JSON object"), ('"x"', "must be a JSON object")],
)
def test_data_must_be_a_json_object(text, message):
    with pytest.raises(ValidationError, match=message):
        parse_data(text)
