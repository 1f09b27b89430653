"""A redeployed decision table reaches the processes that run it (issue 6).

Deploying a changed table makes a new version of every process whose latest version
runs one of its decisions, directly or through a called process, in the same
transaction: new instances decide by the new table, running ones keep their version.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.app import CaseClock
from engine.collection.daily import run_collection_day
from engine.definitions import DeployDiagrams, DeployedVersion
from engine.errors import DeploymentError
from engine.runtime import CompleteTask, StartInstance
from engine.store import AuditEvent, Definition, Deployment, DeploymentResource

from .collection.helpers import import_rows, row
from .conftest import SHIPPED, deploy
from .helpers import open_tasks, view
from .web.conftest import password_hashes, site  # noqa: F401 (fixtures)
from .web.test_designer import send

TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_level"
    name="审批层级" namespace="http://caseclock.dev/dmn">
  <decision id="approval_level" name="审批层级">
    <decisionTable id="DecisionTable_level" hitPolicy="UNIQUE">
      <input id="Input_amount" label="金额">
        <inputExpression id="InputExpression_amount" typeRef="integer"><text>amount</text>
        </inputExpression>
      </input>
      <output id="Output_level" label="层级" name="level" typeRef="string" />
      <rule id="Rule_clerk">
        <inputEntry id="Rule_clerk_amount"><text>&lt; 1000</text></inputEntry>
        <outputEntry id="Rule_clerk_level"><text>"clerk"</text></outputEntry>
      </rule>
      <rule id="Rule_manager">
        <inputEntry id="Rule_manager_amount"><text>&gt;= 1000</text></inputEntry>
        <outputEntry id="Rule_manager_level"><text>"manager"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""
# A stricter table: from 500 on, a manager decides.
STRICTER = TABLE.replace("1000", "500")
BOUNDARY = 500
_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_{key}"
    targetNamespace="http://caseclock.dev/bpmn">"""
# A user task first, so an instance can wait before its business rule task.
APPROVAL = (
    _HEAD.format(key="approval")
    + """
  <bpmn:process id="approval" name="审批" isExecutable="true">
    <bpmn:startEvent id="Start_approval" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_approval" targetRef="Task_prepare" />
    <bpmn:userTask id="Task_prepare" name="准备" camunda:assignee="li" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_prepare" targetRef="Rule_level" />
    <bpmn:businessRuleTask id="Rule_level" name="定层级" camunda:decisionRef="approval_level" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Rule_level" targetRef="End_approval" />
    <bpmn:endEvent id="End_approval" />
  </bpmn:process>
</bpmn:definitions>
"""
)
# Runs the decision only through the process it calls.
CALLER = (
    _HEAD.format(key="approval_caller")
    + """
  <bpmn:process id="approval_caller" name="调用审批" isExecutable="true">
    <bpmn:startEvent id="Start_caller" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_caller" targetRef="Call_approval" />
    <bpmn:callActivity id="Call_approval" calledElement="approval" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Call_approval" targetRef="End_caller" />
    <bpmn:endEvent id="End_caller" />
  </bpmn:process>
</bpmn:definitions>
"""
)
# Runs the decision inside an embedded subprocess.
NESTED = (
    _HEAD.format(key="nested")
    + """
  <bpmn:process id="nested" name="内嵌审批" isExecutable="true">
    <bpmn:startEvent id="Start_nested" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_nested" targetRef="Task_prepare" />
    <bpmn:userTask id="Task_prepare" name="准备" camunda:assignee="li" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_prepare" targetRef="Sub_level" />
    <bpmn:subProcess id="Sub_level">
      <bpmn:startEvent id="Start_sub" />
      <bpmn:sequenceFlow id="Flow_s1" sourceRef="Start_sub" targetRef="Rule_level" />
      <bpmn:businessRuleTask id="Rule_level" camunda:decisionRef="approval_level" />
      <bpmn:sequenceFlow id="Flow_s2" sourceRef="Rule_level" targetRef="End_sub" />
      <bpmn:endEvent id="End_sub" />
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Sub_level" targetRef="End_nested" />
    <bpmn:endEvent id="End_nested" />
  </bpmn:process>
</bpmn:definitions>
"""
)
# Runs no decision at all.
PLAIN = (
    _HEAD.format(key="plain")
    + """
  <bpmn:process id="plain" name="无决策" isExecutable="true">
    <bpmn:startEvent id="Start_plain" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_plain" targetRef="Task_plain" />
    <bpmn:userTask id="Task_plain" name="办理" camunda:assignee="li" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_plain" targetRef="End_plain" />
    <bpmn:endEvent id="End_plain" />
  </bpmn:process>
</bpmn:definitions>
"""
)


