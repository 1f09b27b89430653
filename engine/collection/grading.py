"""Five-tier risk grade (正常/关注/次级/可疑/损失) by the deployed ``risk_grade`` DMN.

The rules live in ``bpmn/risk_grade.dmn``, editable and redeployable without code.
Grading runs that table through SpiffWorkflow exactly as a business rule task in a
case would: a one-task process whose ``businessRuleTask`` references the decision is
parsed together with the latest deployed DMN (its FEEL tests translated by
:mod:`engine.feel`), and runs on the engine's sandboxed script engine. The parsed
spec is cached per DMN content, so redeploying a changed table changes the next grade.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import feel, safexml
from ..errors import NotFound, ValidationError
from ..parser import CaseClockParser
from ..services import Services
from ..store import DeploymentResource
from .receivables import load_account

DECISION_ID = "risk_grade"
GRADES = ("正常", "关注", "次级", "可疑", "损失")
_PROCESS_ID = "caseclock_risk_grading"
_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_{_PROCESS_ID}"
    targetNamespace="http://caseclock.dev/bpmn">
  <bpmn:process id="{_PROCESS_ID}" isExecutable="true">
    <bpmn:startEvent id="Start_grading"><bpmn:outgoing>Flow_a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_a" sourceRef="Start_grading" targetRef="Rule_grade" />
    <bpmn:businessRuleTask id="Rule_grade" name="risk grade" camunda:decisionRef="{{decision}}">
      <bpmn:incoming>Flow_a</bpmn:incoming><bpmn:outgoing>Flow_b</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="Flow_b" sourceRef="Rule_grade" targetRef="End_grading" />
    <bpmn:endEvent id="End_grading"><bpmn:incoming>Flow_b</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
_CACHE_SIZE = 8
_specs: OrderedDict[tuple[str, str], tuple[Any, Any]] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class Grade:
    receivable: str
    as_of: date
    days_past_due: int
    product: str
    guarantee: str
    grade: str
    dmn_file: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "as_of": self.as_of.isoformat()}


def grade_receivable(
    session: Session, services: Services, key: str, as_of: date, decision: str = DECISION_ID
) -> Grade:
    """Grade one receivable as of ``as_of`` by its days past due, product and guarantee."""
    account = load_account(session, key)
    receivable = account.receivable
    days = account.days_past_due(as_of)
    inputs = {
        "days_past_due": days,
        "product": receivable.product,
        "guarantee": receivable.guarantee,
    }
    name, grade = evaluate(session, services, inputs, decision)
    if grade not in GRADES:
        raise ValidationError(f"decision {decision!r} ({name}) answered {grade!r}, not a grade")
    return Grade(key, as_of, days, receivable.product, receivable.guarantee, grade, name)


def evaluate(
    session: Session, services: Services, inputs: dict[str, Any], decision: str = DECISION_ID
) -> tuple[str, Any]:
    """Run the latest deployed ``decision`` on ``inputs``; return (DMN file, its ``grade``).

    ``grade`` is a list under the COLLECT hit policy (every matching rule's output).
    """
    name, content = _deployed_dmn(session, decision)
    spec, subprocess_specs = _spec(decision, name, content)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=services.script_engine)
    workflow.task_tree.data.update(inputs)
    try:
        workflow.do_engine_steps()
    except SpiffWorkflowException as exc:
        raise ValidationError(f"decision {decision!r} ({name}) failed on {inputs}: {exc}") from exc
    grade = workflow.data.get("grade") if workflow.is_completed() else None
    if grade is None:
        raise ValidationError(f"decision {decision!r} ({name}): no rule matches {inputs}")
    return name, grade


def _deployed_dmn(session: Session, decision: str) -> tuple[str, bytes]:
    """The latest deployed DMN file that defines ``decision``."""
    rows = session.execute(
        select(DeploymentResource.name, DeploymentResource.content)
        .where(DeploymentResource.name.like("%.dmn"))
        .order_by(DeploymentResource.id.desc())
    )
    for name, content in rows:
        tree = safexml.parse(content, name)
        if any(
            etree.QName(el).localname == "decision" and el.get("id") == decision
            for el in tree.getroot()
        ):
            return name, content
    raise NotFound(
        f"decision {decision!r} is not deployed: run `caseclock deploy bpmn/{decision}.dmn`"
    )


def _spec(decision: str, name: str, content: bytes) -> tuple[Any, Any]:
    key = (decision, hashlib.sha256(content).hexdigest())
    with _lock:
        if key in _specs:
            _specs.move_to_end(key)
            return _specs[key]
    parser = CaseClockParser()
    parser.add_dmn_xml(
        feel.translate_dmn(safexml.parse(content, name), name).getroot(), filename=name
    )
    bpmn = _PROCESS.replace("{decision}", decision).encode()
    parser.add_bpmn_xml(safexml.parse(bpmn, "grading.bpmn"), filename="grading.bpmn")
    built = (parser.get_spec(_PROCESS_ID), parser.get_subprocess_specs(_PROCESS_ID))
    with _lock:
        _specs[key] = built
        while len(_specs) > _CACHE_SIZE:
            _specs.popitem(last=False)
    return built
