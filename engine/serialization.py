"""Workflow state to JSON and back, with the spec stored once per definition version.

SpiffWorkflow's default workflow converter embeds the whole spec in every
serialization (and converts it every time). Here the spec is serialized at deploy
into ``definition.spec_json``; an instance row carries only its own state, and
loading one reuses the already-built spec objects of its definition.
"""

from __future__ import annotations

import json
from copy import deepcopy
from datetime import date
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    MessageEventDefinitionConverter,
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import (
    MessageEventDefinition as CamundaMessageEventDefinition,
)

from .boundary_events import RearmingBoundaryEvent, RearmingBoundaryEventConverter
from .timer_events import TIMER_CLASSES


class _StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its specs; restores it onto given spec objects."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        from uuid import UUID

        spec, subprocess_specs = dct.pop("spec"), dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _config() -> dict[type, type]:
    config = deepcopy(CAMUNDA_CONFIG)
    config.pop(CamundaMessageEventDefinition)
    config[MessageEventDefinition] = MessageEventDefinitionConverter
    for cls in TIMER_CLASSES.values():
        config[cls] = TimerConditionalEventDefinitionConverter
    # Same typename as the class it replaces: specs stored before restore as ours.
    config.pop(BoundaryEvent)
    config[RearmingBoundaryEvent] = RearmingBoundaryEventConverter
    config[BpmnWorkflow] = _StateOnlyWorkflowConverter
    return config


class WorkflowSerializer:
    def __init__(self) -> None:
        registry = BpmnWorkflowSerializer.configure(_config())
        registry.register(
            date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"])
        )
        registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
        self._inner = BpmnWorkflowSerializer(registry)
        self._registry = registry

    def spec_to_json(self, spec: Any, subprocess_specs: dict[str, Any]) -> str:
        return json.dumps(
            {
                "spec": self._registry.convert(spec),
                "subprocess_specs": {
                    k: self._registry.convert(v) for k, v in subprocess_specs.items()
                },
            }
        )

    def spec_from_json(self, text: str) -> tuple[Any, dict[str, Any]]:
        dct = json.loads(text)
        subprocess_specs = {
            k: self._registry.restore(v) for k, v in dct["subprocess_specs"].items()
        }
        return self._registry.restore(dct["spec"]), subprocess_specs

    def state_to_json(self, workflow: BpmnWorkflow) -> str:
        return self._inner.serialize_json(workflow)

    def state_from_json(
        self, text: str, spec: Any, subprocess_specs: dict[str, Any]
    ) -> BpmnWorkflow:
        dct = json.loads(text)
        self._inner.migrate(dct)
        dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
        return self._registry.restore(dct)

    def data_to_json_safe(self, data: dict[str, Any]) -> dict[str, Any]:
        """Case data as plain JSON (dates as ISO text) for the ``data`` column and views."""
        return json.loads(json.dumps(data, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)