def deploy_text(app: CaseClock, *files: tuple[str, str]) -> list[DeployedVersion]:
    command = DeployDiagrams([(name, text.encode()) for name, text in files])
    return app.execute(command, actor="tester")


def start(app: CaseClock, key: str, amount: int) -> int:
    return app.execute(StartInstance(key, data={"amount": amount}), actor="li").id


def prepare(app: CaseClock, instance_id: int) -> dict[str, Any]:
    """Complete the user task before the rule task; return the instance as then."""
    task = open_tasks(app, instance_id)["Task_prepare"]
    app.execute(CompleteTask(task["id"], "li", claim=True), actor="li")
    return view(app, instance_id)


def counts(app: CaseClock) -> tuple[int, ...]:
    tables = (Definition, Deployment, DeploymentResource, AuditEvent)
    return app.read(lambda s: tuple(s.scalar(select(func.count()).select_from(t)) for t in tables))


def versions(app: CaseClock) -> dict[str, int]:
    query = select(Definition.key, func.max(Definition.version)).group_by(Definition.key)
    return app.read(lambda s: dict(s.execute(query).all()))


@pytest.fixture
def approvals(org_app: CaseClock) -> CaseClock:
    deploy_text(org_app, ("approval_level.dmn", TABLE), ("approval.bpmn", APPROVAL))
    deploy_text(org_app, ("approval_caller.bpmn", CALLER), ("plain.bpmn", PLAIN))
    return org_app


def test_new_instances_use_the_new_table_running_ones_keep_their_version(approvals):
    waiting = start(approvals, "approval", BOUNDARY)  # A: before its rule task
    results = deploy_text(approvals, ("approval_level.dmn", STRICTER))
    assert [(r.key, r.version, r.created, r.decisions) for r in results] == [
        ("approval", 2, True, ("approval_level",)),
        ("approval_caller", 2, True, ("approval_level",)),
    ]
    assert versions(approvals) == {"approval": 2, "approval_caller": 2, "plain": 1}
    fresh = start(approvals, "approval", BOUNDARY)  # B
    old, new = prepare(approvals, waiting), prepare(approvals, fresh)
    assert old["state"] == new["state"] == "completed"
    assert (old["definition"], old["data"]["level"]) == ("approval:1", "clerk")
    assert (new["definition"], new["data"]["level"]) == ("approval:2", "manager")
    # Below the boundary both tables agree.
    assert (
        prepare(approvals, start(approvals, "approval", BOUNDARY - 1))["data"]["level"] == "clerk"
    )


def test_a_called_process_brings_the_new_table_to_its_caller(approvals):
    deploy_text(approvals, ("approval_level.dmn", STRICTER))
    caller = start(approvals, "approval_caller", BOUNDARY)
    assert view(approvals, caller)["definition"] == "approval_caller:2"
    prepare(approvals, caller)  # the called process's user task is the caller's too
    result = view(approvals, caller)
    assert (result["state"], result["data"]["level"]) == ("completed", "manager")


def test_a_rule_task_in_an_embedded_subprocess_makes_a_dependent(approvals):
    deploy_text(approvals, ("nested.bpmn", NESTED))
    results = deploy_text(approvals, ("approval_level.dmn", STRICTER))
    assert [r.key for r in results] == ["approval", "approval_caller", "nested"]
    assert prepare(approvals, start(approvals, "nested", BOUNDARY))["data"]["level"] == "manager"


def test_the_new_deployment_keeps_the_files_it_rebuilt_from(approvals):
    deploy_text(approvals, ("approval_level.dmn", STRICTER))
    files = approvals.read(
        lambda s: {
            key: sorted(
                s.scalars(
                    select(DeploymentResource.name)
                    .join(Definition, Definition.deployment_id == DeploymentResource.deployment_id)
                    .where(Definition.key == key, Definition.version == 2)
                )
            )
            for key in ("approval", "approval_caller")
        }
    )
    # The designer opens the new versions, and the next change rebuilds them again.
    assert files == {
        "approval": ["approval.bpmn", "approval_caller.bpmn", "approval_level.dmn"],
        "approval_caller": ["approval.bpmn", "approval_caller.bpmn", "approval_level.dmn"],
    }
    results = deploy_text(approvals, ("approval_level.dmn", TABLE))
    assert [(r.key, r.version) for r in results] == [("approval", 3), ("approval_caller", 3)]
    assert prepare(approvals, start(approvals, "approval", BOUNDARY))["data"]["level"] == "clerk"


