"""Loading and saving SpiffWorkflow state, with caches for definitions and live workflows.

Deserializing a workflow costs more than the rest of a command, so a process keeps
the workflows it recently used, keyed by instance id and tagged with the row's
``version``. The instance row is locked first, so the version read is current: a
cached workflow is reused only when no other process has changed the instance since.
Definitions never change once deployed, so their built specs and metadata are cached
for the life of the process.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy.orm import Session

from .errors import NotFound
from .serialization import WorkflowSerializer
from .store import Definition, ProcessInstance


@dataclass(frozen=True)
class LoadedDefinition:
    id: int
    key: str
    version: int
    meta: dict[str, Any]
    spec: Any
    subprocess_specs: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.key}:{self.version}"


class DefinitionCache:
    def __init__(self, serializer: WorkflowSerializer) -> None:
        self._serializer = serializer
        self._loaded: dict[int, LoadedDefinition] = {}
        self._lock = Lock()

    def get(self, session: Session, definition_id: int) -> LoadedDefinition:
        with self._lock:
            loaded = self._loaded.get(definition_id)
        if loaded is None:
            row = session.get(Definition, definition_id)
            if row is None:
                raise NotFound(f"no process definition {definition_id}")
            spec, subprocess_specs = self._serializer.spec_from_json(row.spec_json)
            loaded = LoadedDefinition(
                row.id, row.key, row.version, row.meta, spec, subprocess_specs
            )
            with self._lock:
                self._loaded[definition_id] = loaded
        return loaded


class WorkflowCache:
    def __init__(self, serializer: WorkflowSerializer, size: int) -> None:
        self._serializer = serializer
        self._size = size
        self._entries: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = Lock()

    def load(
        self, instance: ProcessInstance, definition: LoadedDefinition, script_engine: Any
    ) -> BpmnWorkflow:
        with self._lock:
            entry = self._entries.get(instance.id)
            if entry is not None and entry[0] == instance.version:
                self._entries.move_to_end(instance.id)
                return entry[1]
        workflow = self._serializer.state_from_json(
            instance.workflow_state, definition.spec, definition.subprocess_specs
        )
        return _prepared(workflow, script_engine)

    def new(self, definition: LoadedDefinition, script_engine: Any) -> BpmnWorkflow:
        workflow = BpmnWorkflow(
            definition.spec, definition.subprocess_specs, script_engine=script_engine
        )
        return _prepared(workflow, script_engine)

    def save(self, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        """Write the state to the row and remember the workflow under the new version."""
        instance.workflow_state = self._serializer.state_to_json(workflow)
        instance.version += 1
        if instance.id is not None:
            self.remember(instance, workflow)

    def remember(self, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        with self._lock:
            self._entries[instance.id] = (instance.version, workflow)
            self._entries.move_to_end(instance.id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def evict(self, instance_id: int) -> None:
        with self._lock:
            self._entries.pop(instance_id, None)


def _prepared(workflow: BpmnWorkflow, script_engine: Any) -> BpmnWorkflow:
    workflow.script_engine = script_engine
    workflow.released_timers = frozenset()  # see engine.timer_events._released
    workflow.applicant_told = set()  # see engine.applicant_notices.send
    return workflow