def test_an_identical_table_creates_nothing_and_a_layout_change_no_version(approvals):
    before = counts(approvals)
    assert deploy_text(approvals, ("approval_level.dmn", TABLE)) == []
    assert counts(approvals) == before
    # A changed file whose decisions compile the same (a description only) is stored as a
    # new table file, but no process needs a new version.
    described = TABLE.replace(
        'name="审批层级">', 'name="审批层级"><description>按金额</description>', 1
    )
    assert deploy_text(approvals, ("approval_level.dmn", described)) == []
    assert versions(approvals) == {"approval": 1, "approval_caller": 1, "plain": 1}


def test_a_table_that_drops_a_needed_decision_is_refused_whole(approvals):
    before = counts(approvals)
    renamed = STRICTER.replace('id="approval_level"', 'id="approval_tier"')
    with pytest.raises(DeploymentError) as refused:
        deploy_text(approvals, ("approval_level.dmn", renamed))
    problems = refused.value.details["problems"]
    assert {(p["file"], p["element_id"]) for p in problems} == {
        ("approval_level.dmn", "approval_level")
    }
    assert "'approval_level' is no longer defined, but process 'approval'" in problems[0]["message"]
    assert counts(approvals) == before
    assert prepare(approvals, start(approvals, "approval", BOUNDARY))["data"]["level"] == "clerk"


def test_a_decision_is_renamed_together_with_the_processes_that_run_it(approvals):
    tier = STRICTER.replace('id="approval_level"', 'id="approval_tier"')
    renamed = APPROVAL.replace('decisionRef="approval_level"', 'decisionRef="approval_tier"')
    results = deploy_text(approvals, ("approval_level.dmn", tier), ("approval.bpmn", renamed),
                          ("approval_caller.bpmn", CALLER))  # fmt: skip
    assert [(r.key, r.version, r.created, r.decisions) for r in results] == [
        ("approval", 2, True, ()),
        ("approval_caller", 2, True, ()),
    ]
    assert prepare(approvals, start(approvals, "approval_caller", BOUNDARY))["data"]["level"] == (
        "manager"
    )


def test_a_dependent_that_cannot_be_rebuilt_refuses_the_deploy(approvals):
    # As if approval had been deployed before service tasks were refused: its stored file
    # no longer passes, so it cannot take the new table.
    with approvals.sessions.begin() as session:
        stored = session.scalars(
            select(DeploymentResource).where(DeploymentResource.name == "approval.bpmn")
        ).one()
        stored.content = APPROVAL.replace("bpmn:userTask", "bpmn:serviceTask").encode()
    before = counts(approvals)
    with pytest.raises(DeploymentError) as refused:
        deploy_text(approvals, ("approval_level.dmn", STRICTER))
    (problem,) = refused.value.details["problems"]
    assert (problem["file"], problem["element_id"]) == ("approval.bpmn", "Task_prepare")
    assert problem["message"].startswith(
        "process 'approval' (version 1) runs the changed decision approval_level and cannot "
        "be rebuilt with the new table: bpmn:serviceTask: service tasks are not supported"
    )
    assert counts(approvals) == before


def test_a_decision_without_a_table_is_refused_when_deployed(approvals):
    literal = TABLE.replace(
        TABLE[TABLE.index("<decisionTable") : TABLE.index("</decision>")],
        "<literalExpression id='Literal_level'><text>\"clerk\"</text></literalExpression>",
    )
    with pytest.raises(DeploymentError) as refused:
        deploy_text(approvals, ("approval_level.dmn", literal))
    (problem,) = refused.value.details["problems"]
    assert (problem["file"], problem["element_id"]) == ("approval_level.dmn", "approval_level")
    assert "only decision tables are supported" in problem["message"]


def test_versions_deployed_before_decisions_were_recorded_are_found(approvals):
    with approvals.sessions.begin() as session:
        for definition in session.scalars(select(Definition)):
            definition.meta = {k: v for k, v in definition.meta.items() if k != "decisions"}
    results = deploy_text(approvals, ("approval_level.dmn", STRICTER))
    # The caller's own file runs no decision: it is found through the process it calls.
    assert [(r.key, r.version) for r in results] == [("approval", 2), ("approval_caller", 2)]
    assert versions(approvals)["plain"] == 1
    assert prepare(approvals, start(approvals, "approval", BOUNDARY))["data"]["level"] == "manager"


def test_the_cli_and_the_audit_event_name_the_dependents(approvals, cli, tmp_path):
    path = tmp_path / "approval_level.dmn"
    path.write_text(STRICTER)
    output = cli("deploy", str(path)).output
    assert output.splitlines() == [
        "approval version 2 (decision approval_level changed)",
        "approval_caller version 2 (decision approval_level changed)",
    ]
    payload = approvals.read(
        lambda s: s.scalars(
            select(AuditEvent.payload)
            .where(AuditEvent.command == "deploy")
            .order_by(AuditEvent.id.desc())
        ).first()
    )
    assert payload["files"] == ["approval_level.dmn"]
    assert payload["versions"] == ["approval:2", "approval_caller:2"]
    assert payload["dependents"] == [
        {"version": "approval:2", "decisions": ["approval_level"]},
        {"version": "approval_caller:2", "decisions": ["approval_level"]},
    ]


def test_the_designer_deploy_response_lists_the_dependents(site):  # noqa: F811
    deploy_text(site.engine, ("approval_level.dmn", TABLE), ("approval.bpmn", APPROVAL))
    client = site.client("huang")
    body = send(client, "/designer/deploy", STRICTER, "approval_level.dmn").get_json()
    assert body["ok"] is True and body["version_label"] == "approval_level.dmn"
    assert body["versions"] == []
    assert body["dependents"] == [
        {"key": "approval", "version": 2, "decisions": ["approval_level"]}
    ]
    assert "已部署新版本" in body["message"]
    assert "运行已更改决策的流程也已部署新版本：approval v2 (approval_level)" in body["message"]
    source = client.get("/designer/approval/xml").get_json()
    assert (source["version"], source["file"]) == (2, "approval.bpmn")
    client.get("/lang/en")
    english = send(client, "/designer/deploy", TABLE, "approval_level.dmn").get_json()
    assert (
        "Processes that run a changed decision got a new version too: approval v3"
        in (english["message"])
    )


def test_the_shipped_risk_table_reaches_new_cases_and_warnings(org_app, tmp_path):
    grade_case = Path(__file__).parent / "collection" / "diagrams" / "grade_case.bpmn"
    deploy(org_app, SHIPPED / "debt_collection.bpmn", SHIPPED / "risk_grade.dmn",
           SHIPPED / "risk_warning.bpmn", grade_case)  # fmt: skip
    import_rows(org_app, row("W-1", "1000.00", "2026-03-01"))
    assert run_collection_day(org_app, date(2026, 3, 2)).regraded == ["W-1:-→关注"]
    # A stricter bank: loans more than 60 days overdue are at least 次级.
    stricter = (SHIPPED / "risk_grade.dmn").read_text(encoding="utf-8")
    stricter = stricter.replace("[1..90]</text>", "[1..60]</text>", 1).replace("(90..", "(60..")
    path = tmp_path / "risk_grade.dmn"
    path.write_text(stricter, encoding="utf-8")
    results = deploy(org_app, path)
    # Only the process with a business rule task on risk_grade needs a new version; the
    # warning report and the ladder take their grade from the table at run time.
    assert [(r.key, r.version, r.decisions) for r in results] == [
        ("grade_case", 2, ("risk_grade",))
    ]
    assert versions(org_app) == {"debt_collection": 1, "grade_case": 2, "risk_warning": 1}
    data = {"days_past_due": 61, "product": "loan", "guarantee": "none"}
    case = org_app.execute(StartInstance("grade_case", data=data), actor="tester").id
    assert view(org_app, case)["data"]["grade"] == "次级"
    # Day 61: under the shipped table still 关注; now a downgrade and a warning report.
    assert run_collection_day(org_app, date(2026, 5, 1)).regraded == ["W-1:关注→次级"]
    warning = org_app.read(
        lambda s: s.scalars(
            select(AuditEvent.payload).where(AuditEvent.command == "collection.grade_changed")
        ).all()
    )[-1]["warning_instance"]
    report = view(org_app, warning)
    assert report["definition"] == "risk_warning:1"
    assert (report["data"]["new_grade"], report["data"]["days_past_due"]) == ("次级", 61)
